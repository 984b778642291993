"""Run the anomaly notifier now for one store or every store with sensors
(the periodic task does the same every 15 minutes)."""

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from footfall.models import Sensor
from footfall.services.anomalies import anomalies_detect
from inventory.models import Location


class Command(BaseCommand):
    help = "Judge recent counts and record anomalies (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--store", help="Store code (default: every store with active sensors).")
        parser.add_argument("--hours", type=int, default=48, help="How many recent hours to judge.")

    def handle(self, *args: Any, **options: Any) -> None:
        stores = Location.objects.filter(pk__in=Sensor.objects.filter(is_active=True).values("store_id"))
        if options["store"]:
            stores = stores.filter(code=options["store"])
            if not stores.exists():
                raise CommandError(f"No store {options['store']!r} with active sensors.")
        window = dt.timedelta(hours=options["hours"])
        for store in stores.order_by("code"):
            opened = anomalies_detect(store=store, window=window)
            self.stdout.write(f"{store.code}: {len(opened)} new anomal{'y' if len(opened) == 1 else 'ies'}")
