"""Hour rules: missing data, zero counts, counts while closed, spikes, drops
and a stuck counter, each hour judged against the same weekday and hour of
previous ordinary weeks (see ``baseline``)."""

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import replace

from footfall.detection.baseline import (
    BASELINE_MIN_COVERAGE,
    LOW_DAY_SHARE,
    RELATIVE_FLOOR,
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
# Staff, cleaners and deliveries make some counts while closed: the CalIt2
# building's ordinary evenings reach 10 to 19 entries an hour after 18:00.
CLOSED_MIN_ENTRIES = 20
# A spike must also be this many people above the usual: one group (a school
# class, a coach party) is 20 to 30 people; fewer extra people in an hour is
# an ordinary busy hour to a manager. On the CalIt2 counts (medians 0 to 40 an
# hour) 17 of 44 spikes of the z-rule alone were under 20 people, such as 5
# people against a median of 0.
SPIKE_MIN_EXCESS = 20.0
# Traffic has a heavy upper tail (groups, meetings, a talk in the building):
# on the CalIt2 weekdays 14 hours in 9 clean weeks pass median + 4 spreads,
# 5 pass median + 5 spreads (an evening talk, a class arriving at once). A
# spike alone is one hour, so it must clear 5 spreads; a drop or a zero hour,
# held over several hours, 4.
SPIKE_Z = 5.0
# And the upper tail is wide: an hour's week-to-week swing beyond Poisson
# noise is 9 % / 22 % / 28 % (quartiles) on the CalIt2 weekday hours (groups,
# meetings), 8 % in the simulator; a spike's spread never goes below the
# upper quartile.
SPIKE_RELATIVE_FLOOR = 0.25
# A drop: consecutive open hours each under half their usual, together
# beyond 4 standard deviations (sum of z / sqrt(hours): low counts are
# smoothed over the run, reference B.6 item 9, so a small store's drop shows
# although no single hour of it passes 4), and at least 10 people short: a
# shortfall of a few people is nothing a manager can act on.
DROP_SHARE, DROP_MIN_HOURS, DROP_MIN_SHORTFALL = 0.5, 2, 10.0
# A stuck counter repeats the same non-zero entries and exits. Two Poisson
# counts agree by chance with probability about 1 / sqrt(4 pi mean) (0.16 at
# a mean of 3), so an (entries, exits) pair repeats three times in a row with
# probability under (0.16^2)^3 = 2e-5 at that mean: four hours in a row.
STUCK_MIN_HOURS = 4
# ... of at least 10 people (entries and exits): a sensor counting one way
# only, around 3 an hour, repeats itself three times in a row with chance
# 0.16^3 = 0.4 %, every week somewhere; at 10 (P about 0.09) it is 0.07 %.
STUCK_MIN_PEOPLE = 10
_HOUR = dt.timedelta(hours=1)
_WALK_LIMIT = 24 * 8  # hours searched for the neighbouring open hours (a long weekend and some)


def judge_hours(
    series: SensorSeries, calendar: StoreCalendar, exclusions: Exclusions, hours: list[local_time.Bucket]
) -> dict[str, list[Verdict]]:
    """Hour rules over ``hours`` (local hours, in time order)."""
    judge = _HourJudge(series, calendar, exclusions)
    verdicts: dict[str, list[Verdict]] = {}
    for bucket in hours:
        for verdict in judge.hour(bucket):
            verdicts.setdefault(verdict.kind, []).append(verdict)
    return verdicts


class _HourJudge:
    def __init__(self, series: SensorSeries, calendar: StoreCalendar, exclusions: Exclusions):
        self.series, self.calendar = series, calendar
        self.excluded = exclusions.spans
        self._baselines: dict[tuple[dt.datetime, float], Baseline | None] = {}

    def baseline(self, start: dt.datetime, relative_floor: float = RELATIVE_FLOOR) -> Baseline | None:
        key = (start, relative_floor)
        if key not in self._baselines:
            local = start.astimezone(self.calendar.tz)
            history = hour_history(self.series, local, self.calendar, self.series.traffic)
            self._baselines[key] = robust_baseline(usable(history, self.excluded), relative_floor)
        return self._baselines[key]

    def hour(self, bucket: local_time.Bucket) -> list[Verdict]:
        series, calendar = self.series, self.calendar
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
            detail = {"hour": local.isoformat()}
            covered = stat.coverage * 3600
            kind = AnomalyKind.MISSING_DATA
            out.append(Verdict(kind, *span, missing, "covered_seconds", covered, 3600.0, detail=detail))
            if missing:
                unjudged = (AnomalyKind.ZERO_COUNTS, AnomalyKind.DROP, AnomalyKind.SPIKE, AnomalyKind.STUCK_COUNTER)
                return out + [Verdict(kind, *span, None) for kind in unjudged]
        if state == "closed":
            if series.kind == SensorKind.WINDOW:  # the street is busy when the store is shut
                return out
            return [*out, _judge_closed(stat, self.baseline(bucket.start), span, local)]
        if stat.coverage < MISSING_BELOW:
            return out
        out.append(_judge_stuck(series, calendar, bucket.start))
        if not calendar.is_ordinary(day) and not calendar.is_event(day):
            return out  # a holiday is never judged against ordinary days
        x = float(series.traffic(stat))
        if state == "open":
            out.append(_judge_zero(x, self.baseline(bucket.start), span))
        if calendar.is_event(day):
            return out  # an event draws crowds: no spike, no drop
        out.append(_judge_spike(x, self.baseline(bucket.start, SPIKE_RELATIVE_FLOOR), span))
        out.append(self.drop(bucket.start, x))
        return out

    # ---------------------------------------------------------- drop

    def _day_is_low(self, start: dt.datetime) -> bool:
        """Whether the hour's whole day is known and low as a whole (under
        ``LOW_DAY_SHARE`` of the usual of its open hours): a shortfall spread
        over the day is the day rule's (``low_day_volume``), not a drop."""
        day = start.astimezone(self.calendar.tz).date()
        total = usual = 0.0
        for bucket in local_time.hour_buckets(day, day, self.calendar.tz):
            if self.calendar.open_state(bucket.start.astimezone(self.calendar.tz)) == "closed":
                continue
            stat = self.series.hours.get(bucket.start)
            baseline = self.baseline(bucket.start)
            if stat is None or stat.coverage < BASELINE_MIN_COVERAGE or baseline is None:
                return False
            total += self.series.traffic(stat)
            usual += baseline.median
        return usual > 0 and total < LOW_DAY_SHARE * usual

    def _low(self, start: dt.datetime) -> tuple[bool, float, Baseline] | None:
        """Whether the hour is under ``DROP_SHARE`` of its usual (with its
        traffic and baseline), or None when it cannot tell (no data, no
        baseline, nobody at all, not an ordinary day)."""
        stat = self.series.hours.get(start)
        if stat is None or stat.coverage < MISSING_BELOW:
            return None
        if not self.calendar.is_ordinary(start.astimezone(self.calendar.tz).date()):
            return None
        baseline = self.baseline(start)
        if baseline is None:
            return None
        x = float(self.series.traffic(stat))
        return x < DROP_SHARE * baseline.median, x, baseline

    def _low_side(self, start: dt.datetime, step: int) -> tuple[list[tuple[float, Baseline]], bool]:
        run: list[tuple[float, Baseline]] = []
        for neighbour in open_hours_from(self.calendar, start, step):
            state = self._low(neighbour)
            if state is None:
                return run, True
            if not state[0]:
                return run, False
            run.append(state[1:])
        return run, False

    def drop(self, start: dt.datetime, x: float) -> Verdict:
        span = (start, start + _HOUR)
        state = self._low(start)
        if state is None:
            return Verdict(AnomalyKind.DROP, *span, None)
        low, _, baseline = state
        if not low and x == 0:
            return Verdict(AnomalyKind.DROP, *span, None)  # the zero-count rule's
        if not low:
            return _verdict(AnomalyKind.DROP, span, False, x, baseline)
        before, _ = self._low_side(start, -1)
        after, open_ended = self._low_side(start, +1)
        run = [*before, (x, baseline), *after]
        combined = sum(b.z(v) for v, b in run) / math.sqrt(len(run))
        shortfall = sum(b.median - v for v, b in run)
        # hours with nobody at all only are the zero-count rule's (a dead sensor)
        somebody = any(v > 0 for v, _ in run)
        fault: bool | None = (
            somebody
            and not self._day_is_low(start)
            and len(run) >= DROP_MIN_HOURS
            and combined < -Z_LIMIT
            and shortfall >= DROP_MIN_SHORTFALL
        )
        if not fault and open_ended:
            fault = None  # the next hours may carry the drop on
        verdict = _verdict(AnomalyKind.DROP, span, bool(fault), x, baseline)
        detail = verdict.detail | {"run_hours": len(run), "run_z": round(combined, 2)}
        return replace(verdict, fault=fault, detail=detail)


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


def _judge_closed(
    stat: HourStat, baseline: Baseline | None, span: tuple[dt.datetime, dt.datetime], local: dt.datetime
) -> Verdict:
    limit = max(float(CLOSED_MIN_ENTRIES), baseline.high if baseline else 0.0)
    detail = {
        "median": baseline.median if baseline else None,
        "baseline_weeks": baseline.samples if baseline else 0,
        "hour": local.isoformat(),
    }
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
    fault = baseline.z(x) > SPIKE_Z and x - baseline.median >= SPIKE_MIN_EXCESS
    return _verdict(AnomalyKind.SPIKE, span, fault, x, baseline)


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
    if stat.in_count + stat.out_count < STUCK_MIN_PEOPLE:  # repeated zeros are the zero-count rule's
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
