"""Hour rules: missing data, zero counts, counts while closed, spikes, drops
and a stuck counter, each hour judged against the same weekday and hour of
previous ordinary weeks (see ``baseline``)."""

import datetime as dt
from collections.abc import Iterator

from footfall.detection.baseline import (
    Z_LIMIT,
    Baseline,
    Exclusions,
    HourStat,
    SensorSeries,
    StoreCalendar,
    hour_history,
    robust_baseline,
    usable,
)
from footfall.detection.verdicts import Verdict
from footfall.models import AnomalyKind, SensorKind
from inventory import local_time

MISSING_BELOW = 0.5  # completeness under which an hour counts as missing (telraamStats uptime 0.5)
ZERO_MIN_MEDIAN = 5.0  # P(0 | Poisson mean 5) = 0.7 %, so a zero where 5+ is usual is suspicious
CLOSED_MIN_ENTRIES = 10  # staff and deliveries make a few counts while closed
# A spike must also be this many people above the usual: one group (a school
# class, a coach party) is 20 to 30 people; fewer extra people in an hour is
# an ordinary busy hour to a manager. On the CalIt2 counts (medians 0 to 40 an
# hour) 17 of 44 spikes of the z-rule alone were under 20 people, such as 5
# people against a median of 0.
SPIKE_MIN_EXCESS = 20.0
# A drop must be this many people below the usual: a shortfall of a few
# people in an hour is nothing a manager can act on.
DROP_MIN_SHORTFALL = 10.0
# A stuck counter repeats the same non-zero entries and exits. Two Poisson
# counts agree by chance with probability about 1 / sqrt(4 pi mean) (0.16 at
# a mean of 3), so an (entries, exits) pair repeats three times in a row with
# probability under (0.16^2)^3 = 2e-5 at that mean: four hours in a row.
STUCK_MIN_HOURS = 4
_HOUR = dt.timedelta(hours=1)
_WALK_LIMIT = 24 * 8  # hours searched for the neighbouring open hours (a long weekend and some)


def judge_hours(
    series: SensorSeries, calendar: StoreCalendar, exclusions: Exclusions, hours: list[local_time.Bucket]
) -> dict[str, list[Verdict]]:
    """Hour rules over ``hours`` (local hours, in time order)."""
    verdicts: dict[str, list[Verdict]] = {}
    excluded = {kind: exclusions.for_kind(kind) for kind in AnomalyKind.values}
    for bucket in hours:
        for verdict in _judge_hour(series, calendar, excluded, bucket):
            verdicts.setdefault(verdict.kind, []).append(verdict)
    return verdicts


def _judge_hour(
    series: SensorSeries,
    calendar: StoreCalendar,
    excluded: dict[str, list[tuple[dt.datetime, dt.datetime]]],
    bucket: local_time.Bucket,
) -> list[Verdict]:
    local = bucket.start.astimezone(calendar.tz)
    day = local.date()
    if calendar.is_closed_day(day):
        return []  # the store said it was shut: nothing to judge, not even zeros
    state = calendar.open_state(local)
    stat = series.hours.get(bucket.start, HourStat(0, 0, 0.0))
    span = (bucket.start, bucket.end)
    out: list[Verdict] = []
    if state == "open":
        missing = stat.coverage < MISSING_BELOW
        out.append(Verdict(AnomalyKind.MISSING_DATA, *span, missing, "covered_seconds", stat.coverage * 3600, 3600.0))
        if missing:
            unjudged = (AnomalyKind.ZERO_COUNTS, AnomalyKind.DROP, AnomalyKind.SPIKE, AnomalyKind.STUCK_COUNTER)
            return out + [Verdict(kind, *span, None) for kind in unjudged]
    history = hour_history(series, local, calendar, series.traffic)

    def baseline(kind: str) -> Baseline | None:
        return robust_baseline(usable(history, excluded[kind]))

    if state == "closed":
        if series.kind == SensorKind.WINDOW:  # the street is busy when the store is shut
            return out
        return [*out, _judge_closed(stat, baseline(AnomalyKind.CLOSED_HOURS_COUNTS), span)]
    if stat.coverage < MISSING_BELOW:
        return out
    out.append(_judge_stuck(series, calendar, bucket.start))
    if not calendar.is_ordinary(day) and not calendar.is_event(day):
        return out  # a holiday is never judged against ordinary days
    x = float(series.traffic(stat))
    if state == "open":
        out.append(_judge_zero(x, baseline(AnomalyKind.ZERO_COUNTS), span))
    if calendar.is_event(day):
        return out  # an event draws crowds: no spike, no drop
    out.append(_judge_spike(x, baseline(AnomalyKind.SPIKE), span))
    out.append(_judge_drop(x, baseline(AnomalyKind.DROP), span))
    return out


def _detail(baseline: Baseline, x: float, local_start: dt.datetime) -> dict[str, object]:
    return {
        "z": round(baseline.z(x), 2),
        "median": baseline.median,
        "spread": round(baseline.spread, 2),
        "baseline_weeks": baseline.samples,
        "hour": local_start.isoformat(),
    }


def _verdict(kind: str, span: tuple[dt.datetime, dt.datetime], fault: bool, x: float, b: Baseline) -> Verdict:
    return Verdict(kind, *span, fault, "traffic", x, b.median, b.low, b.high, _detail(b, x, span[0]))


def _judge_closed(stat: HourStat, baseline: Baseline | None, span: tuple[dt.datetime, dt.datetime]) -> Verdict:
    limit = max(float(CLOSED_MIN_ENTRIES), baseline.high if baseline else 0.0)
    detail = {"median": baseline.median if baseline else None, "baseline_weeks": baseline.samples if baseline else 0}
    expected = baseline.median if baseline else 0.0
    fault = stat.in_count >= limit
    return Verdict(AnomalyKind.CLOSED_HOURS_COUNTS, *span, fault, "in", stat.in_count, expected, 0.0, limit, detail)


def _judge_zero(x: float, baseline: Baseline | None, span: tuple[dt.datetime, dt.datetime]) -> Verdict:
    if baseline is None or (x == 0 and baseline.median < ZERO_MIN_MEDIAN):
        return Verdict(AnomalyKind.ZERO_COUNTS, *span, None)
    return _verdict(AnomalyKind.ZERO_COUNTS, span, x == 0 and baseline.median >= ZERO_MIN_MEDIAN, x, baseline)


def _judge_spike(x: float, baseline: Baseline | None, span: tuple[dt.datetime, dt.datetime]) -> Verdict:
    if baseline is None:
        return Verdict(AnomalyKind.SPIKE, *span, None)
    fault = baseline.z(x) > Z_LIMIT and x - baseline.median >= SPIKE_MIN_EXCESS
    return _verdict(AnomalyKind.SPIKE, span, fault, x, baseline)


def _judge_drop(x: float, baseline: Baseline | None, span: tuple[dt.datetime, dt.datetime]) -> Verdict:
    if baseline is None or x == 0:  # nobody at all is the zero-count rule's
        return Verdict(AnomalyKind.DROP, *span, None)
    fault = baseline.z(x) < -Z_LIMIT and baseline.median - x >= DROP_MIN_SHORTFALL
    return _verdict(AnomalyKind.DROP, span, fault, x, baseline)


# ------------------------------------------------------------------ stuck counter


def open_hours_from(calendar: StoreCalendar, start: dt.datetime, step: int) -> Iterator[dt.datetime]:
    """UTC starts of the open hours next to ``start`` (step -1: before it,
    +1: after it), nearest first, within ``_WALK_LIMIT`` hours."""
    for k in range(1, _WALK_LIMIT):
        candidate = start + step * k * _HOUR
        local = candidate.astimezone(calendar.tz)
        if calendar.open_state(local) != "closed":
            yield candidate


def _same_run(series: SensorSeries, calendar: StoreCalendar, start: dt.datetime, step: int) -> tuple[int, bool]:
    """How many neighbouring open hours repeat the hour's figures, and
    whether the walk stopped on an hour without data (so the run may go on)."""
    stat = series.hours[start]
    count = 0
    for neighbour in open_hours_from(calendar, start, step):
        other = series.hours.get(neighbour)
        if other is None or other.coverage < MISSING_BELOW:
            return count, True
        if (other.in_count, other.out_count) != (stat.in_count, stat.out_count) or count >= STUCK_MIN_HOURS:
            return count, False
        count += 1
    return count, False


def _judge_stuck(series: SensorSeries, calendar: StoreCalendar, start: dt.datetime) -> Verdict:
    stat = series.hours[start]
    span = (start, start + _HOUR)
    if stat.in_count + stat.out_count == 0:  # repeated zeros are the zero-count rule's
        return Verdict(AnomalyKind.STUCK_COUNTER, *span, False, "repeated_hours", 0.0)
    before, _ = _same_run(series, calendar, start, -1)
    after, open_ended = _same_run(series, calendar, start, +1)
    run = before + 1 + after
    fault: bool | None = run >= STUCK_MIN_HOURS
    if not fault and open_ended:
        fault = None  # the next hours may still repeat it
    local = start.astimezone(calendar.tz).isoformat()
    detail = {"in": stat.in_count, "out": stat.out_count, "run": run, "hour": local}
    # actual: one repeated hour (an anomaly adds them up); nothing is expected.
    actual = 1.0 if fault else 0.0
    return Verdict(AnomalyKind.STUCK_COUNTER, *span, fault, "repeated_hours", actual, None, detail=detail)
