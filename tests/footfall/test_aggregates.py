"""Aggregates in the store's zone: hourly buckets on the two DST days of
2026 in Europe/Paris (23 and 25 hours), days, weeks and months, and the
completeness that makes gaps visible."""

import datetime as dt

import pytest

from inventory.local_time import days_span, zone
from tests.footfall.helpers import interval

URL = "/api/v1/footfall/aggregates"
PARIS = zone("Europe/Paris")


def quarter_hours_of(day: dt.date, *, skip_hours: tuple[int, ...] = ()) -> list[dict]:
    """Every quarter-hour of a Paris day with in=1, out=2 (UTC instants, so
    the repeated hour is sent twice and the skipped one never)."""
    start, end = days_span(day, day, PARIS)
    out = []
    cursor = start
    while cursor < end:
        if cursor.astimezone(PARIS).hour not in skip_hours:
            out.append(interval("PAR01-E1", cursor.isoformat(), in_=1, out=2))
        cursor += dt.timedelta(minutes=15)
    return out


@pytest.mark.parametrize(
    ("day", "hours", "around_the_change"),
    [
        (
            dt.date(2026, 3, 29),
            23,
            ["2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00"],
        ),
        (
            dt.date(2026, 10, 25),
            25,
            ["2026-10-25T01:00:00+02:00", "2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00"],
        ),
    ],
)
def test_hourly_aggregates_on_a_dst_day(operator_api, entrance, day, hours, around_the_change):
    # given every quarter-hour of a day when the clocks change
    for chunk in (quarter_hours_of(day),):
        operator_api.post("/api/v1/footfall/counts", {"intervals": chunk}, format="json")
    # when the hourly aggregates of that day are read
    response = operator_api.get(URL, {"store": "PAR01", "granularity": "hour", "from": day, "to": day})
    # then the day has as many local hours as the clock shows, each complete with 4 quarter-hours
    assert response.status_code == 200, response.json()
    buckets = response.json()["buckets"]
    assert len(buckets) == hours
    assert all((b["in"], b["out"], b["completeness"], b["intervals"]) == (4, 8, 1.0, 4) for b in buckets)
    starts = [b["period_start"] for b in buckets]
    assert starts[0] == f"{day}T00:00:00+01:00" if day.month == 3 else f"{day}T00:00:00+02:00"
    assert starts[1:4] == around_the_change
    # and the day total is the sum of its hours, in one bucket of 23 or 25 hours
    daily = operator_api.get(URL, {"store": "PAR01", "granularity": "day", "from": day, "to": day}).json()
    assert [(b["in"], b["completeness"]) for b in daily["buckets"]] == [(hours * 4, 1.0)]


def test_a_gap_shows_as_missing_not_as_a_quiet_hour(operator_api, entrance):
    day = dt.date(2026, 3, 10)
    operator_api.post("/api/v1/footfall/counts", {"intervals": quarter_hours_of(day, skip_hours=(14,))}, format="json")
    buckets = operator_api.get(URL, {"store": "PAR01", "granularity": "hour", "from": day, "to": day}).json()["buckets"]
    by_hour = {b["period_start"][11:13]: b for b in buckets}
    assert (by_hour["14"]["in"], by_hour["14"]["completeness"]) == (None, 0.0)
    assert by_hour["15"]["completeness"] == 1.0
    daily = operator_api.get(URL, {"store": "PAR01", "granularity": "day", "from": day, "to": day}).json()["buckets"]
    assert daily[0]["completeness"] == round(23 / 24, 4)


def test_completeness_follows_what_the_device_reports(operator_api, entrance):
    row = interval("PAR01-E1", "2026-03-10T10:00:00+01:00", 60, in_=10, out=8, samples=1800, samples_expected=3600)
    operator_api.post("/api/v1/footfall/counts", {"intervals": [row]}, format="json")
    day = "2026-03-10"
    buckets = operator_api.get(URL, {"store": "PAR01", "granularity": "hour", "from": day, "to": day}).json()["buckets"]
    assert [b["completeness"] for b in buckets if b["in"] is not None] == [0.5]


def test_weeks_and_months_are_whole_and_per_kind(operator_api, entrance, window):
    rows = [
        interval("PAR01-E1", "2026-03-02T10:00:00+01:00", in_=5, out=5),  # Monday of week 10
        interval("PAR01-E1", "2026-03-08T10:00:00+01:00", in_=7, out=7),  # Sunday of week 10
        interval("PAR01-E1", "2026-03-09T10:00:00+01:00", in_=11, out=11),  # Monday of week 11
        interval("PAR01-W1", "2026-03-09T10:00:00+01:00", in_=100, out=90),
    ]
    operator_api.post("/api/v1/footfall/counts", {"intervals": rows}, format="json")
    weeks = operator_api.get(
        URL, {"store": "PAR01", "granularity": "week", "from": "2026-03-04", "to": "2026-03-10"}
    ).json()["buckets"]
    assert [(b["kind"], b["period_start"], b["in"]) for b in weeks] == [
        ("entrance", "2026-03-02T00:00:00+01:00", 12),
        ("entrance", "2026-03-09T00:00:00+01:00", 11),
        ("window", "2026-03-02T00:00:00+01:00", None),
        ("window", "2026-03-09T00:00:00+01:00", 100),
    ]
    months = operator_api.get(
        URL, {"store": "PAR01", "granularity": "month", "from": "2026-03-15", "to": "2026-04-02", "kind": "entrance"}
    ).json()["buckets"]
    assert [(b["period_start"], b["period_end"], b["in"]) for b in months] == [
        ("2026-03-01T00:00:00+01:00", "2026-04-01T00:00:00+02:00", 23),
        ("2026-04-01T00:00:00+02:00", "2026-05-01T00:00:00+02:00", None),
    ]


def test_a_store_client_reads_its_own_store_without_naming_it(store_api, entrance):
    response = store_api.get(URL, {"granularity": "day", "from": "2026-03-01", "to": "2026-03-02"})
    assert response.status_code == 200
    assert response.json()["store"] == "PAR01"


def test_a_store_client_cannot_read_another_store(store_api, entrance, other_store):
    response = store_api.get(URL, {"store": "LYO01", "from": "2026-03-01", "to": "2026-03-02"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"store": "PAR01", "from": "2026-03-01"}, "to"),
        ({"store": "PAR01", "from": "01/03/2026", "to": "2026-03-02"}, "from"),
        ({"store": "PAR01", "from": "2026-03-05", "to": "2026-03-02"}, "to"),
        ({"store": "PAR01", "from": "2026-01-01", "to": "2026-03-02", "granularity": "hour"}, "to"),
        ({"store": "PAR01", "from": "2026-03-01", "to": "2026-03-02", "granularity": "minute"}, "granularity"),
        ({"from": "2026-03-01", "to": "2026-03-02"}, "store"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(operator_api, entrance, query, field):
    response = operator_api.get(URL, query)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == field
