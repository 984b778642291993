"""What ingest works with: the sensors a batch names, the rows it writes
and the answer each record gets."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

MAX_INTERVAL = dt.timedelta(days=1)
# Device clocks drift; an interval may start this far in the future.
CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclass(slots=True)
class SensorRef:
    id: int
    code: str
    store_id: int
    device_id: int | None
    is_active: bool
    tz: Any


@dataclass
class RecordResult:
    index: int
    locator: str
    status: str = "rejected"
    subject: str | None = None  # the sensor or store code the record names
    start: dt.datetime | None = None
    errors: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)


@dataclass
class IngestOutcome:
    results: list[RecordResult]

    def count(self, status: str) -> int:
        return sum(1 for result in self.results if result.status == status)


@dataclass(slots=True)
class IntervalRow:
    """One interval to write; ``index`` -1 for a stored neighbour whose delta
    changed because a cumulative reading arrived before it."""

    index: int
    sensor: SensorRef
    start: dt.datetime
    end: dt.datetime
    in_count: int
    out_count: int
    samples: int | None
    samples_expected: int | None
    in_cumulative: int | None = None
    out_cumulative: int | None = None


def record_error(result: RecordResult, field_name: str, code: str, message: str) -> None:
    result.errors.append({"field": field_name, "code": code, "message": message})
