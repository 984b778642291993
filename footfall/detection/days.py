"""Day rules: a day's volume against the same weekday of previous weeks,
a level that moved and stays, exits far above entries, and entries and
exits swapped."""

import datetime as dt
import math
import statistics
from dataclasses import dataclass

from footfall.detection.baseline import (
    BASELINE_LOOKBACK_WEEKS,
    BASELINE_MIN_COVERAGE,
    BASELINE_MIN_SAMPLES,
    BASELINE_WEEKS,
    LOW_DAY_SHARE,
    Baseline,
    Exclusions,
    HourStat,
    SensorSeries,
    Span,
    StoreCalendar,
    hour_history,
    overlaps,
    robust_baseline,
    usable,
)
from footfall.detection.hours import MISSING_BELOW, ZERO_MIN_MEDIAN
from footfall.detection.verdicts import Verdict
from footfall.models import AnomalyKind, SensorKind
from inventory import local_time

# A day's total swings more than an hour's share of it would suggest (the
# weather, a promotion nearby, paydays): 15 % on the simulator's days and
# the CalIt2 weekdays (median absolute deviation of 8 to 14 % of the median).
DAY_RELATIVE_FLOOR = 0.15
# A low day: under LOW_DAY_SHARE of the usual, beyond 3 spreads, and at
# least 50 people short (fewer is nothing a manager acts on).
LOW_DAY_Z, LOW_DAY_MIN_SHORTFALL = 3.0, 50.0
# A level shift: five consecutive open days whose median is below 80 % (or
# above 125 %) of their weekdays' usual and whose z-scores together pass 4
# standard deviations (Stouffer: sum of z / sqrt(5)). Five days, so one odd
# day (a 30 % day has z about -4: -4 / sqrt(5) = -1.8) is never a shift, and
# the median, so one real event inside a shift does not hide it. A day is in
# the shift when such a window holds it and it lies on the shift's side of
# its usual.
SHIFT_LOW, SHIFT_HIGH, SHIFT_Z, SHIFT_DAYS = 0.8, 1.25, 4.0, 5
_SHIFT_WALK_DAYS = 15  # calendar days searched either side for the window's other open days
EXITS_RATIO, EXITS_MARGIN = 1.2, 20  # exits > 1.2 x entries + 20 over a day: |in - out| / max > 20 %
REVERSED_BELOW = -0.25  # projection on the usual profile: about +1 normally, about -1 when swapped
REVERSED_MAX_NOISE = 0.35  # standard error of the projection above which the day is not judged


def judge_days(
    series: SensorSeries, calendar: StoreCalendar, exclusions: Exclusions, days: list[local_time.Bucket]
) -> dict[str, list[Verdict]]:
    """Day rules over ``days`` (local days, in time order): volume and
    level for every sensor, direction for entrance sensors."""
    judge = _DayJudge(series, calendar, exclusions)
    verdicts: dict[str, list[Verdict]] = {}
    for day in days:
        assert day.label is not None  # calendar buckets carry their date
        found = [judge.low_volume(day.label), judge.level_shift(day.label)]
        if series.kind == SensorKind.ENTRANCE:
            found += [judge.exits(day.label), judge.reversed(day.label)]
        for verdict in found:
            if verdict is not None:
                verdicts.setdefault(verdict.kind, []).append(verdict)
    return verdicts


@dataclass(frozen=True)
class DayFigure:
    """A day's traffic over its open hours against its weekday's usual."""

    day: dt.date
    span: Span
    traffic: float
    hours: int
    baseline: Baseline

    @property
    def share(self) -> float:
        return self.traffic / self.baseline.median if self.baseline.median else math.inf

    def detail(self) -> dict[str, object]:
        return {
            "day": self.day.isoformat(),
            "usual_day": self.baseline.median,
            "share_of_usual": round(self.share, 3) if self.baseline.median else None,
            "hours": self.hours,
            "baseline_weeks": self.baseline.samples,
            "z": round(self.baseline.z(self.traffic), 2),
        }


class _DayJudge:
    def __init__(self, series: SensorSeries, calendar: StoreCalendar, exclusions: Exclusions):
        self.series, self.calendar = series, calendar
        self.excluded = exclusions.spans
        self._figures: dict[dt.date, DayFigure | None] = {}

    # ---------------------------------------------------------- day totals

    def open_hours(self, day: dt.date) -> list[dt.datetime]:
        tz = self.calendar.tz
        return [
            b.start
            for b in local_time.hour_buckets(day, day, tz)
            if self.calendar.open_state(b.start.astimezone(tz)) != "closed"
        ]

    def _total(self, day: dt.date) -> tuple[float, int, Span] | None:
        """Traffic over the day's open hours, if every one of them has data."""
        hours = self.open_hours(day)
        stats = [self.series.hours.get(h) for h in hours]
        if not hours or any(s is None or s.coverage < BASELINE_MIN_COVERAGE for s in stats):
            return None
        traffic = sum(self.series.traffic(s) for s in stats if s is not None)
        return float(traffic), len(hours), (hours[0], hours[-1] + dt.timedelta(hours=1))

    def _baseline(self, day: dt.date) -> Baseline | None:
        values = []
        for weeks in range(1, BASELINE_LOOKBACK_WEEKS + 1):
            earlier = day - dt.timedelta(weeks=weeks)
            total = self._total(earlier) if self.calendar.is_ordinary(earlier) else None
            if total is not None and not overlaps(self.excluded, *total[2]):
                values.append(total[0])
            if len(values) == BASELINE_WEEKS:
                break
        return robust_baseline(values, DAY_RELATIVE_FLOOR)

    def figure(self, day: dt.date) -> DayFigure | None:
        key = day
        if key not in self._figures:
            total = self._total(day)
            baseline = self._baseline(day) if total is not None else None
            self._figures[key] = DayFigure(day, total[2], total[0], total[1], baseline) if total and baseline else None
        return self._figures[key]

    def _has_dead_hours(self, day: dt.date) -> bool:
        """Two consecutive open hours at zero where people usually come (what
        the zero-count rule raises): the hourly rules explain that day, not a
        masked camera."""
        dead = 0
        for start in self.open_hours(day):
            stat = self.series.hours.get(start)
            zero = stat is not None and self.series.traffic(stat) == 0
            if zero:
                local = start.astimezone(self.calendar.tz)
                usual = usable(hour_history(self.series, local, self.calendar, self.series.traffic), [])
                zero = len(usual) >= BASELINE_MIN_SAMPLES and statistics.median(usual) >= ZERO_MIN_MEDIAN
            dead = dead + 1 if zero else 0
            if dead >= 2:
                return True
        return False

    def _judgeable(self, day: dt.date) -> bool:
        return self.calendar.is_ordinary(day) and bool(self.open_hours(day))

    # ---------------------------------------------------------- volume

    def low_volume(self, day: dt.date) -> Verdict | None:
        if not self._judgeable(day):
            return None  # closed, a holiday or an event: not an ordinary day
        kind = AnomalyKind.LOW_DAY_VOLUME
        figure = self.figure(day)
        span = _day_span(day, self.calendar)
        if figure is None or self._has_dead_hours(day):
            return Verdict(kind, *span, None)
        b = figure.baseline
        fault = (
            figure.share < LOW_DAY_SHARE
            and b.z(figure.traffic) < -LOW_DAY_Z
            and b.median - figure.traffic >= LOW_DAY_MIN_SHORTFALL
        )
        low = max(b.median - LOW_DAY_Z * b.spread, 0.0)
        return Verdict(kind, *span, fault, "day_traffic", figure.traffic, b.median, low, None, figure.detail())

    # ---------------------------------------------------------- level shift

    def _neighbours(self, day: dt.date, step: int) -> tuple[list[DayFigure], bool]:
        """Up to ``SHIFT_DAYS`` - 1 judgeable days next to ``day`` with their
        figures, nearest first, and whether the walk stopped on one without
        figures (no data yet: the window may still fill)."""
        out: list[DayFigure] = []
        for k in range(1, _SHIFT_WALK_DAYS):
            other = day + dt.timedelta(days=step * k)
            if not self._judgeable(other):
                continue
            figure = self.figure(other)
            if figure is None:
                return out, True
            out.append(figure)
            if len(out) == SHIFT_DAYS - 1:
                return out, False
        return out, False

    def level_shift(self, day: dt.date) -> Verdict | None:
        if not self._judgeable(day):
            return None
        kind = AnomalyKind.LEVEL_SHIFT
        span = _day_span(day, self.calendar)
        figure = self.figure(day)
        if figure is None:
            return Verdict(kind, *span, None)
        before, _ = self._neighbours(day, -1)
        after, open_ended = self._neighbours(day, +1)
        days = [*reversed(before), figure, *after]
        at = len(before)
        fault, best, incomplete = False, 0.0, False
        for first in range(max(0, at - SHIFT_DAYS + 1), at + 1):
            window = days[first : first + SHIFT_DAYS]
            if len(window) < SHIFT_DAYS:
                incomplete = True
                continue
            combined = sum(f.baseline.z(f.traffic) for f in window) / math.sqrt(SHIFT_DAYS)
            share = statistics.median(f.share for f in window)
            down = combined <= -SHIFT_Z and share < SHIFT_LOW
            up = combined >= SHIFT_Z and share > SHIFT_HIGH
            if (down or up) and _inside_shift(window, at - first, down) and abs(combined) > abs(best):
                fault, best = True, combined
        verdict_fault: bool | None = fault
        if not fault and incomplete and open_ended:
            verdict_fault = None  # the next days may complete a window
        b = figure.baseline
        detail = figure.detail()
        if fault:
            detail |= {"direction": "down" if best < 0 else "up", "window_days": SHIFT_DAYS, "window_z": round(best, 2)}
        return Verdict(kind, *span, verdict_fault, "day_traffic", figure.traffic, b.median, None, None, detail)

    # ---------------------------------------------------------- direction

    def exits(self, day: dt.date) -> Verdict | None:
        starts = self.open_hours(day)
        stats = [self.series.hours.get(h) for h in starts]
        if not starts or any(s is None or s.coverage < BASELINE_MIN_COVERAGE for s in stats):
            return None
        entries = sum(s.in_count for s in stats if s)
        exits = sum(s.out_count for s in stats if s)
        limit = EXITS_RATIO * entries + EXITS_MARGIN
        span = _day_span(day, self.calendar)
        detail = {"day": day.isoformat(), "entries": entries}
        return Verdict(
            AnomalyKind.EXITS_EXCEED_ENTRIES, *span, exits > limit, "out", exits, entries, 0.0, limit, detail
        )

    def reversed(self, day: dt.date) -> Verdict | None:
        if not self.calendar.is_ordinary(day):
            return None
        products = norm = variance = 0.0
        # Every hour of the day: the hour after closing (the last shoppers and
        # the staff leave) and the one before opening carry the strongest signal.
        for hour in local_time.hour_buckets(day, day, self.calendar.tz):
            stat = self.series.hours.get(hour.start)
            if stat is None or stat.coverage < MISSING_BELOW:
                continue
            local = hour.start.astimezone(self.calendar.tz)
            history = hour_history(self.series, local, self.calendar, _balance)
            usual = usable(history, self.excluded)
            if len(usual) < BASELINE_MIN_SAMPLES:
                continue
            profile = statistics.median(usual)
            products += (stat.out_count - stat.in_count) * profile
            norm += profile * profile
            variance += profile * profile * (stat.in_count + stat.out_count)  # Poisson: var(out - in) = in + out
        if norm == 0 or math.sqrt(variance) / norm > REVERSED_MAX_NOISE:
            return None
        score = products / norm
        detail = {"day": day.isoformat(), "noise": round(math.sqrt(variance) / norm, 3)}
        span = _day_span(day, self.calendar)
        return Verdict(
            AnomalyKind.REVERSED_DIRECTION,
            *span,
            score < REVERSED_BELOW,
            "profile_projection",
            round(score, 3),
            1.0,
            REVERSED_BELOW,
            None,
            detail,
        )


def _inside_shift(window: list[DayFigure], position: int, down: bool) -> bool:
    """Whether the day at ``position`` lies between the window's first and
    last days that are shifted on their own (beyond the shift's threshold):
    a milder day inside a shift is part of it, one at its edges (the day
    before it, the day the level came back) is not."""
    shifted = [i for i, f in enumerate(window) if (f.share < SHIFT_LOW if down else f.share > SHIFT_HIGH)]
    return bool(shifted) and shifted[0] <= position <= shifted[-1]


def _balance(stat: HourStat) -> float:
    return float(stat.out_count - stat.in_count)


def _day_span(day: dt.date, calendar: StoreCalendar) -> Span:
    return local_time.days_span(day, day, calendar.tz)
