"""Ingest of count intervals through the canonical JSON endpoint: idempotent,
per-record results, tenant isolation, batch limits and problem+json."""

import datetime as dt

import pytest

from footfall.models import CountInterval
from footfall.services.adapters import MAX_BATCH_RECORDS
from partners.models import CallerKind
from tests.factories import api_as, make_client
from tests.footfall.helpers import day_totals, interval, totals

URL = "/api/v1/footfall/counts"


def a_morning(sensor: str = "PAR01-E1") -> list[dict]:
    """Eight quarter-hours of a Saturday morning in Paris (UTC+1)."""
    counts = [(12, 3), (25, 9), (31, 18), (40, 22), (38, 35), (44, 30), (52, 41), (47, 50)]
    start = dt.datetime(2026, 3, 14, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    return [
        interval(sensor, (start + dt.timedelta(minutes=15 * i)).isoformat(), in_=a, out=b)
        for i, (a, b) in enumerate(counts)
    ]


def test_a_batch_sent_twice_gives_the_same_totals(device_api, entrance):
    # given a morning of counts
    batch = {"intervals": a_morning()}
    # when the device sends it twice
    first = device_api.post(URL, batch, format="json")
    after_first = totals(entrance), day_totals(entrance)
    second = device_api.post(URL, batch, format="json")
    # then the totals did not move, and the second answer says nothing changed
    assert first.status_code == 200, first.json()
    assert first.json()["created"] == 8
    assert second.json()["unchanged"] == 8
    assert second.json()["created"] == 0
    assert totals(entrance) == after_first[0] == (8, 289, 208)
    assert day_totals(entrance) == after_first[1] == {dt.date(2026, 3, 14): (289, 208)}


def test_a_resent_interval_replaces_the_stored_one(device_api, entrance):
    # given a stored morning
    device_api.post(URL, {"intervals": a_morning()}, format="json")
    # when the device corrects one quarter-hour
    fix = a_morning()[2] | {"in": 100, "out": 90}
    response = device_api.post(URL, {"intervals": [fix]}, format="json")
    # then it replaced it, never added to it, and the day total followed
    assert response.json()["results"][0]["status"] == "updated"
    assert totals(entrance) == (8, 289 - 31 + 100, 208 - 18 + 90)
    assert day_totals(entrance)[dt.date(2026, 3, 14)] == (358, 280)


def test_late_data_lands_in_its_day(device_api, entrance):
    # given a stored morning of the 14th
    device_api.post(URL, {"intervals": a_morning()}, format="json")
    # when an interval of the 12th arrives days late
    late = interval("PAR01-E1", "2026-03-12T18:00:00+01:00", in_=7, out=9)
    device_api.post(URL, {"intervals": [late]}, format="json")
    # then both days are right
    assert day_totals(entrance) == {dt.date(2026, 3, 12): (7, 9), dt.date(2026, 3, 14): (289, 208)}


def test_bad_records_get_their_own_errors_and_good_ones_are_kept(device_api, entrance):
    # given a batch with good records and every kind of bad one
    good = a_morning()
    bad = [
        interval("PAR01-E1", "2026-03-14T12:00:00+01:00", in_=-3, out=1),
        interval("PAR01-E1", "2026-03-14T12:15:00+01:00", in_=2, out=1) | {"start": "yesterday"},
        interval("NOPE", "2026-03-14T12:30:00+01:00", in_=2, out=1),
        interval("PAR01-E1", "2026-03-14T12:45:00+01:00", in_=2, out=1) | {"end": "2026-03-14T12:00:00+01:00"},
        interval("PAR01-E1", "2026-03-14T13:00:00+01:00", 60 * 25, in_=2, out=1),
        interval("PAR01-E1", "2099-01-01T13:00:00+01:00", in_=2, out=1),
        "not an object",
        interval("PAR01-E1", "2026-03-14T14:00:00+01:00", in_=2, out=1, samples=5, samples_expected=4),
        interval("PAR01-E1", "2026-03-14T09:05:00+01:00", in_=2, out=1),  # overlaps 09:00-09:15 of the batch
    ]
    # when it is sent
    response = device_api.post(URL, {"intervals": good + bad}, format="json")
    # then the good ones are stored and each bad one says why
    body = response.json()
    assert response.status_code == 200
    assert body["created"] == 8
    assert body["rejected"] == len(bad)
    codes = [r["errors"][0]["code"] for r in body["results"][8:]]
    assert codes == [
        "invalid_count",
        "invalid_datetime",
        "unknown_sensor",
        "invalid_period",
        "interval_too_long",
        "in_future",
        "invalid",
        "invalid_completeness",
        "overlaps_in_batch",
    ]
    assert body["results"][8]["locator"] == "/intervals/8"
    assert totals(entrance) == (8, 289, 208)


def test_an_interval_overlapping_a_stored_one_with_another_start_is_rejected(device_api, entrance):
    # given a stored quarter-hour 10:00-10:15
    device_api.post(
        URL, {"intervals": [interval("PAR01-E1", "2026-03-14T10:00:00+01:00", in_=5, out=5)]}, format="json"
    )
    # when an hour 09:30-10:30 arrives for the same sensor
    hour = interval("PAR01-E1", "2026-03-14T09:30:00+01:00", 60, in_=50, out=50)
    response = device_api.post(URL, {"intervals": [hour]}, format="json")
    # then it is rejected rather than counting the same people twice
    assert response.json()["results"][0]["errors"][0]["code"] == "overlaps_stored_interval"
    assert totals(entrance) == (1, 5, 5)


def test_the_same_start_twice_in_a_batch_keeps_the_later_one(device_api, entrance):
    first = interval("PAR01-E1", "2026-03-14T10:00:00+01:00", in_=5, out=5)
    second = first | {"in": 9}
    response = device_api.post(URL, {"intervals": [first, second]}, format="json")
    statuses = [r["status"] for r in response.json()["results"]]
    assert statuses == ["rejected", "created"]
    assert response.json()["results"][0]["errors"][0]["code"] == "duplicate_in_batch"
    assert totals(entrance) == (1, 9, 5)


def test_a_device_cannot_write_another_stores_sensor(device_api, entrance, other_entrance):
    # given a device of PAR01 and a sensor of LYO01
    batch = {"intervals": a_morning("PAR01-E1")[:1] + a_morning("LYO01-E1")[:1]}
    # when it sends counts for both
    response = device_api.post(URL, batch, format="json")
    # then its own sensor is written, the other is answered like an unknown sensor and never written
    results = response.json()["results"]
    assert results[0]["status"] == "created"
    assert results[1]["status"] == "rejected"
    assert results[1]["errors"][0]["code"] == "unknown_sensor"
    assert not CountInterval.objects.filter(sensor=other_entrance).exists()


def test_a_sensor_bound_to_one_device_refuses_another_device_of_the_store(store, entrance):
    # given a sensor that names its device
    owner = make_client(CallerKind.DEVICE, store=store)
    entrance.device = owner
    entrance.save(update_fields=["device"])
    intruder = api_as(make_client(CallerKind.DEVICE, store=store))
    # when another device of the same store writes it
    response = intruder.post(URL, {"intervals": a_morning()[:1]}, format="json")
    # then it is refused, and the owner may write it
    assert response.json()["results"][0]["errors"][0]["code"] == "unknown_sensor"
    assert api_as(owner).post(URL, {"intervals": a_morning()[:1]}, format="json").json()["created"] == 1


def test_the_operator_may_write_any_sensor(operator_api, entrance, other_entrance):
    batch = {"intervals": a_morning("PAR01-E1")[:2] + a_morning("LYO01-E1")[:2]}
    assert operator_api.post(URL, batch, format="json").json()["created"] == 4


def test_an_inactive_sensor_is_refused_per_record(device_api, entrance):
    entrance.is_active = False
    entrance.save(update_fields=["is_active"])
    response = device_api.post(URL, {"intervals": a_morning()[:1]}, format="json")
    assert response.json()["results"][0]["errors"][0]["code"] == "sensor_inactive"


def test_a_batch_over_the_limit_is_rejected_whole_with_413(device_api, entrance):
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    batch = [
        interval("PAR01-E1", (start + dt.timedelta(minutes=5 * i)).isoformat(), 5, in_=1, out=1)
        for i in range(MAX_BATCH_RECORDS + 1)
    ]
    response = device_api.post(URL, {"intervals": batch}, format="json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "batch_too_large"
    assert response.json()["max_records"] == MAX_BATCH_RECORDS
    assert not CountInterval.objects.exists()


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ('{"intervals": [', "application/json", 400, "malformed_request"),
        ('{"records": []}', "application/json", 422, "invalid_batch"),
        ("[1, 2]", "application/json", 422, "invalid_batch"),
        ("sensor,start", "text/plain", 415, "unsupported_media_type"),
    ],
)
def test_unreadable_batches_get_problem_json(device_api, entrance, body, content_type, status, code):
    response = device_api.post(URL, body, content_type=content_type)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code


def test_a_bad_counting_parameter_is_a_400(device_api, entrance):
    response = device_api.post(URL + "?counting=sometimes", {"intervals": []}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "counting"


@pytest.mark.parametrize("kind", [CallerKind.PARTNER, CallerKind.SHOPPER])
def test_callers_without_the_ingest_scope_get_403(db, store, entrance, kind):
    api = api_as(make_client(kind))
    response = api.post(URL, {"intervals": a_morning()}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


def test_no_token_is_a_401(client, entrance):
    response = client.post(URL, {"intervals": []}, content_type="application/json")
    assert response.status_code == 401


def test_an_idempotency_key_replays_the_first_answer(device_api, entrance):
    batch = {"intervals": a_morning()}
    first = device_api.post(URL, batch, format="json", HTTP_IDEMPOTENCY_KEY="push-1842")
    again = device_api.post(URL, batch, format="json", HTTP_IDEMPOTENCY_KEY="push-1842")
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert totals(entrance) == (8, 289, 208)


def test_a_till_of_the_store_cannot_write_its_sensors(store, entrance):
    # given a store client (a till) that holds footfall:ingest to post sales
    till = make_client(CallerKind.STORE, store=store)
    assert "footfall:ingest" in till.allowed_scope_list()
    # when it sends counts for a sensor of its own store
    response = api_as(till).post(URL, {"intervals": a_morning()[:1]}, format="json")
    # then the sensor is unknown to it: counts come from the store's devices only
    assert response.json()["results"][0]["errors"][0]["code"] == "unknown_sensor"
    assert not CountInterval.objects.filter(sensor=entrance).exists()
