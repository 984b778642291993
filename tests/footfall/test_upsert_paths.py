"""The count upsert has two ways to reach PostgreSQL, chosen by batch size
(footfall.services.ingest.STAGE_FROM): array parameters for small batches,
a binary COPY into the session's stage for large ones. Both must write and
answer the same."""

import datetime as dt

import pytest

from footfall.models import CountInterval, Sensor
from footfall.services import ingest
from footfall.services.adapters import CountRecord
from footfall.services.ingest import count_intervals_ingest
from tests.footfall.helpers import day_totals

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 3, 9, 0, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _records(sensor: Sensor, count: int, *, bump: int = 0) -> list[CountRecord]:
    quarter = dt.timedelta(minutes=15)
    return [
        CountRecord(
            locator=f"/intervals/{i}",
            sensor_code=sensor.code,
            start=START + quarter * i,
            end=START + quarter * (i + 1),
            in_value=i % 17 + (bump if i % 2 else 0),
            out_value=i % 13,
            samples=None if i % 3 else 9,
            samples_expected=None if i % 3 else 10,
        )
        for i in range(count)
    ]


def _statuses(records: list[CountRecord]) -> dict[str, int]:
    outcome = count_intervals_ingest(caller=None, records=records, now=NOW)
    return {status: outcome.count(status) for status in ("created", "updated", "unchanged", "rejected")}


@pytest.mark.parametrize("stage_from", [1, 10_000], ids=["staged", "arrays"])
def test_both_paths_create_then_leave_unchanged_then_update(monkeypatch, entrance, stage_from):
    # given a batch above and below the threshold, whichever path it takes
    monkeypatch.setattr(ingest, "STAGE_FROM", stage_from)
    records = _records(entrance, 200)
    # when it is sent, sent again, then sent with half its intervals changed
    first, second, third = _statuses(records), _statuses(records), _statuses(_records(entrance, 200, bump=5))
    # then it is created, unchanged, then half updated
    assert first == {"created": 200, "updated": 0, "unchanged": 0, "rejected": 0}
    assert second == {"created": 0, "updated": 0, "unchanged": 200, "rejected": 0}
    assert third == {"created": 0, "updated": 100, "unchanged": 100, "rejected": 0}
    # and the rows and day totals are those sent
    stored = CountInterval.objects.filter(sensor=entrance)
    assert stored.count() == 200
    assert sum(stored.values_list("in_count", flat=True)) == sum(i % 17 for i in range(200)) + 5 * 100
    assert stored.filter(samples=9, samples_expected=10).count() == len(range(0, 200, 3))
    assert sum(total_in for total_in, _ in day_totals(entrance).values()) == sum(
        stored.values_list("in_count", flat=True)
    )
