"""The program's calendar: when points activate and expire, which local day
an instant falls on. Pure functions of an instant and an IANA zone, so the
rules hold across DST changes and month ends (tests/loyalty/test_dates.py).

Every date rule is written on local *dates* and turned into an instant only
at the end, at a local midnight: adding 24 hours to an instant would drift by
an hour across a DST change."""

import datetime as dt
import functools
import zoneinfo


@functools.cache
def zone_of(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def local_date(instant: dt.datetime, zone: str) -> dt.date:
    return instant.astimezone(zone_of(zone)).date()


def local_midnight(day: dt.date, zone: str) -> dt.datetime:
    """The instant a local day starts, in UTC. Where midnight itself does not
    exist (a DST jump at 00:00), the day starts at the first instant after
    the jump, which is what ``fold=0`` and a round trip through UTC give."""
    local = dt.datetime.combine(day, dt.time(0), tzinfo=zone_of(zone))
    return local.astimezone(dt.UTC).astimezone(zone_of(zone)).astimezone(dt.UTC)


def points_activate_at(earned_at: dt.datetime, zone: str, pending_days: int) -> dt.datetime:
    """Points earned on local day D stay pending through the return window
    (D and the ``pending_days`` days after it) and activate at the local
    midnight that ends it."""
    return local_midnight(local_date(earned_at, zone) + dt.timedelta(days=pending_days + 1), zone)


def points_expire_at(earned_at: dt.datetime, zone: str, months: int) -> dt.datetime:
    """Points earned in local month M expire at the end of month M + ``months``
    (earned 31 January, one month: they expire as February ends), that is at
    the local midnight that starts the month after."""
    day = local_date(earned_at, zone)
    years, month_index = divmod(day.month - 1 + months + 1, 12)
    return local_midnight(dt.date(day.year + years, month_index + 1, 1), zone)


def points_dates(
    earned_at: dt.datetime, zone: str, *, pending_days: int, months: int
) -> tuple[dt.datetime, dt.datetime]:
    """(activates_at, expires_at); a return window longer than the points'
    life activates them as they expire (they were never spendable)."""
    expires_at = points_expire_at(earned_at, zone, months)
    return min(points_activate_at(earned_at, zone, pending_days), expires_at), expires_at
