"""Store-local wall-clock time turned into UTC instants, right across DST.

Two rules decide the awkward cases, the same everywhere in commerce:

- a wall time that does not exist (the spring-forward gap, Europe/Paris
  2026-03-29 02:00-02:59) means the first instant at or after it, i.e. the
  transition itself (03:00 CEST);
- a wall time that occurs twice (the fall-back hour, 2026-10-25 02:00-02:59)
  means its first occurrence (the CEST one).

Pickup slots are laid out in real time: consecutive, each exactly
``slot_minutes`` long, from the local opening instant to the local closing
instant. A window across the change therefore has an hour fewer on the
23-hour day and an hour more on the 25-hour day (a 00:00-24:00 template of
30-minute slots gives 46 and 50 slots), and every start is a distinct UTC
instant, so the unique (store, start) key never collides."""

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

UTC = dt.UTC


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_instant(day: dt.date, at: dt.time, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant at which the wall clock in ``tz`` first reads ``day at``
    (see the module docstring for the gap and the repeated hour)."""
    naive = dt.datetime.combine(day, at.replace(tzinfo=None))
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return first
    # In a gap: fold=1 reads the wall time with the offset after the change
    # (an earlier instant), fold=0 with the offset before (a later one); the
    # transition lies between them. Bisect to the second.
    low = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    high = first
    if low > high:
        low, high = high, low
    while high - low > dt.timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).replace(tzinfo=None) >= naive:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def local_date(instant: dt.datetime, tz: ZoneInfo) -> dt.date:
    return instant.astimezone(tz).date()


def release_instant(day: dt.date, *, days_ahead: int, release_time: dt.time, tz: ZoneInfo) -> dt.datetime:
    """When the slots of ``day`` open: ``release_time`` store-local, ``days_ahead`` days before."""
    return local_instant(day - dt.timedelta(days=days_ahead), release_time, tz)


@dataclass(frozen=True)
class Window:
    """One pickup window of a weekday: slots of ``slot_minutes`` from ``opens``
    until ``closes`` (a closing time at or before the opening one is on the
    next day: 00:00 is the end of the day)."""

    opens: dt.time
    closes: dt.time
    slot_minutes: int
    capacity: int


@dataclass(frozen=True)
class SlotTimes:
    starts_at: dt.datetime
    ends_at: dt.datetime
    local_start: dt.time
    capacity: int


def day_slots(day: dt.date, windows: Iterable[Window], tz: ZoneInfo) -> Iterator[SlotTimes]:
    """The slots of ``day`` laid out from its windows, in start order per window."""
    for window in windows:
        opens_at = local_instant(day, window.opens, tz)
        close_day = day if window.closes > window.opens else day + dt.timedelta(days=1)
        closes_at = local_instant(close_day, window.closes, tz)
        step = dt.timedelta(minutes=window.slot_minutes)
        start = opens_at
        while start + step <= closes_at:
            yield SlotTimes(
                starts_at=start,
                ends_at=start + step,
                local_start=start.astimezone(tz).time().replace(tzinfo=None),
                capacity=window.capacity,
            )
            start += step
