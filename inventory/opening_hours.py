"""Store-local calendar: which local day an instant falls on in a store's
IANA zone, and the first day on or after a date the store opens. Dates are
computed in the store's zone with zoneinfo, so they stay right across DST
changes (a fixed offset would put late-evening instants on the wrong day
for half the year)."""

import datetime as dt
from typing import Any

from inventory.local_time import zone

# A store with opening hours opens at least once a week; beyond that the hours are empty.
_WEEK = 7


def local_date(at: dt.datetime, time_zone: str) -> dt.date:
    """The calendar day ``at`` (timezone-aware) falls on in ``time_zone``."""
    return at.astimezone(zone(time_zone)).date()


def opens_on(hours: dict[str, Any], day: dt.date) -> bool:
    """Whether the store opens on ``day``. Empty hours mean no schedule is
    published: every day counts as open."""
    return not hours or bool(hours.get(str(day.isoweekday())))


def first_open_day(hours: dict[str, Any], on_or_after: dt.date) -> dt.date | None:
    """The first day on or after ``on_or_after`` the store opens; None if it never does."""
    for offset in range(_WEEK):
        day = on_or_after + dt.timedelta(days=offset)
        if opens_on(hours, day):
            return day
    return None


def delivery_date(*, at: dt.datetime, time_zone: str, hours: dict[str, Any], lead_time_days: int) -> dt.date | None:
    """The day goods sent at ``at`` with a lead time of ``lead_time_days``
    can be collected at a store: the store's local day of ``at`` plus the lead
    time, moved to the next day the store opens."""
    return first_open_day(hours, local_date(at, time_zone) + dt.timedelta(days=lead_time_days))
