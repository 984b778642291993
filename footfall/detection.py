"""The anomaly notifier's judgement, as pure functions over hourly figures
(no database here: ``footfall.services.anomalies`` loads and stores).

Each rule gives, per local hour (or per local day), a verdict: a fault with
what was measured and what was expected, or clean, or nothing when the hour
cannot be judged (too little history, a holiday). Methods (footfall
reference, section B.6, "recommended notifier design"):

- baseline: the same weekday and local hour over the previous
  ``BASELINE_WEEKS`` weeks, skipping public holidays and hours with less
  than ``BASELINE_MIN_COVERAGE`` of their data; robust centre and spread
  (median, 1.4826 x MAD), the spread never below ordinary variation:
  Poisson noise (variance = median) and a day-to-day swing of
  ``RELATIVE_FLOOR`` of the median, added in quadrature;
- spike / drop: ``|x - median| > Z_LIMIT x spread``;
- zero counts while open, counts while closed (opening hours of the store),
  missing data while open (completeness under one half, Telraam's cut);
- direction: exits far above entries over a day, and entries and exits
  swapped (the hour-by-hour "exits minus entries" profile mirrors the usual
  one of that weekday);
- a holiday is never judged against ordinary days (baseline rules skip it)."""

import datetime as dt
import math
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from footfall.holidays import is_public_holiday
from footfall.models import AnomalyKind, SensorKind
from inventory import local_time

BASELINE_WEEKS = 6  # the reference's N = 6 to 8 same weekdays
BASELINE_MIN_SAMPLES = 3  # fewer usable weeks: not judged
BASELINE_MIN_COVERAGE = 0.9
MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution x 1.4826 = its standard deviation
RELATIVE_FLOOR = 0.10  # week-to-week swings of 10 % are ordinary retail (weather, promotions)
Z_LIMIT = 4.0  # the reference's spike / drop threshold
MISSING_BELOW = 0.5  # completeness under which an hour counts as missing (telraamStats uptime 0.5)
ZERO_MIN_MEDIAN = 5.0  # P(0 | Poisson mean 5) = 0.7 %, so a zero where 5+ is usual is suspicious
CLOSED_MIN_ENTRIES = 10  # staff and deliveries make a few counts while closed
EXITS_RATIO, EXITS_MARGIN = 1.2, 20  # exits > 1.2 x entries + 20 over a day: |in - out| / max > 20 %
REVERSED_BELOW = -0.25  # projection on the usual profile: about +1 normally, about -1 when swapped
REVERSED_MAX_NOISE = 0.35  # standard error of the projection above which the day is not judged
MIN_RUN: dict[str, int] = {AnomalyKind.ZERO_COUNTS: 2, AnomalyKind.DROP: 2}  # hours in a row before a first alarm

METHODS: dict[str, str] = {
    AnomalyKind.MISSING_DATA: "completeness (received interval time x device samples ratio) below 0.5 "
    "in an hour the store is open",
    AnomalyKind.ZERO_COUNTS: "zero counts in open hours where the same weekday and hour of the previous "
    "non-holiday weeks has a median of at least 5; two hours in a row",
    AnomalyKind.CLOSED_HOURS_COUNTS: "at least 10 entries in an hour the store is closed, and above the usual "
    "for that weekday and hour (median + 4 x spread)",
    AnomalyKind.SPIKE: "above median + 4 x spread of the same weekday and hour over the previous 6 non-holiday "
    "weeks (spread = max(1.4826 x MAD, sqrt(median + (0.1 x median)^2)))",
    AnomalyKind.DROP: "below median - 4 x spread of the same weekday and hour over the previous 6 non-holiday "
    "weeks (spread = max(1.4826 x MAD, sqrt(median + (0.1 x median)^2))); two hours in a row",
    AnomalyKind.REVERSED_DIRECTION: "exits minus entries, hour by hour over the day, projected on the usual "
    "profile of that weekday (median of the previous non-holiday weeks): about +1 normally, about -1 when "
    "entries and exits are swapped; flagged below -0.25",
    AnomalyKind.EXITS_EXCEED_ENTRIES: "exits above 1.2 x entries + 20 over the day",
}
# How the figures of consecutive periods of one anomaly add up.
WORST_OF: set[str] = {AnomalyKind.REVERSED_DIRECTION}


@dataclass(frozen=True)
class HourStat:
    in_count: int
    out_count: int
    coverage: float  # 0..1 of the hour covered by received data


@dataclass(frozen=True)
class Verdict:
    kind: str
    start: dt.datetime
    end: dt.datetime
    fault: bool
    metric: str = ""
    actual: float = 0.0
    expected: float | None = None
    low: float | None = None
    high: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Baseline:
    median: float
    spread: float
    samples: int

    @property
    def low(self) -> float:
        return max(self.median - Z_LIMIT * self.spread, 0.0)

    @property
    def high(self) -> float:
        return self.median + Z_LIMIT * self.spread

    def z(self, value: float) -> float:
        return (value - self.median) / self.spread


def robust_baseline(values: list[float]) -> Baseline | None:
    if len(values) < BASELINE_MIN_SAMPLES:
        return None
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    # Never below what ordinary variation gives: Poisson noise of the count
    # (variance = mean) plus a day-to-day swing of RELATIVE_FLOOR, in quadrature.
    floor = math.sqrt(median + (RELATIVE_FLOOR * median) ** 2)
    spread = max(MAD_TO_SIGMA * mad, floor, 1.0)
    return Baseline(median, spread, len(values))


@dataclass(frozen=True)
class StoreCalendar:
    """When a store is open (its weekly opening hours, store-local) and
    which days are public holidays in its country."""

    tz: Any
    opening_hours: dict[str, list[list[str]]]
    country: str

    def _intervals(self, day: dt.date) -> list[tuple[int, int]]:
        out = []
        for opens, closes in self.opening_hours.get(str(day.isoweekday()), []):
            out.append((_minutes(opens), _minutes(closes)))
        return out

    def open_state(self, local_start: dt.datetime) -> str:
        """ "open" (the whole hour), "closed" (none of it), "partial", or
        "unknown" when the store has no opening hours."""
        if not self.opening_hours:
            return "unknown"
        first = local_start.hour * 60 + local_start.minute
        last = first + 60
        overlap = sum(max(0, min(last, b) - max(first, a)) for a, b in self._intervals(local_start.date()))
        return "open" if overlap >= 60 else ("closed" if overlap == 0 else "partial")

    def is_holiday(self, day: dt.date) -> bool:
        return is_public_holiday(self.country, day)


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


@dataclass
class SensorSeries:
    """Hourly figures of one sensor keyed by the UTC start of each local hour."""

    sensor_id: int
    kind: str
    hours: dict[dt.datetime, HourStat]

    def traffic(self, stat: HourStat) -> int:
        return stat.in_count + stat.out_count if self.kind == SensorKind.WINDOW else stat.in_count


def _same_hour_weeks_before(local: dt.datetime, tz: Any) -> Iterator[tuple[dt.date, dt.datetime]]:
    """(day, UTC start) of the same local weekday and hour in previous weeks."""
    for weeks in range(1, BASELINE_WEEKS + 1):
        day = local.date() - dt.timedelta(weeks=weeks)
        start, wall = local_time.local_to_utc(dt.datetime.combine(day, local.time().replace(tzinfo=None)), tz)
        if wall != local_time.WallClock.NONEXISTENT:
            yield day, start


def _history(
    series: SensorSeries, local: dt.datetime, calendar: StoreCalendar, value: Callable[[HourStat], float]
) -> list[float]:
    values = []
    for day, start in _same_hour_weeks_before(local, calendar.tz):
        stat = series.hours.get(start)
        if stat is not None and stat.coverage >= BASELINE_MIN_COVERAGE and not calendar.is_holiday(day):
            values.append(value(stat))
    return values


def judge_hours(
    series: SensorSeries, calendar: StoreCalendar, hours: list[local_time.Bucket]
) -> dict[str, list[Verdict]]:
    """Hour rules over ``hours`` (local hours, in time order)."""
    verdicts: dict[str, list[Verdict]] = {}
    for bucket in hours:
        for verdict in _judge_hour(series, calendar, bucket):
            verdicts.setdefault(verdict.kind, []).append(verdict)
    return verdicts


def _judge_hour(series: SensorSeries, calendar: StoreCalendar, bucket: local_time.Bucket) -> list[Verdict]:
    local = bucket.start.astimezone(calendar.tz)
    state = calendar.open_state(local)
    stat = series.hours.get(bucket.start, HourStat(0, 0, 0.0))
    span = (bucket.start, bucket.end)
    out: list[Verdict] = []
    if state == "open":
        missing = stat.coverage < MISSING_BELOW
        out.append(
            Verdict(
                AnomalyKind.MISSING_DATA,
                *span,
                missing,
                "covered_seconds",
                stat.coverage * 3600,
                3600.0,
                1800.0,
                3600.0,
            )
        )
        if missing:
            return out
    baseline = robust_baseline(_history(series, local, calendar, series.traffic))
    if state == "closed" and series.kind != SensorKind.WINDOW:  # the street is busy when the store is shut
        return out + _judge_closed(series, stat, baseline, span)
    if stat.coverage < MISSING_BELOW or baseline is None or calendar.is_holiday(local.date()):
        return out
    return out + _judge_against_baseline(series, stat, baseline, span, state)


def _judge_closed(
    series: SensorSeries, stat: HourStat, baseline: Baseline | None, span: tuple[dt.datetime, dt.datetime]
) -> list[Verdict]:
    limit = max(float(CLOSED_MIN_ENTRIES), baseline.high if baseline else 0.0)
    fault = stat.in_count >= limit
    detail = {"usual_median": baseline.median if baseline else None}
    return [
        Verdict(
            AnomalyKind.CLOSED_HOURS_COUNTS,
            *span,
            fault,
            "in",
            stat.in_count,
            baseline.median if baseline else 0.0,
            0.0,
            limit,
            detail,
        )
    ]


def _judge_against_baseline(
    series: SensorSeries, stat: HourStat, baseline: Baseline, span: tuple[dt.datetime, dt.datetime], state: str
) -> list[Verdict]:
    x = float(series.traffic(stat))
    z = baseline.z(x)
    detail = {
        "z": round(z, 2),
        "median": baseline.median,
        "spread": round(baseline.spread, 2),
        "weeks": baseline.samples,
    }

    def verdict(kind: str, fault: bool) -> Verdict:
        return Verdict(kind, *span, fault, "traffic", x, baseline.median, baseline.low, baseline.high, detail)

    out = [verdict(AnomalyKind.SPIKE, z > Z_LIMIT)]
    if state == "open" and baseline.median >= ZERO_MIN_MEDIAN:
        out.append(verdict(AnomalyKind.ZERO_COUNTS, x == 0))
    if x > 0:
        out.append(verdict(AnomalyKind.DROP, z < -Z_LIMIT))
    return out


# ------------------------------------------------------------------ days


def judge_days(
    series: SensorSeries, calendar: StoreCalendar, days: list[local_time.Bucket]
) -> dict[str, list[Verdict]]:
    """Day rules (entrance sensors only): exits far above entries, and a
    swapped direction."""
    verdicts: dict[str, list[Verdict]] = {}
    if series.kind != SensorKind.ENTRANCE:
        return verdicts
    for day in days:
        for verdict in (_judge_exits(series, calendar, day), _judge_reversed(series, calendar, day)):
            if verdict is not None:
                verdicts.setdefault(verdict.kind, []).append(verdict)
    return verdicts


def _open_hours(
    series: SensorSeries, calendar: StoreCalendar, day: local_time.Bucket
) -> list[tuple[dt.datetime, HourStat | None]]:
    out = []
    for hour in local_time.hour_buckets(day.label or day.start.date(), day.label or day.start.date(), calendar.tz):
        if calendar.open_state(hour.start.astimezone(calendar.tz)) in ("open", "partial", "unknown"):
            out.append((hour.start, series.hours.get(hour.start)))
    return out


def _judge_exits(series: SensorSeries, calendar: StoreCalendar, day: local_time.Bucket) -> Verdict | None:
    hours = _open_hours(series, calendar, day)
    if not hours or any(stat is None or stat.coverage < BASELINE_MIN_COVERAGE for _, stat in hours):
        return None
    entries = sum(stat.in_count for _, stat in hours if stat)
    exits = sum(stat.out_count for _, stat in hours if stat)
    limit = EXITS_RATIO * entries + EXITS_MARGIN
    return Verdict(
        AnomalyKind.EXITS_EXCEED_ENTRIES, day.start, day.end, exits > limit, "out", exits, entries, 0.0, limit
    )


def _judge_reversed(series: SensorSeries, calendar: StoreCalendar, day: local_time.Bucket) -> Verdict | None:
    if day.label is None or calendar.is_holiday(day.label):
        return None
    products = norm = variance = 0.0
    # Every hour of the day: the hour after closing (the last shoppers and the
    # staff leave) and the one before opening carry the strongest signal.
    for hour in local_time.hour_buckets(day.label, day.label, calendar.tz):
        start, stat = hour.start, series.hours.get(hour.start)
        if stat is None or stat.coverage < MISSING_BELOW:
            continue
        usual = _history(series, start.astimezone(calendar.tz), calendar, lambda s: s.out_count - s.in_count)
        if len(usual) < BASELINE_MIN_SAMPLES:
            continue
        profile = statistics.median(usual)
        products += (stat.out_count - stat.in_count) * profile
        norm += profile * profile
        variance += profile * profile * (stat.in_count + stat.out_count)  # Poisson: var(out - in) = in + out
    if norm == 0 or math.sqrt(variance) / norm > REVERSED_MAX_NOISE:
        return None
    score = products / norm
    detail = {"noise": round(math.sqrt(variance) / norm, 3)}
    return Verdict(
        AnomalyKind.REVERSED_DIRECTION,
        day.start,
        day.end,
        score < REVERSED_BELOW,
        "profile_projection",
        round(score, 3),
        1.0,
        REVERSED_BELOW,
        None,
        detail,
    )
