"""The program's calendar across DST changes and month ends, in Paris and in
Los Angeles: points activate at the local midnight after the return window
and expire at the local midnight that ends the month N months later."""

import datetime as dt
import zoneinfo

import pytest

from loyalty.dates import local_midnight, points_activate_at, points_dates, points_expire_at

PARIS = "Europe/Paris"
LOS_ANGELES = "America/Los_Angeles"


def at(zone: str, *parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=zoneinfo.ZoneInfo(zone))  # type: ignore[misc, arg-type]  # year, month, day, ...


@pytest.mark.parametrize(
    ("zone", "earned", "months", "expires_local"),
    [
        # earned 31 January + 1 month: expires as February ends (leap and common years)
        (PARIS, (2027, 1, 31, 18, 0), 1, (2027, 3, 1)),
        (PARIS, (2028, 1, 31, 18, 0), 1, (2028, 3, 1)),
        # across the year end
        (PARIS, (2026, 12, 31, 23, 30), 1, (2027, 2, 1)),
        (PARIS, (2026, 11, 15, 12, 0), 12, (2027, 12, 1)),
        # the end of March, when Paris moves its clocks at 02:00 on the last Sunday
        (PARIS, (2027, 2, 28, 9, 0), 1, (2027, 4, 1)),
        (LOS_ANGELES, (2027, 1, 31, 22, 0), 1, (2027, 3, 1)),
        (LOS_ANGELES, (2027, 2, 10, 8, 0), 9, (2027, 12, 1)),
    ],
)
def test_points_expire_at_the_local_end_of_the_month(zone, earned, months, expires_local) -> None:
    expires = points_expire_at(at(zone, *earned), zone, months)

    local = expires.astimezone(zoneinfo.ZoneInfo(zone))
    assert (local.year, local.month, local.day, local.hour, local.minute) == (*expires_local, 0, 0)
    assert expires.tzinfo == dt.UTC


def test_a_local_evening_is_judged_by_the_local_date_not_the_utc_one() -> None:
    # 31 January 20:00 in Los Angeles is already 1 February in UTC
    earned = at(LOS_ANGELES, 2027, 1, 31, 20, 0)
    assert earned.astimezone(dt.UTC).month == 2

    expires = points_expire_at(earned, LOS_ANGELES, 1)

    assert expires == at(LOS_ANGELES, 2027, 3, 1, 0, 0)


@pytest.mark.parametrize(
    ("zone", "earned", "days", "activates_local", "utc_hour"),
    [
        # Paris springs forward on 28 March 2027: a window across it still ends at local midnight (UTC+2 after)
        (PARIS, (2027, 3, 20, 10, 0), 14, (2027, 4, 4), 22),
        # and falls back on 31 October 2027 (UTC+1 after)
        (PARIS, (2027, 10, 25, 10, 0), 14, (2027, 11, 9), 23),
        # Los Angeles springs forward on 14 March 2027 (UTC-7 after) and falls back on 7 November (UTC-8)
        (LOS_ANGELES, (2027, 3, 10, 23, 59), 7, (2027, 3, 18), 7),
        (LOS_ANGELES, (2027, 11, 1, 0, 1), 7, (2027, 11, 9), 8),
        # no return window: active from the next local midnight
        (PARIS, (2027, 6, 30, 23, 59), 0, (2027, 7, 1), 22),
    ],
)
def test_points_activate_at_the_local_midnight_after_the_window(zone, earned, days, activates_local, utc_hour) -> None:
    activates = points_activate_at(at(zone, *earned), zone, days)

    local = activates.astimezone(zoneinfo.ZoneInfo(zone))
    assert (local.year, local.month, local.day, local.hour, local.minute) == (*activates_local, 0, 0)
    assert activates.astimezone(dt.UTC).hour == utc_hour


def test_a_window_longer_than_the_points_life_activates_them_as_they_expire() -> None:
    activates, expires = points_dates(at(PARIS, 2027, 1, 5, 12, 0), PARIS, pending_days=90, months=1)

    assert activates == expires == at(PARIS, 2027, 3, 1, 0, 0)


def test_a_midnight_that_does_not_exist_starts_the_day_after_the_jump() -> None:
    # Santiago moved its clocks from 00:00 to 01:00 on 5 September 2027
    start = local_midnight(dt.date(2027, 9, 5), "America/Santiago")

    local = start.astimezone(zoneinfo.ZoneInfo("America/Santiago"))
    assert (local.day, local.hour) == (5, 1)
