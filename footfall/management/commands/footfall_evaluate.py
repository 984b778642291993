"""Measure the anomaly notifier: inject every kind of fault it claims into a
clean series at seeded random days, judge in memory with the service's own
detection code, and print per kind recall and precision and the clean
series' alarms per week (``footfall.evaluation``).

Without ``--file``, the simulator's Paris store; with it, real counts in the
CalIt2 layout, read in ``--time-zone`` with the given opening hours:

    manage.py footfall_evaluate --file calit2_door_counts.csv --time-zone America/Los_Angeles
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from footfall.evaluation import Report, evaluate, read_calit2, simulator_source
from footfall.evaluation.faults import INJECTORS
from inventory import local_time
from inventory.models import holiday_subdivisions, iana_time_zones


class Command(BaseCommand):
    help = "Score the anomaly notifier on injected faults (recall, precision, clean alarms per week)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, help="Counts in the CalIt2 layout (default: the simulator).")
        parser.add_argument("--time-zone", default="America/Los_Angeles", help="The file's store zone.")
        parser.add_argument("--country", default="US", help="The file's store country (public holidays).")
        parser.add_argument("--subdivision", default="CA", help="The file's store region (public holidays).")
        parser.add_argument("--opens", default="08:00", help="The file's store opening time, HH:MM.")
        parser.add_argument("--closes", default="18:00", help="The file's store closing time, HH:MM.")
        parser.add_argument("--weekdays", default="1-5", help="ISO weekdays open, a range such as 1-5.")
        parser.add_argument("--weeks", type=int, default=14, help="Simulator: weeks of counts.")
        parser.add_argument("--series-seed", type=int, default=20260316, help="Simulator: seed of the series.")
        parser.add_argument("--runs", type=int, default=3, help="Runs per kind, each with its own fault days.")
        parser.add_argument("--faults-per-run", type=int, default=3)
        parser.add_argument("--seed", type=int, default=1, help="Seed of the fault days and figures.")
        parser.add_argument("--kind", action="append", choices=sorted(INJECTORS), help="Only these kinds.")
        parser.add_argument("--show", action="store_true", help="List missed faults and false alarms.")

    def handle(self, *args: Any, **options: Any) -> None:
        source = self._source(options)
        kinds = options["kind"] or list(INJECTORS)
        with tqdm(total=len(kinds) * options["runs"], desc="runs", unit="run", disable=None) as bar:
            report = evaluate(
                source,
                kinds=kinds,
                runs=options["runs"],
                faults_per_run=options["faults_per_run"],
                seed=options["seed"],
                progress=lambda: bar.update(1),
            )
        self.stdout.write(f"source: {source.name}, judged {source.judged_from} .. {source.last}")
        for line in report.lines():
            self.stdout.write(line)
        if options["show"]:
            self._show(report, source.calendar.tz)

    def _source(self, options: dict[str, Any]) -> Any:
        if options["file"] is None:
            return simulator_source(weeks=options["weeks"], seed=options["series_seed"])
        if options["time_zone"] not in iana_time_zones():
            raise CommandError(f"{options['time_zone']!r} is not an IANA time zone.")
        if options["subdivision"] and options["subdivision"] not in holiday_subdivisions(options["country"]):
            raise CommandError(f"{options['subdivision']!r} is not a known region of {options['country']!r}.")
        try:
            first, last = (int(x) for x in options["weekdays"].split("-"))
        except ValueError as exc:
            raise CommandError("--weekdays is a range such as 1-5.") from exc
        hours = {str(day): [[options["opens"], options["closes"]]] for day in range(first, last + 1)}
        try:
            return read_calit2(
                options["file"],
                time_zone=options["time_zone"],
                opening_hours=hours,
                country=options["country"],
                subdivision=options["subdivision"],
            )
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc

    def _show(self, report: Report, tz: Any) -> None:
        for fault in report.missed:
            self.stdout.write(f"missed {fault.kind:22} {local_time.rfc3339(fault.start, tz)}")
        for anomaly in report.false_alarms:
            self.stdout.write(
                f"false  {anomaly.kind:22} {local_time.rfc3339(anomaly.period_start, tz)} {anomaly.details}"
            )
        for anomaly in report.clean_alarms:
            self.stdout.write(
                f"clean  {anomaly.kind:22} {local_time.rfc3339(anomaly.period_start, tz)} "
                f"actual={anomaly.actual:.0f} expected={anomaly.expected}"
            )
