"""Run the anomaly notifier now for one store or every store with sensors
(the periodic task does the same every 15 minutes), or judge a past window
(back-filled history) as the live runs would have:

    manage.py footfall_check_anomalies --from 2026-03-01 --until 2026-05-31 --store PAR01 --store LYO01

Judging the same window twice changes nothing."""

import datetime as dt
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from footfall.models import Sensor
from footfall.services.anomalies import anomalies_detect, anomalies_judge_period
from inventory.models import Location


class Command(BaseCommand):
    help = "Judge recent counts, or a past window, and record anomalies (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--store", action="append", help="Store code, repeatable (default: every store with active sensors)."
        )
        parser.add_argument("--hours", type=int, default=48, help="How many recent hours to judge.")
        parser.add_argument("--from", dest="first", type=dt.date.fromisoformat, help="First store-local day.")
        parser.add_argument("--until", dest="last", type=dt.date.fromisoformat, help="Last store-local day.")

    def handle(self, *args: Any, **options: Any) -> None:
        stores = Location.objects.filter(pk__in=Sensor.objects.filter(is_active=True).values("store_id"))
        if options["store"]:
            known = stores.filter(code__in=options["store"]).values_list("code", flat=True)
            unknown = set(options["store"]) - set(known)
            if unknown:
                raise CommandError(f"No store with active sensors: {', '.join(sorted(unknown))}.")
            stores = stores.filter(code__in=options["store"])
        first, last = options["first"], options["last"]
        if (first is None) != (last is None):
            raise CommandError("--from and --until go together.")
        if first is not None and first > last:
            raise CommandError("--from comes after --until.")
        if first is None:
            self._live(list(stores.order_by("code")), dt.timedelta(hours=options["hours"]))
        else:
            self._past(list(stores.order_by("code")), first, last)

    def _live(self, stores: list[Location], window: dt.timedelta) -> None:
        for store in stores:
            opened = anomalies_detect(store=store, window=window)
            self.stdout.write(f"{store.code}: {_count(len(opened))}")

    def _past(self, stores: list[Location], first: dt.date, last: dt.date) -> None:
        days = (last - first).days + 1
        with tqdm(total=days * len(stores), desc="days judged", unit="day", file=sys.stderr, disable=None) as bar:
            for store in stores:
                opened = anomalies_judge_period(store=store, first=first, last=last, on_day=lambda _: bar.update(1))
                self.stdout.write(f"{store.code} {first}..{last}: {_count(len(opened))}")


def _count(opened: int) -> str:
    return f"{opened} new anomal{'y' if opened == 1 else 'ies'}"
