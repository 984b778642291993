"""What the rules compare with: the store's calendar (opening hours, public
holidays of its country and region, its own closed, event and holiday
days), a sensor's hourly figures, the periods already judged faulty, and
the robust baseline of the same weekday (and hour) over previous weeks."""

import datetime as dt
import math
import statistics
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from footfall.holidays import is_public_holiday
from footfall.models import CalendarDayKind, SensorKind
from inventory import local_time

BASELINE_WEEKS = 6  # the reference's N = 6 to 8 same weekdays
# How far back to look for those six when some weeks are left out (faulty,
# holiday, event): two months and a half, still the same season of trade.
BASELINE_LOOKBACK_WEEKS = 10
BASELINE_MIN_SAMPLES = 3  # fewer usable weeks: not judged
BASELINE_MIN_COVERAGE = 0.9
MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution x 1.4826 = its standard deviation
RELATIVE_FLOOR = 0.10  # week-to-week swings of 10 % are ordinary retail (weather, promotions)
Z_LIMIT = 4.0  # the reference's spike / drop threshold
# A low day: under 60 % of the usual (a manager's "less than two thirds"). A
# partly masked camera or a moved counting line loses 30 to 70 % of the day.
LOW_DAY_SHARE = 0.6


@dataclass(frozen=True)
class HourStat:
    in_count: int
    out_count: int
    coverage: float  # 0..1 of the hour covered by received data


@dataclass
class SensorSeries:
    """Hourly figures of one sensor keyed by the UTC start of each local hour.
    ``judged_from``: when the sensor started counting (its first interval, or
    its creation if it never sent one); nothing earlier is judged, so history
    judged after a back-fill does not call the time before the sensor existed
    missing data. None: every hour asked is judged."""

    sensor_id: int
    kind: str
    hours: dict[dt.datetime, HourStat]
    judged_from: dt.datetime | None = None

    def traffic(self, stat: HourStat) -> int:
        return stat.in_count + stat.out_count if self.kind == SensorKind.WINDOW else stat.in_count


@dataclass(frozen=True)
class StoreCalendar:
    """When a store is open (its weekly opening hours, store-local), which
    days are public holidays in its country and region, and its own days
    (``StoreCalendarDay``: date -> closed, event or holiday)."""

    tz: Any
    opening_hours: dict[str, list[list[str]]]
    country: str
    subdivision: str = ""
    days: dict[dt.date, str] = field(default_factory=dict)

    def _intervals(self, day: dt.date) -> list[tuple[int, int]]:
        return [(_minutes(a), _minutes(b)) for a, b in self.opening_hours.get(str(day.isoweekday()), [])]

    def open_state(self, local_start: dt.datetime) -> str:
        """ "open" (the whole hour), "closed" (none of it, or a closed day),
        "partial", or "unknown" when the store has no opening hours."""
        if self.days.get(local_start.date()) == CalendarDayKind.CLOSED:
            return "closed"
        if not self.opening_hours:
            return "unknown"
        first = local_start.hour * 60 + local_start.minute
        last = first + 60
        overlap = sum(max(0, min(last, b) - max(first, a)) for a, b in self._intervals(local_start.date()))
        return "open" if overlap >= 60 else ("closed" if overlap == 0 else "partial")

    def is_closed_day(self, day: dt.date) -> bool:
        return self.days.get(day) == CalendarDayKind.CLOSED

    def is_event(self, day: dt.date) -> bool:
        return self.days.get(day) == CalendarDayKind.EVENT

    def is_holiday(self, day: dt.date) -> bool:
        return self.days.get(day) == CalendarDayKind.HOLIDAY or is_public_holiday(self.country, day, self.subdivision)

    def is_ordinary(self, day: dt.date) -> bool:
        """A day to judge against the usual and to learn the usual from."""
        return day not in self.days and not is_public_holiday(self.country, day, self.subdivision)


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


Span = tuple[dt.datetime, dt.datetime]


class Exclusions:
    """Periods of a sensor already judged faulty (its stored anomalies, open
    or resolved, of every kind), left out of every baseline. A level that
    moved stays an anomaly until it is mended: it never becomes the usual
    (that would make the mend look like a shift the other way)."""

    def __init__(self, spans: Iterable[tuple[dt.datetime, dt.datetime]]):
        self.spans: list[Span] = sorted(spans)


def overlaps(spans: list[Span], start: dt.datetime, end: dt.datetime) -> bool:
    return any(low < end and start < high for low, high in spans)


@dataclass(frozen=True)
class Baseline:
    """Median and spread of the usual. Traffic is skewed upwards (events add
    people, little takes them away), so a value below the median is measured
    against the spread of the weeks below it (``low_spread``), one above
    against the spread of all of them."""

    median: float
    spread: float
    samples: int
    low_spread: float = 0.0

    @property
    def low(self) -> float:
        return max(self.median - Z_LIMIT * (self.low_spread or self.spread), 0.0)

    @property
    def high(self) -> float:
        return self.median + Z_LIMIT * self.spread

    def z(self, value: float) -> float:
        below = value < self.median and self.low_spread
        return (value - self.median) / (self.low_spread if below else self.spread)


def robust_baseline(values: list[float], relative_floor: float = RELATIVE_FLOOR) -> Baseline | None:
    if len(values) < BASELINE_MIN_SAMPLES:
        return None
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    below = [median - v for v in values if v <= median]
    low_mad = statistics.median(below) if below else mad
    # Never below what ordinary variation gives: Poisson noise of the count
    # (variance = mean) plus a day-to-day swing of ``relative_floor``, in quadrature.
    floor = max(math.sqrt(median + (relative_floor * median) ** 2), 1.0)
    spread = max(MAD_TO_SIGMA * mad, floor)
    return Baseline(median, spread, len(values), max(MAD_TO_SIGMA * low_mad, floor))


@dataclass(frozen=True)
class Sample:
    """One usable week of a baseline: its value and the span it covers."""

    value: float
    start: dt.datetime
    end: dt.datetime


def same_hour_weeks_before(local: dt.datetime, tz: Any) -> Iterator[tuple[dt.date, dt.datetime]]:
    """(day, UTC start) of the same local weekday and hour in previous weeks."""
    for weeks in range(1, BASELINE_LOOKBACK_WEEKS + 1):
        day = local.date() - dt.timedelta(weeks=weeks)
        start, wall = local_time.local_to_utc(dt.datetime.combine(day, local.time().replace(tzinfo=None)), tz)
        if wall != local_time.WallClock.NONEXISTENT:
            yield day, start


def hour_history(
    series: SensorSeries, local: dt.datetime, calendar: StoreCalendar, value: Callable[[HourStat], float]
) -> list[Sample]:
    """The same weekday and hour of the previous weeks that were ordinary
    days with data, newest first (not yet filtered by exclusions)."""
    out = []
    for day, start in same_hour_weeks_before(local, calendar.tz):
        stat = series.hours.get(start)
        if stat is not None and stat.coverage >= BASELINE_MIN_COVERAGE and calendar.is_ordinary(day):
            out.append(Sample(value(stat), start, start + dt.timedelta(hours=1)))
    return out


def usable(samples: list[Sample], excluded: list[Span]) -> list[float]:
    """The newest ``BASELINE_WEEKS`` samples outside the excluded periods."""
    kept = [s.value for s in samples if not overlaps(excluded, s.start, s.end)]
    return kept[:BASELINE_WEEKS]
