"""Runs the slot release once, now (what beat does every minute), inline or
through the Celery worker (``--celery``, waits for the result)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from commerce.services.release import slots_release_due
from commerce.tasks import release_pickup_slots


class Command(BaseCommand):
    help = "Release the pickup slots whose release instant has passed (and pre-create those opening soon)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--celery", action="store_true", help="Run it as the Celery task and wait for it.")
        parser.add_argument("--timeout", type=float, default=60.0)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["celery"]:
            count = release_pickup_slots.apply_async(ignore_result=False).get(timeout=options["timeout"])
            self.stdout.write(f"{count} store-days released (Celery)")
            return
        days = slots_release_due()
        released = [day for day in days if day.released]
        created = sum(day.slots_created for day in days)
        self.stdout.write(f"{len(released)} store-days released, {created} slots written")
