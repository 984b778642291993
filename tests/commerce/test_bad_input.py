"""Strict types in click-and-collect bodies: quantities, ids and capacities
are JSON integers, flags JSON booleans, text free of control characters; a
lax value is a 422 naming the field, and nothing is booked or changed."""

import json
from typing import Any

import pytest

from commerce.models import Order, PickupSlot, SlotException, SlotHold
from tests.commerce.factories import idempotency_key, open_slot
from tests.inventory.factories import problem

pytestmark = pytest.mark.django_db

NOT_INTEGERS = ["2", 2.0, True, "0x2", " 2"]


def only_error(response: Any) -> tuple[str, str]:
    assert response.status_code == 422, response.content[:300]
    errors = problem(response)["errors"]
    assert len(errors) == 1, errors
    return errors[0]["field"], errors[0]["code"]


def place(api: Any, body: Any) -> Any:
    return api.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY=idempotency_key())


@pytest.mark.parametrize("value", NOT_INTEGERS)
def test_order_lines_and_slots_are_json_integers(alice, slot, apples, value: Any) -> None:
    api, _user = alice

    by_quantity = place(api, {"slot_id": slot.pk, "lines": [{"product_id": apples.pk, "quantity": value}]})
    by_product = place(api, {"slot_id": slot.pk, "lines": [{"product_id": value, "quantity": 1}]})
    by_slot = place(api, {"slot_id": value, "lines": [{"product_id": apples.pk, "quantity": 1}]})
    hold = api.post("/api/v1/pickup-holds", {"slot_id": value}, format="json")

    assert only_error(by_quantity) == ("lines.0.quantity", "invalid")
    assert only_error(by_product) == ("lines.0.product_id", "invalid")
    assert only_error(by_slot) == ("slot_id", "invalid")
    assert only_error(hold) == ("slot_id", "invalid")
    assert not Order.objects.exists()
    assert not SlotHold.objects.exists()


def test_an_id_beyond_bigint_is_a_422_not_a_database_error(alice, apples) -> None:
    api, _user = alice

    response = place(api, {"slot_id": 2**63, "lines": [{"product_id": apples.pk, "quantity": 1}]})

    assert only_error(response) == ("slot_id", "max_value")


@pytest.mark.parametrize("value", NOT_INTEGERS)
def test_schedule_capacities_are_json_integers(store, store_api, value: Any) -> None:
    windows = [{"weekday": 1, "opens": "08:00", "closes": "12:00", "slot_minutes": 30, "capacity": value}]
    slot = open_slot(store, capacity=4)

    schedule_url, slot_url = f"/api/v1/pickup-schedules/{store.pk}", f"/api/v1/pickup-slots/{slot.pk}"

    schedule = store_api.put(
        schedule_url, {"windows": windows}, format="json", HTTP_IF_MATCH=store_api.get(schedule_url)["ETag"]
    )
    exception = store_api.post(
        f"/api/v1/pickup-schedules/{store.pk}/exceptions", {"date": "2030-12-24", "capacity": value}, format="json"
    )
    slot_change = store_api.patch(
        slot_url, {"capacity": value}, format="json", HTTP_IF_MATCH=store_api.get(slot_url)["ETag"]
    )

    assert only_error(schedule) == ("windows.0.capacity", "invalid")
    assert only_error(exception) == ("capacity", "invalid")
    assert only_error(slot_change) == ("capacity", "invalid")
    assert not SlotException.objects.exists()
    assert PickupSlot.objects.get(pk=slot.pk).capacity == 4


@pytest.mark.parametrize("value", ["true", 1, "yes"])
def test_flags_are_json_booleans(store, store_api, value: Any) -> None:
    slot = open_slot(store, capacity=4)

    exception = store_api.post(
        f"/api/v1/pickup-schedules/{store.pk}/exceptions", {"date": "2030-12-24", "closed": value}, format="json"
    )
    slot_url = f"/api/v1/pickup-slots/{slot.pk}"
    slot_change = store_api.patch(
        slot_url, {"closed": value}, format="json", HTTP_IF_MATCH=store_api.get(slot_url)["ETag"]
    )

    assert only_error(exception) == ("closed", "invalid")
    assert only_error(slot_change) == ("closed", "invalid")
    assert not PickupSlot.objects.get(pk=slot.pk).is_closed


@pytest.mark.parametrize("reason", ["late\x00", "\x1b[2J", "lone \ud800"])
def test_a_reason_or_note_with_control_characters_is_a_422(alice, store, store_api, slot, apples, reason) -> None:
    api, _user = alice
    order = place(api, {"slot_id": slot.pk, "lines": [{"product_id": apples.pk, "quantity": 1}]}).json()["id"]

    cancel = api.post(f"/api/v1/orders/{order}/cancel", json.dumps({"reason": reason}), content_type="application/json")
    status = store_api.post(
        f"/api/v1/orders/{order}/status",
        json.dumps({"status": "preparing", "reason": reason}),
        content_type="application/json",
    )
    note = store_api.post(
        f"/api/v1/pickup-schedules/{store.pk}/exceptions",
        json.dumps({"date": "2030-12-24", "closed": True, "note": reason}),
        content_type="application/json",
    )

    assert only_error(cancel) == ("reason", "invalid_characters")
    assert only_error(status) == ("reason", "invalid_characters")
    assert only_error(note) == ("note", "invalid_characters")
    assert Order.objects.get(public_id=order).status == "placed"
