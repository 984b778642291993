"""Import a CSV file of door counts into one sensor, through the same ingest
as the API (per-record checks, upsert, daily totals).

Columns are mapped on the command line; two layouts are understood:
- wide: one row per interval with an in and an out column;
- long: one row per interval and direction, a column telling the direction
  (``--direction-column`` with ``--in-value`` / ``--out-value``) and a count.
Times without an offset are store-local. ``--end-on`` shifts the whole file
by whole weeks (weekdays stay weekdays) so its last day lands on that date.

The CalIt2 building counts (UCI; flow 9 = in, 7 = out, MM/DD/YY, 30 minutes,
no header) have a preset:

    manage.py footfall_import_csv calit2_door_counts.csv --sensor LYO01-E2 --preset calit2 --end-on 2026-11-21

Every warning and every rejection of the ingest is printed, one line each
with the interval's local start as the file gave it, and a summary ends the
run: rows read, intervals created / updated / unchanged / rejected, warnings
and rejections by code, the sensors whose counts changed and the time range
of the intervals stored (UTC).
"""

import csv
import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from footfall.models import Sensor
from footfall.services.adapters import MAX_BATCH_RECORDS, CountRecord
from footfall.services.ingest import count_intervals_ingest
from footfall.services.records import RecordResult
from gateway.api.instants import instant_text

PRESETS: dict[str, dict[str, Any]] = {
    "calit2": {
        "columns": "flow_id,date,time,count",
        "date_column": "date",
        "date_format": "%m/%d/%y",
        "time_column": "time",
        "time_format": "%H:%M:%S",
        "direction_column": "flow_id",
        "in_value": "9",
        "out_value": "7",
        "count_column": "count",
        "interval_minutes": 30,
    },
}


@dataclass
class ImportSummary:
    """What one import did, added up over its batches."""

    rows_read: int
    statuses: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)
    rejections: Counter[str] = field(default_factory=Counter)
    sensors_touched: set[str] = field(default_factory=set)
    first_start: dt.datetime | None = None
    last_end: dt.datetime | None = None

    def add(self, result: RecordResult, length: dt.timedelta) -> None:
        self.statuses[result.status] += 1
        self.warnings.update(warning["code"] for warning in result.warnings)
        self.rejections.update(error["code"] for error in result.errors)
        if result.status in ("created", "updated") and result.subject:
            self.sensors_touched.add(result.subject)
        if result.status != "rejected" and result.start is not None:
            self.first_start = min(filter(None, [self.first_start, result.start]))
            self.last_end = max(filter(None, [self.last_end, result.start + length]))

    def lines(self) -> list[str]:
        statuses = ", ".join(f"{s} {self.statuses[s]}" for s in ("created", "updated", "unchanged", "rejected"))
        span = (
            f"{instant_text(self.first_start)} .. {instant_text(self.last_end)}"
            if self.first_start and self.last_end
            else "none"
        )
        return [
            f"rows read: {self.rows_read}",
            f"intervals: {statuses}",
            f"warnings: {_by_code(self.warnings)}",
            f"rejections: {_by_code(self.rejections)}",
            f"sensors touched: {', '.join(sorted(self.sensors_touched)) or 'none'}",
            f"time range (stored intervals, UTC): {span}",
        ]


def _by_code(counts: Counter[str]) -> str:
    return ", ".join(f"{code} {n}" for code, n in sorted(counts.items())) or "none"


class Command(BaseCommand):
    help = "Import door counts from a CSV file into one sensor, with a column mapping."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--sensor", required=True, help="Code of the sensor the counts belong to.")
        parser.add_argument("--preset", choices=sorted(PRESETS), help="A known file layout (sets the options below).")
        parser.add_argument("--columns", help="Column names of a file without a header, comma-separated.")
        parser.add_argument("--start-column", help="One column with the start date and time.")
        parser.add_argument("--start-format", default="%Y-%m-%d %H:%M:%S", help="strptime format of --start-column.")
        parser.add_argument("--date-column", help="Or: a date column ...")
        parser.add_argument("--date-format", default="%Y-%m-%d")
        parser.add_argument("--time-column", help="... and a time column.")
        parser.add_argument("--time-format", default="%H:%M:%S")
        parser.add_argument("--in-column", help="Wide layout: the entries column.")
        parser.add_argument("--out-column", help="Wide layout: the exits column.")
        parser.add_argument("--direction-column", help="Long layout: the column telling in from out.")
        parser.add_argument("--in-value", help="Long layout: the direction value meaning in.")
        parser.add_argument("--out-value", help="Long layout: the direction value meaning out.")
        parser.add_argument("--count-column", help="Long layout: the count column.")
        parser.add_argument("--interval-minutes", type=int, default=15)
        shift = parser.add_mutually_exclusive_group()
        shift.add_argument("--date-offset-days", type=int, default=0, help="Move every time by this many days.")
        shift.add_argument("--end-on", type=dt.date.fromisoformat, help="Shift by whole weeks to end on this day.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["preset"]:
            options.update(PRESETS[options["preset"]])
        sensor = Sensor.objects.filter(code=options["sensor"]).first()
        if sensor is None:
            raise CommandError(f"No sensor {options['sensor']!r}.")
        counts, rows_read = self._read(options)
        if not counts:
            raise CommandError("The file holds no interval.")
        offset = self._offset(options, max(counts))
        length = dt.timedelta(minutes=options["interval_minutes"])
        records = [
            CountRecord(
                locator=f"{start:%Y-%m-%d %H:%M}",
                sensor_code=sensor.code,
                start=start + offset,
                end=start + offset + length,
                in_value=figures.get("in", 0),
                out_value=figures.get("out", 0),
            )
            for start, figures in sorted(counts.items())
        ]
        self.stdout.write(f"{len(records)} intervals shifted by {offset.days} days")
        summary = self._ingest(records, ImportSummary(rows_read=rows_read), length)
        for line in summary.lines():
            self.stdout.write(line)

    def _read(self, options: dict[str, Any]) -> tuple[dict[dt.datetime, dict[str, int]], int]:
        """The counts per local start, and how many data rows the file had."""
        counts: dict[dt.datetime, dict[str, int]] = defaultdict(dict)
        line = 0
        with options["file"].open(newline="", encoding="utf-8-sig") as handle:
            names = options["columns"].split(",") if options["columns"] else None
            for line, row in enumerate(csv.DictReader(handle, fieldnames=names), start=1):
                try:
                    start = self._start(row, options)
                    for direction, value in self._directions(row, options):
                        counts[start][direction] = counts[start].get(direction, 0) + value
                except (KeyError, ValueError, TypeError) as exc:
                    raise CommandError(f"line {line}: {exc!r} in {row}") from exc
        return counts, line

    @staticmethod
    def _start(row: dict[str, str], options: dict[str, Any]) -> dt.datetime:
        if options["start_column"]:
            return dt.datetime.strptime(row[options["start_column"]], options["start_format"])  # noqa: DTZ007  # store-local
        day = dt.datetime.strptime(row[options["date_column"]], options["date_format"]).date()  # noqa: DTZ007  # a date
        time = dt.datetime.strptime(row[options["time_column"]], options["time_format"]).time()  # noqa: DTZ007  # a time
        return dt.datetime.combine(day, time)

    @staticmethod
    def _directions(row: dict[str, str], options: dict[str, Any]) -> list[tuple[str, int]]:
        if options["direction_column"]:
            direction = row[options["direction_column"]]
            named = {options["in_value"]: "in", options["out_value"]: "out"}.get(direction)
            return [(named, int(row[options["count_column"]]))] if named else []
        return [("in", int(row[options["in_column"]])), ("out", int(row[options["out_column"]]))]

    @staticmethod
    def _offset(options: dict[str, Any], last: dt.datetime) -> dt.timedelta:
        if options["end_on"]:
            return dt.timedelta(weeks=(options["end_on"] - last.date()).days // 7)
        return dt.timedelta(days=options["date_offset_days"])

    def _ingest(self, records: list[CountRecord], summary: ImportSummary, length: dt.timedelta) -> ImportSummary:
        for chunk in range(0, len(records), MAX_BATCH_RECORDS):
            outcome = count_intervals_ingest(caller=None, records=records[chunk : chunk + MAX_BATCH_RECORDS])
            for result in outcome.results:
                summary.add(result, length)
                for warning in result.warnings:
                    self.stdout.write(f"warning {result.locator}: {warning['code']} ({warning['message']})")
                for error in result.errors:
                    self.stdout.write(f"rejected {result.locator}: {error['code']} ({error['message']})")
        return summary
