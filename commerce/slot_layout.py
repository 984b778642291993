"""How a store's pickup windows become slots, in store-local time
(inventory.local_time: a skipped wall time means the transition, a
repeated one its first occurrence).

Pickup slots are laid out in real time: consecutive, each exactly
``slot_minutes`` long, from the local opening instant to the local closing
instant. A window across the change therefore has an hour fewer on the
23-hour day and an hour more on the 25-hour day (a 00:00-24:00 template of
30-minute slots gives 46 and 50 slots), and every start is a distinct UTC
instant, so the unique (store, start) key never collides."""

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from inventory.local_time import local_instant


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
