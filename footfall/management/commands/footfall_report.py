"""Send a store's weekly or monthly footfall report now (the scheduled task
sends each period once; this command sends on demand).

    manage.py footfall_report --store PAR01 --frequency weekly
    manage.py footfall_report --store PAR01 --frequency monthly --period-start 2026-10-01 --to me@example.com
    manage.py footfall_report --store PAR01 --frequency weekly --save-pdf /tmp/report.pdf
"""

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from footfall.models import ReportFrequency
from footfall.services.reports import (
    last_complete_period,
    period_containing,
    report_recipients,
    store_report_build,
    store_report_render,
    store_report_send,
)
from inventory import local_time
from inventory.models import Location, LocationKind


class Command(BaseCommand):
    help = "Email a store's footfall report (HTML with charts, PDF attached) for a week or a month."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--store", required=True, help="Store code.")
        parser.add_argument("--frequency", choices=ReportFrequency.values, default=ReportFrequency.WEEKLY)
        parser.add_argument(
            "--period-start", type=dt.date.fromisoformat, help="A day of the period (default: the last complete one)."
        )
        parser.add_argument("--to", action="append", help="Recipient (repeatable); default: the store's recipients.")
        parser.add_argument("--save-pdf", type=Path, help="Also write the PDF here.")

    def handle(self, *args: Any, **options: Any) -> None:
        store = Location.objects.filter(code=options["store"], kind=LocationKind.STORE).first()
        if store is None:
            raise CommandError(f"No store {options['store']!r}.")
        frequency = options["frequency"]
        if options["period_start"]:
            period = period_containing(frequency, options["period_start"])
        else:
            period = last_complete_period(
                frequency, local_time.local_date(timezone.now(), local_time.zone(store.time_zone))
            )
        rendered = store_report_render(store_report_build(store=store, period=period))
        if options["save_pdf"]:
            options["save_pdf"].write_bytes(rendered.pdf)
            self.stdout.write(f"PDF written to {options['save_pdf']}")
        recipients = options["to"] or report_recipients(store=store, frequency=frequency)
        if not recipients:
            self.stdout.write("No recipient: add one in the admin (footfall report recipients) or pass --to.")
            return
        store_report_send(store=store, period=period, recipients=recipients, force=True, rendered=rendered)
        self.stdout.write(f"{frequency} report of {store.code} for {period.label} sent to {', '.join(recipients)}")
