"""Store-local time: every location has an IANA zone (``Location.time_zone``);
days, hours, opening times and slot times are wall-clock periods in that
zone, stored and compared as UTC instants, right across DST changes.

A wall-clock time without an offset can be awkward in two ways:

- it does not exist: the hour skipped when clocks go forward (Europe/Paris
  2026-03-29 02:00-02:59);
- it is ambiguous: the hour repeated when clocks go back (2026-10-25
  02:00-02:59), ``fold`` 0 its first occurrence (CEST), 1 the second (CET).

``local_to_utc`` reads a wall time and says which case happened, for callers
that must tell (footfall refuses a count stamped in the skipped hour and
warns about the repeated one). ``local_instant`` is the rule for times a
store sets itself (opening of a pickup window, slot release): a skipped time
means the transition itself (the first instant at or after it), a repeated
one its first occurrence."""

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
    """The UTC instant of a store-local wall-clock time, and which case it
    was. For a nonexistent time the instant uses the offset before the change
    (02:30 on a spring-forward night in Paris is 01:30 UTC)."""
    utc = naive.replace(tzinfo=tz, fold=fold).astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != naive:
        return naive.replace(tzinfo=tz, fold=0).astimezone(UTC), WallClock.NONEXISTENT
    other = naive.replace(tzinfo=tz, fold=1 - fold).astimezone(UTC)
    return utc, (WallClock.AMBIGUOUS if other != utc else WallClock.OK)


def local_instant(day: dt.date, at: dt.time, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The UTC instant at which the wall clock in ``tz`` first reads ``day at``:
    a repeated time's first occurrence; for a skipped time, the transition
    (02:30 on a spring-forward night in Paris is 01:00 UTC, 03:00 CEST)."""
    naive = dt.datetime.combine(day, at.replace(tzinfo=None))
    utc, wall = local_to_utc(naive, tz)
    if wall != WallClock.NONEXISTENT:
        return utc
    # In a gap: fold=1 reads the wall time with the offset after the change
    # (an earlier instant), fold=0 with the offset before (a later one); the
    # transition lies between them. Bisect to the second.
    low, high = sorted((naive.replace(tzinfo=tz, fold=1).astimezone(UTC), utc))
    while high - low > dt.timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).replace(tzinfo=None) >= naive:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def local_date(instant: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.date:
    """The store-local calendar day ``instant`` (timezone-aware) falls on."""
    return instant.astimezone(tz).date()


def day_start(day: dt.date, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The first instant (UTC) of a store-local day, also where midnight is
    skipped or repeated by a DST change."""
    utc, _ = local_to_utc(dt.datetime.combine(day, dt.time()), tz)
    return utc


def days_span(first: dt.date, last: dt.date, tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """``[start, end)`` in UTC of the store-local days ``first`` .. ``last``."""
    return day_start(first, tz), day_start(last + dt.timedelta(days=1), tz)


def rfc3339(instant: dt.datetime, tz: zoneinfo.ZoneInfo) -> str:
    """An instant as RFC 3339 with the store's offset at that instant."""
    return instant.astimezone(tz).isoformat()


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


def next_calendar_start(start: dt.date, unit: str) -> dt.date:
    """The first day of the day, ISO week or month after the one starting on ``start``."""
    if unit == "day":
        return start + dt.timedelta(days=1)
    if unit == "week":
        return start + dt.timedelta(days=7)
    return (start + dt.timedelta(days=32)).replace(day=1)


def _calendar_starts(first: dt.date, last: dt.date, unit: str) -> Iterator[dt.date]:
    if unit == "day":
        cursor = first
    elif unit == "week":
        cursor = first - dt.timedelta(days=first.weekday())
    else:
        cursor = first.replace(day=1)
    while cursor <= last:
        yield cursor
        cursor = next_calendar_start(cursor, unit)


def calendar_buckets(first: dt.date, last: dt.date, unit: str, tz: zoneinfo.ZoneInfo) -> list[Bucket]:
    """Local days, ISO weeks (Monday first) or months covering ``first`` ..
    ``last``; weeks and months are whole, so the range widens to their edges."""
    return [
        Bucket(day_start(label, tz), day_start(next_calendar_start(label, unit), tz), label)
        for label in _calendar_starts(first, last, unit)
    ]
