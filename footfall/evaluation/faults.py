"""Faults injected into a clean hourly series, one injector per anomaly
kind the notifier claims, each returning the period it spoiled (the ground
truth). They work on any store's opening hours and time zone, so the same
faults go into the simulator's series and into real counts.

What each one imitates:

- ``zero_counts``: a dead sensor, the whole day or from noon (it still
  sends intervals, all zero);
- ``missing_data``: three open hours never sent;
- ``drop``: three afternoon hours at 10 % (a door blocked, a camera fogged);
- ``spike``: two hours at three times the traffic plus 20 (ghost counts:
  reflections, a display in the counting area);
- ``closed_hours_counts``: 30 people in and out in each of the two hours
  after closing (cleaners crossing the line);
- ``reversed_direction``: entries and exits swapped for a day;
- ``exits_exceed_entries``: exits double a day (a second door's exits
  wired onto this line);
- ``low_day_volume``: a day at 30 % of its traffic (a camera partly masked
  for the day);
- ``stuck_counter``: five open hours repeating the first one's figures, an
  hour of at least 10 people in and out (a frozen device re-sending its
  last value);
- ``level_shift``: ten days at 55 % or at 160 % (a counting line moved)."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from footfall.detection import HourStat, StoreCalendar
from footfall.models import AnomalyKind
from inventory import local_time

Rows = dict[dt.datetime, HourStat]


@dataclass(frozen=True)
class Fault:
    kind: str
    start: dt.datetime
    end: dt.datetime


def open_hours(calendar: StoreCalendar, day: dt.date) -> list[dt.datetime]:
    """UTC starts of the day's whole open hours."""
    return [
        b.start
        for b in local_time.hour_buckets(day, day, calendar.tz)
        if calendar.open_state(b.start.astimezone(calendar.tz)) == "open"
    ]


def _day_hours(calendar: StoreCalendar, day: dt.date) -> list[dt.datetime]:
    return [b.start for b in local_time.hour_buckets(day, day, calendar.tz)]


def _scale(rows: Rows, start: dt.datetime, share: float, rng: np.random.Generator) -> None:
    """Keep each person with probability ``share`` (or add Poisson extra when above 1)."""
    stat = rows.get(start)
    if stat is None:
        return
    if share <= 1:
        rows[start] = replace(
            stat, in_count=int(rng.binomial(stat.in_count, share)), out_count=int(rng.binomial(stat.out_count, share))
        )
    else:
        extra_in = int(rng.poisson(stat.in_count * (share - 1)))
        extra_out = int(rng.poisson(stat.out_count * (share - 1)))
        rows[start] = replace(stat, in_count=stat.in_count + extra_in, out_count=stat.out_count + extra_out)


def _span(hours: list[dt.datetime]) -> tuple[dt.datetime, dt.datetime]:
    return hours[0], hours[-1] + dt.timedelta(hours=1)


def dead_day(rows: Rows, calendar: StoreCalendar, day: dt.date, rng: np.random.Generator) -> Fault:
    for start in _day_hours(calendar, day):
        if start in rows:
            rows[start] = replace(rows[start], in_count=0, out_count=0)
    return Fault(AnomalyKind.ZERO_COUNTS, *_span(open_hours(calendar, day)))


def dead_from_noon(rows: Rows, calendar: StoreCalendar, day: dt.date, rng: np.random.Generator) -> Fault:
    noon = local_time.local_to_utc(dt.datetime.combine(day, dt.time(12)), calendar.tz)[0]
    for start in _day_hours(calendar, day):
        if start >= noon and start in rows:
            rows[start] = replace(rows[start], in_count=0, out_count=0)
    return Fault(AnomalyKind.ZERO_COUNTS, noon, _span(open_hours(calendar, day))[1])


def gap(rows: Rows, calendar: StoreCalendar, day: dt.date, rng: np.random.Generator) -> Fault:
    hours = open_hours(calendar, day)
    first = int(rng.integers(0, len(hours) - 3))
    for start in hours[first : first + 3]:
        rows.pop(start, None)
    return Fault(AnomalyKind.MISSING_DATA, *_span(hours[first : first + 3]))


def _afternoon(calendar: StoreCalendar, day: dt.date, count: int, rng: np.random.Generator) -> list[dt.datetime]:
    hours = open_hours(calendar, day)
    middle = len(hours) // 2
    first = int(rng.integers(max(middle - 2, 0), max(len(hours) - count, middle - 1)))
    return hours[first : first + count]


def drop(rows: Rows, calendar: StoreCalendar, day: dt.date, rng: np.random.Generator) -> Fault:
    hours = _afternoon(calendar, day, 3, rng)
    for start in hours:
        _scale(rows, start, 0.1, rng)
    return Fault(AnomalyKind.DROP, *_span(hours))


def spike(rows: Rows, calendar: StoreCalendar, day: dt.date, rng: np.random.Generator) -> Fault:
    hours = _afternoon(calendar, day, 2, rng)
    for start in hours:
        stat = rows[start]
        rows[start] = replace(stat, in_count=3 * stat.in_count + 20, out_count=3 * stat.out_count + 20)
    return Fault(AnomalyKind.SPIKE, *_span(hours))


def counts_while_closed(rows: Rows, calendar: StoreCalendar, day: dt.date, rng: np.random.Generator) -> Fault:
    after = _span(open_hours(calendar, day))[1]
    hours = [after + dt.timedelta(hours=k) for k in (1, 2)]
    for start in hours:
        stat = rows.get(start, HourStat(0, 0, 1.0))
        rows[start] = replace(stat, in_count=stat.in_count + 30, out_count=stat.out_count + 30)
    return Fault(AnomalyKind.CLOSED_HOURS_COUNTS, *_span(hours))


def reversed_day(rows: Rows, calendar: StoreCalendar, day: dt.date, rng: np.random.Generator) -> Fault:
    for start in _day_hours(calendar, day):
        if start in rows:
            rows[start] = replace(rows[start], in_count=rows[start].out_count, out_count=rows[start].in_count)
    return Fault(AnomalyKind.REVERSED_DIRECTION, *local_time.days_span(day, day, calendar.tz))


def exits_doubled(rows: Rows, calendar: StoreCalendar, day: dt.date, rng: np.random.Generator) -> Fault:
    for start in _day_hours(calendar, day):
        if start in rows:
            rows[start] = replace(rows[start], out_count=2 * rows[start].out_count)
    return Fault(AnomalyKind.EXITS_EXCEED_ENTRIES, *local_time.days_span(day, day, calendar.tz))


def low_day(rows: Rows, calendar: StoreCalendar, day: dt.date, rng: np.random.Generator) -> Fault:
    for start in _day_hours(calendar, day):
        _scale(rows, start, 0.3, rng)
    return Fault(AnomalyKind.LOW_DAY_VOLUME, *local_time.days_span(day, day, calendar.tz))


def stuck(rows: Rows, calendar: StoreCalendar, day: dt.date, rng: np.random.Generator) -> Fault:
    hours = open_hours(calendar, day)
    # a counter stuck at 10 people or more an hour (the rule's scope: fewer repeat by chance)
    candidates = [i for i in range(len(hours) - 4) if _people(rows.get(hours[i])) >= 10]
    first = candidates[int(rng.integers(0, len(candidates)))]
    frozen = rows[hours[first]]
    for start in hours[first : first + 5]:
        rows[start] = frozen
    return Fault(AnomalyKind.STUCK_COUNTER, *_span(hours[first : first + 5]))


def _people(stat: HourStat | None) -> int:
    return stat.in_count + stat.out_count if stat is not None else 0


SHIFT_DAYS = 10


def level_shift(rows: Rows, calendar: StoreCalendar, day: dt.date, rng: np.random.Generator) -> Fault:
    share = 0.55 if rng.random() < 0.5 else 1.6
    last = day + dt.timedelta(days=SHIFT_DAYS - 1)
    for offset in range(SHIFT_DAYS):
        for start in _day_hours(calendar, day + dt.timedelta(days=offset)):
            _scale(rows, start, share, rng)
    return Fault(AnomalyKind.LEVEL_SHIFT, *local_time.days_span(day, last, calendar.tz))


Injector = Callable[[Rows, StoreCalendar, dt.date, np.random.Generator], Fault]

# Per kind: its injectors (used in turn) and how many days each fault spans.
INJECTORS: dict[str, tuple[list[Injector], int]] = {
    AnomalyKind.ZERO_COUNTS: ([dead_day, dead_from_noon], 1),
    AnomalyKind.MISSING_DATA: ([gap], 1),
    AnomalyKind.DROP: ([drop], 1),
    AnomalyKind.SPIKE: ([spike], 1),
    AnomalyKind.CLOSED_HOURS_COUNTS: ([counts_while_closed], 1),
    AnomalyKind.REVERSED_DIRECTION: ([reversed_day], 1),
    AnomalyKind.EXITS_EXCEED_ENTRIES: ([exits_doubled], 1),
    AnomalyKind.LOW_DAY_VOLUME: ([low_day], 1),
    AnomalyKind.STUCK_COUNTER: ([stuck], 1),
    AnomalyKind.LEVEL_SHIFT: ([level_shift], SHIFT_DAYS),
}
