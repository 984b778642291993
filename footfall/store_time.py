"""Store-local time: every day, hour and "same period last week" of footfall
is a wall-clock period in the store's IANA zone, stored and compared in UTC.

Local times without an offset (Axis, Hikvision and CSV exports) can be
ambiguous (the repeated hour when clocks go back) or not exist (the hour
skipped when they go forward); ``local_to_utc`` tells which."""

import datetime as dt
import functools
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

UTC = dt.UTC


@functools.lru_cache(maxsize=512)
def zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


class WallClock(StrEnum):
    OK = "ok"
    AMBIGUOUS = "ambiguous"  # occurs twice: fold picks the occurrence
    NONEXISTENT = "nonexistent"  # skipped by a DST change


def local_to_utc(naive: dt.datetime, tz: zoneinfo.ZoneInfo, *, fold: int = 0) -> tuple[dt.datetime, WallClock]:
    """The UTC instant of a store-local wall-clock time. For a nonexistent
    time the instant uses the offset before the change (02:00 on a spring-
    forward night in Paris is 01:00 UTC, the moment of the change)."""
    aware = naive.replace(tzinfo=tz, fold=fold)
    utc = aware.astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != naive:
        return naive.replace(tzinfo=tz, fold=0).astimezone(UTC), WallClock.NONEXISTENT
    other = naive.replace(tzinfo=tz, fold=1 - fold).astimezone(UTC)
    return utc, (WallClock.AMBIGUOUS if other != utc else WallClock.OK)


def day_start(day: dt.date, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The first instant (UTC) of a store-local day, also where midnight is
    skipped or repeated by a DST change."""
    utc, _ = local_to_utc(dt.datetime.combine(day, dt.time()), tz)
    return utc


def days_span(first: dt.date, last: dt.date, tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """``[start, end)`` in UTC of the store-local days ``first`` .. ``last``."""
    return day_start(first, tz), day_start(last + dt.timedelta(days=1), tz)


def local_date(instant: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.date:
    return instant.astimezone(tz).date()


def to_local(instant: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    return instant.astimezone(tz)


@dataclass(frozen=True)
class Bucket:
    """A store-local period: ``[start, end)`` in UTC, ``label`` the local date
    of day, week and month buckets."""

    start: dt.datetime
    end: dt.datetime
    label: dt.date | None = None

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def hour_buckets(first: dt.date, last: dt.date, tz: zoneinfo.ZoneInfo) -> list[Bucket]:
    """Every local hour of the days ``first`` .. ``last``: 23 on a spring-forward
    day, 25 on a fall-back day (the repeated hour twice, with its own offset)."""
    start, end = days_span(first, last, tz)
    hour = dt.timedelta(hours=1)
    out = []
    cursor = start
    while cursor < end:
        out.append(Bucket(cursor, min(cursor + hour, end)))
        cursor += hour
    return out


def _calendar_starts(first: dt.date, last: dt.date, unit: str) -> Iterator[dt.date]:
    if unit == "day":
        cursor = first
        while cursor <= last:
            yield cursor
            cursor += dt.timedelta(days=1)
    elif unit == "week":
        cursor = first - dt.timedelta(days=first.weekday())
        while cursor <= last:
            yield cursor
            cursor += dt.timedelta(days=7)
    else:
        cursor = first.replace(day=1)
        while cursor <= last:
            yield cursor
            cursor = (cursor + dt.timedelta(days=32)).replace(day=1)


def next_calendar_start(start: dt.date, unit: str) -> dt.date:
    if unit == "day":
        return start + dt.timedelta(days=1)
    if unit == "week":
        return start + dt.timedelta(days=7)
    return (start + dt.timedelta(days=32)).replace(day=1)


def calendar_buckets(first: dt.date, last: dt.date, unit: str, tz: zoneinfo.ZoneInfo) -> list[Bucket]:
    """Local days, ISO weeks (Monday first) or months covering ``first`` ..
    ``last``; weeks and months are whole, so the range widens to their edges."""
    return [
        Bucket(day_start(label, tz), day_start(next_calendar_start(label, unit), tz), label)
        for label in _calendar_starts(first, last, unit)
    ]


def rfc3339(instant: dt.datetime, tz: zoneinfo.ZoneInfo) -> str:
    """An instant as RFC 3339 with the store's offset at that instant."""
    return instant.astimezone(tz).isoformat()
