"""Slot holds: a unit claimed while the customer checks out, given back when
released, when it expires (lazily and by the sweep), or turned into the
booking by the order."""

import datetime as dt

import pytest
from django.utils import timezone

from commerce.models import HoldState, Order, PickupSlot, SlotHold
from commerce.services.slots import holds_expire_due
from commerce.tasks import expire_slot_holds
from tests.commerce.factories import idempotency_key, open_slot
from tests.factories import UserFactory, api_as

pytestmark = pytest.mark.django_db


def hold(api, slot):
    return api.post("/api/v1/pickup-holds", {"slot_id": slot.pk}, format="json")


def order_from_hold(api, hold_id, product, quantity=1):
    return api.post(
        "/api/v1/orders",
        {"hold_id": hold_id, "lines": [{"product_id": product.pk, "quantity": quantity}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=idempotency_key(),
    )


def counters(slot: PickupSlot) -> tuple[int, int]:
    slot.refresh_from_db()
    return slot.booked, slot.held


def expire(hold_id: str) -> None:
    SlotHold.objects.filter(public_id=hold_id).update(expires_at=timezone.now() - dt.timedelta(seconds=1))


def test_a_hold_takes_one_unit_until_it_expires(alice, slot) -> None:
    before = timezone.now()
    response = hold(alice[0], slot)
    assert response.status_code == 201
    body = response.json()
    assert body["state"] == "active"
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert dt.timedelta(minutes=9) < expires - before <= dt.timedelta(minutes=10, seconds=5)
    assert counters(slot) == (0, 1)


def test_the_order_consumes_the_hold(alice, slot, apples) -> None:
    hold_id = hold(alice[0], slot).json()["id"]
    response = order_from_hold(alice[0], hold_id, apples)
    assert response.status_code == 201
    assert response.json()["slot"]["id"] == slot.pk
    assert counters(slot) == (1, 0)
    assert SlotHold.objects.get(public_id=hold_id).state == HoldState.CONSUMED
    # and a second order cannot reuse it
    again = order_from_hold(alice[0], hold_id, apples)
    assert again.status_code == 409
    assert again.json()["code"] == "hold_not_active"
    assert counters(slot) == (1, 0)


def test_a_hold_on_a_full_slot_is_refused(alice, bob, store) -> None:
    slot = open_slot(store, capacity=1)
    assert hold(alice[0], slot).status_code == 201
    response = hold(bob[0], slot)
    assert response.status_code == 409
    assert response.json()["code"] == "slot_full"


def test_an_expired_hold_cannot_be_ordered_and_its_unit_frees_lazily(alice, bob, store, apples) -> None:
    # given Alice held the last unit and let it expire
    slot = open_slot(store, capacity=1)
    hold_id = hold(alice[0], slot).json()["id"]
    expire(hold_id)
    # then her order from it is refused as expired
    response = order_from_hold(alice[0], hold_id, apples)
    assert response.status_code == 409
    assert response.json()["code"] == "hold_expired"
    # and Bob can book the unit without waiting for the sweep
    booked = bob[0].post(
        "/api/v1/orders",
        {"slot_id": slot.pk, "lines": [{"product_id": apples.pk, "quantity": 1}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=idempotency_key(),
    )
    assert booked.status_code == 201, booked.json()
    assert counters(slot) == (1, 0)
    assert SlotHold.objects.get(public_id=hold_id).state == HoldState.EXPIRED


def test_someone_elses_hold_is_404(alice, bob, slot, apples) -> None:
    hold_id = hold(alice[0], slot).json()["id"]
    assert order_from_hold(bob[0], hold_id, apples).status_code == 404
    assert bob[0].delete(f"/api/v1/pickup-holds/{hold_id}").status_code == 404
    assert counters(slot) == (0, 1)


def test_releasing_a_hold_gives_the_unit_back_once(alice, slot) -> None:
    hold_id = hold(alice[0], slot).json()["id"]
    assert alice[0].delete(f"/api/v1/pickup-holds/{hold_id}").status_code == 204
    assert counters(slot) == (0, 0)
    assert alice[0].delete(f"/api/v1/pickup-holds/{hold_id}").status_code == 204
    assert counters(slot) == (0, 0)
    assert SlotHold.objects.get(public_id=hold_id).state == HoldState.RELEASED


def test_a_new_hold_gives_the_shoppers_previous_one_back(alice, store) -> None:
    first, second = open_slot(store), open_slot(store, starts_in=dt.timedelta(days=2))
    first_id = hold(alice[0], first).json()["id"]
    hold(alice[0], second)
    assert counters(first) == (0, 0)
    assert counters(second) == (0, 1)
    assert SlotHold.objects.get(public_id=first_id).state == HoldState.RELEASED
    assert SlotHold.objects.filter(user=alice[1], state=HoldState.ACTIVE).count() == 1


def test_a_store_client_holds_several_units_for_its_customers(store_client, slot) -> None:
    api = api_as(store_client)
    assert [hold(api, slot).status_code for _ in range(3)] == [201, 201, 201]
    assert counters(slot) == (0, 3)


def test_the_sweep_expires_due_holds_once_even_when_run_twice(app, store) -> None:
    # given five holds on a slot, three of them expired
    slot = open_slot(store, capacity=5)
    ids = [hold(api_as(app, user=UserFactory.create()), slot).json()["id"] for _ in range(5)]
    for hold_id in ids[:3]:
        expire(hold_id)
    # when the sweep runs twice (the beat task, then the service)
    assert expire_slot_holds() == 3
    assert holds_expire_due() == 0
    # then exactly three units came back
    assert counters(slot) == (0, 2)
    assert SlotHold.objects.filter(state=HoldState.EXPIRED).count() == 3


def test_slots_list_does_not_count_expired_holds(alice, bob, store) -> None:
    slot = open_slot(store, capacity=2)
    expire(hold(alice[0], slot).json()["id"])
    hold(bob[0], slot)
    response = alice[0].get(f"/api/v1/pickup-slots?store={store.pk}&from={slot.local_date}&to={slot.local_date}")
    assert [s["remaining"] for s in response.json()["results"]] == [1]
    assert counters(slot) == (0, 2)  # a read gives nothing back itself


def test_a_hold_needs_a_released_slot(alice, store) -> None:
    slot = open_slot(store, release_at=timezone.now() + dt.timedelta(hours=1))
    response = hold(alice[0], slot)
    assert response.status_code == 409
    assert response.json()["code"] == "slot_not_released"
    assert not Order.objects.exists()
