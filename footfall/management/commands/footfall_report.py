"""Send a store's weekly or monthly footfall report now (the scheduled task
sends each period once; this command sends on demand).

    manage.py footfall_report --store PAR01 --frequency weekly
    manage.py footfall_report --store PAR01 --frequency monthly --period-start 2026-10-01 --to me@example.com
    manage.py footfall_report --store PAR01 --frequency weekly --language en --save-pdf /tmp/report.pdf
"""

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from footfall.models import ReportFrequency
from footfall.services.report_render import store_report_preview, store_report_render
from footfall.services.reports import (
    last_complete_period,
    period_containing,
    report_recipients,
    store_language,
    store_report_build,
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
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            help="Language of --to and --save-pdf (default: the store's: French in France, English elsewhere).",
        )
        parser.add_argument("--save-pdf", type=Path, help="Also write the PDF here.")
        parser.add_argument(
            "--save-html", type=Path, help="Also write the email's HTML here, charts included (opens in a browser)."
        )

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
        language = options["language"] or store_language(store)
        report = store_report_build(store=store, period=period)
        rendered = {}
        if options["save_pdf"]:
            rendered[language] = store_report_render(report, language=language)
            options["save_pdf"].write_bytes(rendered[language].pdf)
            self.stdout.write(f"PDF written to {options['save_pdf']}")
        if options["save_html"]:
            options["save_html"].write_text(store_report_preview(report, language=language), encoding="utf-8")
            self.stdout.write(f"HTML written to {options['save_html']}")
        recipients = {language: options["to"]} if options["to"] else report_recipients(store=store, frequency=frequency)
        if not recipients:
            self.stdout.write("No recipient: add one in the admin (footfall report recipients) or pass --to.")
            return
        store_report_send(
            store=store, period=period, recipients=recipients, force=True, report=report, rendered=rendered
        )
        addresses = sorted(email for emails in recipients.values() for email in emails)
        self.stdout.write(
            f"{frequency} report of {store.code} for {period.first}..{period.last} sent to {', '.join(addresses)}"
        )
