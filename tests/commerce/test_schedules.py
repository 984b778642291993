"""Slot schedules through the API (operator and the store itself), their
exceptions, and staff changes to released slots."""

import datetime as dt

import pytest

from commerce.models import PickupSlot, SlotSchedule
from commerce.services.release import slots_release_due
from partners.models import CallerKind
from tests.commerce.factories import idempotency_key, open_slot, store_with_schedule
from tests.factories import LocationFactory, api_as, make_client

pytestmark = pytest.mark.django_db

WEEKDAYS = [
    {"weekday": day, "opens": "08:00", "closes": "20:00", "slot_minutes": 30, "capacity": 12} for day in range(1, 7)
]


def put(api, store, body, **headers):
    return api.put(f"/api/v1/pickup-schedules/{store.pk}", body, format="json", **headers)


def test_operator_creates_then_replaces_a_schedule_with_if_match(operator_api) -> None:
    store = LocationFactory.create()
    # when the operator creates the schedule (no If-Match for a new one)
    created = put(operator_api, store, {"windows": WEEKDAYS})
    assert created.status_code == 200, created.json()
    assert created.json()["days_ahead"] == 7
    assert created.json()["release_time"] == "00:00:00"
    assert len(created.json()["windows"]) == 6
    etag = created["ETag"]
    # then replacing needs the ETag: none is 428, a stale one 412, the right one bumps the version
    changed = {"days_ahead": 3, "release_time": "06:00", "windows": WEEKDAYS[:2]}
    assert put(operator_api, store, changed).status_code == 428
    assert put(operator_api, store, changed, HTTP_IF_MATCH='"pickup-schedule-1-v9"').status_code == 412
    replaced = put(operator_api, store, changed, HTTP_IF_MATCH=etag)
    assert replaced.status_code == 200
    assert replaced.json()["version"] == 2
    assert replaced.json()["release_time"] == "06:00:00"
    assert len(replaced.json()["windows"]) == 2
    # and a conditional read of the new version is 304
    read = operator_api.get(f"/api/v1/pickup-schedules/{store.pk}")
    assert read.json()["days_ahead"] == 3
    assert operator_api.get(f"/api/v1/pickup-schedules/{store.pk}", HTTP_IF_NONE_MATCH=read["ETag"]).status_code == 304


def test_the_schedule_shapes_the_next_release(operator_api) -> None:
    store = LocationFactory.create()
    put(operator_api, store, {"windows": [{**w, "capacity": 4} for w in WEEKDAYS]})
    slots_release_due(store_ids=[store.pk])
    slots = PickupSlot.objects.filter(store=store)
    assert slots.exists()
    assert set(slots.values_list("capacity", flat=True)) == {4}


def test_a_store_manages_its_own_schedule_only(store, store_api) -> None:
    etag = store_api.get(f"/api/v1/pickup-schedules/{store.pk}")["ETag"]
    assert put(store_api, store, {"windows": WEEKDAYS}, HTTP_IF_MATCH=etag).status_code == 200
    other = store_with_schedule()
    assert store_api.get(f"/api/v1/pickup-schedules/{other.pk}").status_code == 404
    assert put(store_api, other, {"windows": WEEKDAYS}).status_code == 404
    partner_api = api_as(make_client(CallerKind.PARTNER))
    assert partner_api.get(f"/api/v1/pickup-schedules/{store.pk}").status_code == 404


def test_shoppers_cannot_touch_schedules(alice, store) -> None:
    assert put(alice[0], store, {"windows": WEEKDAYS}).status_code == 403


@pytest.mark.parametrize(
    ("windows", "field"),
    [
        ([{**WEEKDAYS[0], "weekday": 8}], "windows.0.weekday"),
        ([{**WEEKDAYS[0], "opens": "25:00"}], "windows.0.opens"),
        ([{**WEEKDAYS[0], "slot_minutes": 2}], "windows.0.slot_minutes"),
        ([{**WEEKDAYS[0], "capacity": -1}], "windows.0.capacity"),
        ([{**WEEKDAYS[0], "colour": "red"}], "windows.0.colour"),
        ([WEEKDAYS[1], {**WEEKDAYS[0], "opens": "20:00", "closes": "02:00"}], "windows.1.closes"),
    ],
)
def test_invalid_windows_are_422(operator_api, windows, field) -> None:
    response = put(operator_api, LocationFactory.create(), {"windows": windows})
    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]]


def test_a_window_may_run_until_midnight(operator_api) -> None:
    response = put(operator_api, LocationFactory.create(), {"windows": [{**WEEKDAYS[0], "closes": "00:00"}]})
    assert response.status_code == 200
    assert response.json()["windows"][0]["closes"] == "00:00"


def test_overlapping_windows_are_refused(operator_api) -> None:
    windows = [WEEKDAYS[0], {**WEEKDAYS[0], "opens": "19:00", "closes": "22:00"}]
    response = put(operator_api, LocationFactory.create(), {"windows": windows})
    assert response.status_code == 422
    assert response.json()["code"] == "slot_windows_overlap"
    assert not SlotSchedule.objects.exists()


def test_exceptions_only_for_days_not_released_yet(store, store_api) -> None:
    slots_release_due(store_ids=[store.pk])
    released_day = (
        PickupSlot.objects.filter(store=store).order_by("-local_date").values_list("local_date", flat=True)[0]
    )
    later = released_day + dt.timedelta(days=5)
    url = f"/api/v1/pickup-schedules/{store.pk}/exceptions"
    # a date whose slots exist is refused
    refused = store_api.post(url, {"date": released_day.isoformat(), "closed": True}, format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "day_already_released"
    # a later one is taken, and replaced by the same date again
    created = store_api.post(url, {"date": later.isoformat(), "capacity": 2}, format="json")
    assert created.status_code == 201
    again = store_api.post(url, {"date": later.isoformat(), "closed": True}, format="json")
    assert again.json()["id"] == created.json()["id"]
    assert again.json()["closed"] is True
    schedule = store_api.get(f"/api/v1/pickup-schedules/{store.pk}").json()
    assert [e["date"] for e in schedule["exceptions"]] == [later.isoformat()]
    # neither closed nor a capacity: 422
    assert store_api.post(url, {"date": later.isoformat()}, format="json").status_code == 422
    assert store_api.delete(f"{url}/{created.json()['id']}").status_code == 204
    assert store_api.delete(f"{url}/{created.json()['id']}").status_code == 404


def test_staff_change_a_released_slots_capacity_never_below_bookings(store, store_api, alice, apples) -> None:
    slot = open_slot(store, capacity=2)
    alice[0].post(
        "/api/v1/orders",
        {"slot_id": slot.pk, "lines": [{"product_id": apples.pk, "quantity": 1}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=idempotency_key(),
    )
    url = f"/api/v1/pickup-slots/{slot.pk}"
    etag = alice[0].get(url)["ETag"]
    assert store_api.patch(url, {"capacity": 5}, format="json").status_code == 428
    assert store_api.patch(url, {"capacity": 5}, format="json", HTTP_IF_MATCH='"pickup-slot-1-v1"').status_code == 412
    widened = store_api.patch(url, {"capacity": 5}, format="json", HTTP_IF_MATCH=etag)
    assert widened.status_code == 200
    assert widened.json()["capacity"] == 5
    assert widened.json()["booked"] == 1
    too_small = store_api.patch(url, {"capacity": 0}, format="json", HTTP_IF_MATCH=widened["ETag"])
    assert too_small.status_code == 409
    assert too_small.json()["code"] == "capacity_below_bookings"
    closed = store_api.patch(url, {"closed": True}, format="json", HTTP_IF_MATCH=widened["ETag"])
    assert closed.json()["closed"] is True
    refused = alice[0].post(
        "/api/v1/orders",
        {"slot_id": slot.pk, "lines": [{"product_id": apples.pk, "quantity": 1}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=idempotency_key(),
    )
    assert refused.json()["code"] == "store_closed"


def test_another_stores_slot_cannot_be_changed(store_api) -> None:
    slot = open_slot(store_with_schedule())
    response = store_api.patch(
        f"/api/v1/pickup-slots/{slot.pk}", {"capacity": 50}, format="json", HTTP_IF_MATCH=f'"pickup-slot-{slot.pk}-v1"'
    )
    assert response.status_code == 404
