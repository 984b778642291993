"""What the read cache's keys assume (gateway/api/readcache.py), without a
server: an answer that depends on the time only through a local date
(availability at a store, without ``at``) is keyed by the UTC quarter hour,
which is exact only if every time zone's date changes on a quarter hour,
that is if every zone's offset from UTC is a whole number of quarter hours,
now and at its coming transitions; and the memos of facts keep what is read."""

import datetime as dt
import zoneinfo

import pytest

from gateway.api import readcache

QUARTER = dt.timedelta(minutes=15)


def test_every_zones_offset_is_whole_quarter_hours_for_the_next_two_years() -> None:
    start = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    instants = [start + dt.timedelta(days=7 * week) for week in range(105)]
    odd = []
    for name in sorted(zoneinfo.available_timezones()):
        try:
            zone = zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue
        for instant in instants:
            offset = instant.astimezone(zone).utcoffset()
            assert offset is not None
            if offset % QUARTER:
                odd.append((name, instant.isoformat(), str(offset)))
                break
    assert len(zoneinfo.available_timezones()) > 300  # the zone database is there
    assert odd == []


def test_a_local_date_never_changes_inside_a_quarter_hour() -> None:
    """Direct: across the quarter hour's first and last second, a zone's date is the same."""
    zone = zoneinfo.ZoneInfo("Asia/Kathmandu")  # UTC+05:45
    midnight = dt.datetime(2026, 12, 7, tzinfo=zone).astimezone(dt.UTC)
    assert midnight.minute == 15  # its day starts at 18:15 UTC
    before, first = midnight - dt.timedelta(seconds=1), midnight
    last = midnight + QUARTER - dt.timedelta(seconds=1)
    assert before.astimezone(zone).date() != first.astimezone(zone).date()
    assert first.astimezone(zone).date() == last.astimezone(zone).date()
    assert int(first.timestamp() // 900) == int(last.timestamp() // 900) != int(before.timestamp() // 900)


@pytest.mark.parametrize("seconds", [0, 899, 900, 86_399])
def test_quarter_hour_counts_quarter_hours_since_the_epoch(seconds: int, monkeypatch) -> None:
    monkeypatch.setattr(readcache.time, "time", lambda: 1_800_000_000 + seconds)
    assert readcache.quarter_hour() == (1_800_000_000 + seconds) // 900


def test_a_memo_keeps_what_is_read_while_what_is_not_read_is_pushed_out() -> None:
    """The read cache's memos are least recently used first out: a question
    asked all the time survives a stream of questions asked once."""
    memo = readcache.Memo(size=3)
    memo.put("hot", (), "kept")
    for n in range(10):
        memo.put(f"once-{n}", (), n)
        assert memo.get("hot") == ((), "kept")
    assert memo.get("once-0") is None
    assert memo.get("once-9") == ((), 9)
    memo.put("hot", ("v2",), "again")  # put again: the most recent
    for n in range(2):
        memo.put(f"later-{n}", (), n)
    assert memo.get("hot") == (("v2",), "again")
