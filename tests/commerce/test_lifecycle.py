"""Order lifecycle: store fulfilment, customer cancellation with its
cut-off, the no-show task; each change idempotent, evented, in the history
and consistent with the stock ledger and the slot counters."""

import datetime as dt

import pytest
from django.utils import timezone

from commerce.models import Order, OrderStatus, OrderStatusChange, PickupSlot
from commerce.services.lifecycle import orders_mark_no_show
from commerce.tasks import mark_no_show_orders
from partners.models import CallerKind, Event
from tests.commerce.factories import idempotency_key, ledger_matches_levels, open_slot, stock_of, store_with_schedule
from tests.factories import UserFactory, api_as, make_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def order_id(alice, slot, apples, bread) -> str:
    response = alice[0].post(
        "/api/v1/orders",
        {
            "slot_id": slot.pk,
            "lines": [{"product_id": apples.pk, "quantity": 3}, {"product_id": bread.pk, "quantity": 1}],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=idempotency_key(),
    )
    assert response.status_code == 201
    return str(response.json()["id"])


def move(api, order_id: str, status: str, **extra):
    return api.post(f"/api/v1/orders/{order_id}/status", {"status": status, **extra}, format="json")


def cancel(api, order_id: str):
    return api.post(f"/api/v1/orders/{order_id}/cancel", {"reason": "changed my mind"}, format="json")


def booked(slot: PickupSlot) -> int:
    slot.refresh_from_db()
    return slot.booked


def test_store_prepares_hands_over_and_the_reservation_becomes_a_sale(
    store_api, order_id, store, slot, apples, bread
) -> None:
    # when the store moves the order through preparation to collection
    for status in ("preparing", "ready", "collected"):
        response = move(store_api, order_id, status)
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == status
    # then the history tells who did what, in order
    history = response.json()["history"]
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        ("", "placed"),
        ("placed", "preparing"),
        ("preparing", "ready"),
        ("ready", "collected"),
    ]
    assert [h["actor"]["kind"] for h in history] == ["shopper", "store", "store", "store"]
    # and on hand went down by what was sold, nothing stays reserved, the ledger agrees
    assert (stock_of(store, apples).on_hand, stock_of(store, apples).reserved) == (17, 0)
    assert (stock_of(store, bread).on_hand, stock_of(store, bread).reserved) == (4, 0)
    assert ledger_matches_levels()
    assert booked(slot) == 1  # a collected order keeps its place in the slot
    assert Event.objects.filter(type="order.status_changed", partner__isnull=True).count() == 3


def test_the_same_status_twice_changes_nothing(store_api, order_id) -> None:
    first = move(store_api, order_id, "preparing")
    again = move(store_api, order_id, "preparing")
    assert again.status_code == 200
    assert again.json()["version"] == first.json()["version"]
    assert OrderStatusChange.objects.filter(order__public_id=order_id).count() == 2
    assert Event.objects.filter(type="order.status_changed").count() == 1


def test_a_step_cannot_be_skipped_or_undone(store_api, order_id) -> None:
    response = move(store_api, order_id, "collected")
    assert response.status_code == 409
    assert response.json()["code"] == "order_transition_not_allowed"
    assert response.json()["status"] == "placed"
    move(store_api, order_id, "preparing")
    assert move(store_api, order_id, "preparing").status_code == 200
    for status in ("ready", "collected"):
        move(store_api, order_id, status)
    assert move(store_api, order_id, "cancelled").status_code == 409


def test_unknown_target_status_is_422(store_api, order_id) -> None:
    response = move(store_api, order_id, "no_show")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "status"


def test_the_store_cancels_at_any_time_before_collection(store_api, order_id, store, slot, apples) -> None:
    move(store_api, order_id, "preparing")
    move(store_api, order_id, "ready")
    response = move(store_api, order_id, "cancelled", reason="out of bread")
    assert response.status_code == 200
    assert response.json()["history"][-1]["reason"] == "out of bread"
    assert booked(slot) == 0
    assert (stock_of(store, apples).on_hand, stock_of(store, apples).reserved) == (20, 0)
    assert ledger_matches_levels()


def test_the_customer_cancels_before_the_cut_off_once(alice, order_id, slot, store, apples) -> None:
    response = cancel(alice[0], order_id)
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["history"][-1]["actor"]["kind"] == "shopper"
    assert cancel(alice[0], order_id).status_code == 200  # again: a no-op
    assert booked(slot) == 0
    assert stock_of(store, apples).reserved == 0
    assert OrderStatusChange.objects.filter(order__public_id=order_id, to_status="cancelled").count() == 1
    assert ledger_matches_levels()


def test_the_customer_cannot_cancel_after_the_cut_off_but_the_store_can(alice, store_api, store, apples) -> None:
    # given a slot starting in an hour (the cut-off is two hours before the slot)
    slot = open_slot(store, starts_in=dt.timedelta(hours=1))
    response = alice[0].post(
        "/api/v1/orders",
        {"slot_id": slot.pk, "lines": [{"product_id": apples.pk, "quantity": 1}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=idempotency_key(),
    )
    order_id = response.json()["id"]
    # when the customer tries to cancel
    refused = cancel(alice[0], order_id)
    # then it is too late, and says until when it was possible
    assert refused.status_code == 409
    assert refused.json()["code"] == "cancellation_cutoff_passed"
    cutoff = dt.datetime.fromisoformat(refused.json()["cutoff_at"])
    assert cutoff == slot.starts_at - dt.timedelta(minutes=120)
    assert booked(slot) == 1
    # and the store still can
    assert move(store_api, order_id, "cancelled").status_code == 200
    assert booked(slot) == 0


def test_shoppers_have_no_fulfilment_scope(alice, order_id) -> None:
    response = move(alice[0], order_id, "preparing")
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


def test_other_tenants_orders_are_404(bob, order_id) -> None:
    other_store_api = api_as(make_client(CallerKind.STORE, store=store_with_schedule()))
    assert move(other_store_api, order_id, "preparing").status_code == 404
    assert cancel(bob[0], order_id).status_code == 404
    assert bob[0].get(f"/api/v1/orders/{order_id}").status_code == 404
    assert Order.objects.get(public_id=order_id).status == OrderStatus.PLACED


def test_the_operator_runs_any_store(operator_api, order_id) -> None:
    assert move(operator_api, order_id, "preparing").json()["history"][-1]["actor"]["kind"] == "operator"


def test_uncollected_orders_become_no_show_after_the_grace_time(alice, order_id, slot, store, apples) -> None:
    # given a second order already collected, and the slot ended 61 minutes ago (grace: 60)
    collected = Order.objects.get(public_id=order_id)
    other = _order_for(UserFactory.create(), slot, apples)
    store_api = api_as(make_client(CallerKind.STORE, store=store))
    for status in ("preparing", "ready", "collected"):
        move(store_api, other, status)
    _slot_moved_to_the_past(slot, ended_ago=dt.timedelta(minutes=61))
    # when the task runs (twice)
    assert mark_no_show_orders() == 1
    assert orders_mark_no_show() == 0
    # then the open order is a no-show, its stock and slot unit are back, the collected one is untouched
    collected.refresh_from_db()
    assert collected.status == OrderStatus.NO_SHOW
    assert Order.objects.get(public_id=other).status == OrderStatus.COLLECTED
    assert booked(slot) == 1
    assert stock_of(store, apples).reserved == 0
    change = OrderStatusChange.objects.get(order=collected, to_status="no_show")
    assert change.actor_client is None
    assert ledger_matches_levels()
    body = alice[0].get(f"/api/v1/orders/{order_id}").json()
    assert body["history"][-1]["actor"] == {"kind": "system", "client_id": None, "user_id": None}


def test_no_show_waits_for_the_grace_time(order_id, slot) -> None:
    _slot_moved_to_the_past(slot, ended_ago=dt.timedelta(minutes=59))
    assert orders_mark_no_show() == 0


def _order_for(user, slot, product) -> str:
    api = api_as(make_client(CallerKind.OPERATOR))
    response = api.post(
        "/api/v1/orders",
        {"slot_id": slot.pk, "customer_id": user.pk, "lines": [{"product_id": product.pk, "quantity": 1}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=idempotency_key(),
    )
    assert response.status_code == 201
    return str(response.json()["id"])


def _slot_moved_to_the_past(slot: PickupSlot, *, ended_ago: dt.timedelta) -> None:
    ends = timezone.now() - ended_ago
    PickupSlot.objects.filter(pk=slot.pk).update(starts_at=ends - dt.timedelta(minutes=30), ends_at=ends)
