"""Concurrency inside the app with real threads, each on its own database
connection: cancellations racing new orders on a full slot, the same status
change sent twice at once, the hold sweep running on two workers."""

import datetime as dt
from collections import Counter
from collections.abc import Callable

import pytest
from django.utils import timezone

from commerce.models import HoldState, Order, OrderStatus, PickupSlot, SlotHold
from commerce.services.lifecycle import Actor, order_transition
from commerce.services.slots import holds_expire_due
from inventory.models import StockMovement
from partners.models import CallerKind
from tests.commerce.factories import (
    crowd_tokens,
    idempotency_key,
    ledger_matches_levels,
    open_slot,
    shopper_app,
    stock_of,
    stocked_product,
    store_with_schedule,
)
from tests.factories import api_with_token as api
from tests.factories import make_client
from tests.parallel import in_parallel

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def test_cancellations_racing_new_orders_free_each_place_exactly_once() -> None:
    # given a full slot of 10, ten customers who will cancel and fifteen who want in
    store = store_with_schedule()
    slot = open_slot(store, capacity=10)
    product = stocked_product(store, on_hand=100)
    tokens = crowd_tokens(shopper_app(), 25)
    body = {"slot_id": slot.pk, "lines": [{"product_id": product.pk, "quantity": 1}]}
    placed = [
        api(t).post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY=idempotency_key()) for t in tokens[:10]
    ]
    assert [r.status_code for r in placed] == [201] * 10

    def cancel(token: str, order_id: str) -> Callable[[], str]:
        return lambda: str(api(token).post(f"/api/v1/orders/{order_id}/cancel", {}, format="json").status_code)

    def order(token: str) -> Callable[[], str]:
        def call() -> str:
            response = api(token).post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY=idempotency_key())
            return "201" if response.status_code == 201 else response.json()["code"]

        return call

    # when they all act at once
    calls = [cancel(t, r.json()["id"]) for t, r in zip(tokens[:10], placed, strict=True)]
    calls += [order(t) for t in tokens[10:]]
    outcomes = Counter(in_parallel(calls))
    # then every cancellation went through, no more than ten orders hold the slot, and the counter agrees
    assert outcomes["200"] == 10
    assert outcomes["201"] + outcomes["slot_full"] == 15
    slot.refresh_from_db()
    open_orders = Order.objects.filter(slot=slot, status=OrderStatus.PLACED).count()
    assert slot.booked == open_orders == outcomes["201"] <= 10
    assert stock_of(store, product).reserved == open_orders
    assert ledger_matches_levels()


def test_the_same_handover_sent_twice_at_once_sells_once() -> None:
    # given a ready order
    store = store_with_schedule()
    slot = open_slot(store)
    product = stocked_product(store, on_hand=10)
    (token,) = crowd_tokens(shopper_app(), 1)
    order_id = (
        api(token)
        .post(
            "/api/v1/orders",
            {"slot_id": slot.pk, "lines": [{"product_id": product.pk, "quantity": 3}]},
            format="json",
            HTTP_IDEMPOTENCY_KEY=idempotency_key(),
        )
        .json()["id"]
    )
    order = Order.objects.get(public_id=order_id)
    staff = make_client(CallerKind.STORE, store=store)
    for status in (OrderStatus.PREPARING, OrderStatus.READY):
        order_transition(order_id=order.pk, to_status=status, actor=Actor(client=staff))
    # when two tills mark it collected at the same moment
    changed = in_parallel(
        [lambda: order_transition(order_id=order.pk, to_status=OrderStatus.COLLECTED, actor=Actor(client=staff))] * 2
    )
    # then one changed it, the other found it done; stock was sold once
    assert sorted(changed) == [False, True]
    assert StockMovement.objects.filter(reason="sale").count() == 1
    assert (stock_of(store, product).on_hand, stock_of(store, product).reserved) == (7, 0)


def test_two_hold_sweeps_at_once_give_each_unit_back_once() -> None:
    # given 60 expired holds on three slots
    store = store_with_schedule()
    slots = [open_slot(store, capacity=30, starts_in=dt.timedelta(days=1, hours=h)) for h in range(3)]
    app = make_client(CallerKind.SHOPPER)
    past = timezone.now() - dt.timedelta(minutes=1)
    SlotHold.objects.bulk_create(
        [SlotHold(slot=slot, client=app, expires_at=past) for slot in slots for _ in range(20)]
    )
    PickupSlot.objects.filter(pk__in=[s.pk for s in slots]).update(held=20)
    # when two workers sweep at once, in small batches
    expired = in_parallel([lambda: holds_expire_due(batch=7)] * 2)
    # then every hold expired once and every slot got exactly its units back
    assert sum(expired) == 60
    assert SlotHold.objects.filter(state=HoldState.EXPIRED).count() == 60
    assert set(PickupSlot.objects.filter(pk__in=[s.pk for s in slots]).values_list("held", flat=True)) == {0}
