"""Placing orders: one transaction (slot, stock, rows, events), precise
problems, nothing left behind on failure, idempotent retries, who may
order for whom."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from commerce.models import Order, OrderStatus, PickupSlot, SlotHold
from gateway.api.instants import instant_text
from inventory.local_time import zone
from inventory.models import StockMovement
from partners.models import CallerKind, Event
from tests.commerce.factories import (
    ProductFactory,
    idempotency_key,
    ledger_matches_levels,
    open_slot,
    shopper,
    stock_of,
    stocked_product,
    store_with_schedule,
)
from tests.factories import PartnerFactory, UserFactory, api_as, make_client

pytestmark = pytest.mark.django_db


def place(api, body, key=None, **headers):
    return api.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY=key or idempotency_key(), **headers)


def basket(slot, *lines):
    return {"slot_id": slot.pk, "lines": [{"product_id": p.pk, "quantity": q} for p, q in lines]}


def refreshed(slot: PickupSlot) -> PickupSlot:
    slot.refresh_from_db()
    return slot


# ---------------------------------------------------------------- the happy path


def test_shopper_places_an_order_priced_from_the_catalogue(alice, slot, apples, bread, store) -> None:
    api, user = alice
    # when Alice orders 3 apples and 2 breads for a slot
    response = place(api, basket(slot, (apples, 3), (bread, 2)))
    # then the order exists, priced at today's catalogue prices, in the slot
    assert response.status_code == 201, response.json()
    body = response.json()
    order = Order.objects.get(public_id=body["id"])
    assert response["Location"] == f"/api/v1/orders/{order.public_id}"
    assert response["ETag"] == f'"order-{order.public_id}-v1"'
    assert body["status"] == "placed"
    assert body["customer_id"] == user.pk
    assert body["store"] == store.code
    assert body["slot"]["id"] == slot.pk
    assert body["item_count"] == 5
    assert body["total"] == {"amount": "4.05", "currency": "EUR"}
    assert [(line["sku"], line["quantity"], line["unit_price"], line["line_total"]) for line in body["lines"]] == [
        (apples.sku, 3, {"amount": "0.45", "currency": "EUR"}, {"amount": "1.35", "currency": "EUR"}),
        (bread.sku, 2, {"amount": "1.35", "currency": "EUR"}, {"amount": "2.70", "currency": "EUR"}),
    ]
    assert body["history"][0]["to_status"] == "placed"
    assert body["history"][0]["actor"]["kind"] == "shopper"
    # and the slot unit and the stock are reserved, with ledger movements
    assert refreshed(slot).booked == 1
    assert (stock_of(store, apples).on_hand, stock_of(store, apples).reserved) == (20, 3)
    assert stock_of(store, bread).reserved == 2
    assert StockMovement.objects.filter(reason="reservation", reference=f"order:{order.public_id}").count() == 2
    assert ledger_matches_levels()


def test_order_created_event_for_the_operator_and_each_partner_without_the_customer(alice, slot, apples, store) -> None:
    # given a partner's product stocked at the store
    partner = PartnerFactory.create()
    cheese = stocked_product(store, owner=partner, price="4.20")
    # when Alice orders it with a retailer product
    response = place(alice[0], basket(slot, (apples, 1), (cheese, 1)))
    assert response.status_code == 201
    events = Event.objects.filter(type="order.created", subject=f"order:{response.json()['id']}")
    operator_event = events.get(partner__isnull=True)
    partner_event = events.get(partner=partner)
    # then the operator sees the whole order, the partner only its line and no customer
    assert operator_event.payload["customer_id"] == alice[1].pk
    assert [line["sku"] for line in operator_event.payload["lines"]] == [apples.sku, cheese.sku]
    assert [line["sku"] for line in partner_event.payload["lines"]] == [cheese.sku]
    assert "customer_id" not in partner_event.payload
    assert "total" not in partner_event.payload


def test_line_names_follow_accept_language(alice, slot, apples) -> None:
    body = place(alice[0], basket(slot, (apples, 1)), HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["lines"][0]["name"] == "Apple"
    body = place(alice[0], basket(slot, (apples, 1)), HTTP_ACCEPT_LANGUAGE="fr").json()
    assert body["lines"][0]["name"] == "Pomme"


# ---------------------------------------------------------------- idempotency


def test_idempotency_key_is_required(alice, slot, apples) -> None:
    response = alice[0].post("/api/v1/orders", basket(slot, (apples, 1)), format="json")
    assert response.status_code == 428
    assert response.json()["code"] == "idempotency_key_required"
    assert not Order.objects.exists()


def test_a_retry_with_the_same_key_returns_the_same_order(alice, slot, apples, store) -> None:
    key = idempotency_key()
    first = place(alice[0], basket(slot, (apples, 2)), key=key)
    again = place(alice[0], basket(slot, (apples, 2)), key=key)
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Order.objects.count() == 1
    assert refreshed(slot).booked == 1
    assert stock_of(store, apples).reserved == 2


def test_the_same_key_with_another_basket_is_refused(alice, slot, apples) -> None:
    key = idempotency_key()
    place(alice[0], basket(slot, (apples, 2)), key=key)
    response = place(alice[0], basket(slot, (apples, 3)), key=key)
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1


# ---------------------------------------------------------------- problems, nothing left behind


def test_a_full_slot_answers_slot_full_and_touches_no_stock(alice, bob, store, apples) -> None:
    slot = open_slot(store, capacity=1)
    assert place(alice[0], basket(slot, (apples, 1))).status_code == 201
    response = place(bob[0], basket(slot, (apples, 1)))
    assert response.status_code == 409
    assert response.json()["code"] == "slot_full"
    assert response["Content-Type"] == "application/problem+json"
    assert Order.objects.count() == 1
    assert stock_of(store, apples).reserved == 1


def test_slot_full_lists_the_days_other_slots_with_room(alice, bob, store, apples) -> None:
    # given a store-local day two days ahead with slots at 10:00 (full), 8:00, 11:00,
    # 12:00 (full too), 13:00 (closed) and 14:00 (not released), and a 10:00 slot the day after
    day = (timezone.now().astimezone(zone(store.time_zone)) + dt.timedelta(days=2)).date()

    def slot_at(hour: int, *, on: dt.date = day, capacity: int = 3, **fields) -> PickupSlot:
        start = dt.datetime.combine(on, dt.time(hour), tzinfo=zone(store.time_zone))
        slot = open_slot(store, capacity=capacity, starts_in=start - timezone.now())
        PickupSlot.objects.filter(pk=slot.pk).update(**fields)
        return slot

    wanted = slot_at(10, capacity=1)
    early, late = slot_at(8), slot_at(11, capacity=2)
    also_full = slot_at(12, capacity=1)
    slot_at(13, is_closed=True)
    slot_at(14, release_at=timezone.now() + dt.timedelta(hours=1))
    slot_at(10, on=day + dt.timedelta(days=1))
    for taken in (wanted, also_full):
        assert place(alice[0] if taken == wanted else bob[0], basket(taken, (apples, 1))).status_code == 201
    assert place(alice[0], basket(late, (apples, 1))).status_code == 201
    # when Bob asks for the full 10:00 slot
    response = place(bob[0], basket(wanted, (apples, 1)))
    # then the problem lists the open slots of that day with room left, in start order
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "slot_full"
    assert body["alternatives"] == [
        {
            "id": slot.pk,
            "starts_at": instant_text(refreshed(slot).starts_at),
            "ends_at": instant_text(refreshed(slot).ends_at),
            "remaining": remaining,
        }
        for slot, remaining in ((early, 3), (late, 1))
    ]
    # and Bob orders from it without reloading the day
    retry = place(bob[0], {**basket(wanted, (apples, 1)), "slot_id": body["alternatives"][0]["id"]})
    assert retry.status_code == 201
    assert retry.json()["slot"]["id"] == early.pk


def test_slot_full_alternatives_match_the_days_list_expired_holds_free(app, alice, bob, store, apples) -> None:
    # given, on a store-local day two days ahead, a full slot at 10:00, a slot of 2 at 11:00
    # with one live and one expired hold, and a slot of 1 at 12:00 held by an expired hold
    day = (timezone.now().astimezone(zone(store.time_zone)) + dt.timedelta(days=2)).date()

    def slot_at(hour: int, capacity: int) -> PickupSlot:
        start = dt.datetime.combine(day, dt.time(hour), tzinfo=zone(store.time_zone))
        return open_slot(store, capacity=capacity, starts_in=start - timezone.now())

    full, held, lapsed = slot_at(10, 1), slot_at(11, 2), slot_at(12, 1)
    assert place(alice[0], basket(full, (apples, 1))).status_code == 201
    holders = [shopper(app)[0] for _ in range(3)]
    for api, slot in zip(holders, (held, held, lapsed), strict=True):
        assert api.post("/api/v1/pickup-holds", {"slot_id": slot.pk}, format="json").status_code == 201
    gone = timezone.now() - dt.timedelta(seconds=1)
    SlotHold.objects.filter(pk=SlotHold.objects.filter(slot=held).order_by("pk")[0].pk).update(expires_at=gone)
    SlotHold.objects.filter(slot=lapsed).update(expires_at=gone)
    # when Bob is refused the full slot
    response = place(bob[0], basket(full, (apples, 1)))
    # then the alternatives are what the day's list of available slots shows
    assert response.status_code == 409
    listed = bob[0].get(f"/api/v1/pickup-slots?store={store.pk}&from={day}&to={day}&available=true").json()
    assert [(row["id"], row["remaining"]) for row in response.json()["alternatives"]] == [
        (row["id"], row["remaining"]) for row in listed["results"]
    ]
    assert [row["remaining"] for row in listed["results"]] == [1, 1]  # expired holds count as free
    assert (refreshed(held).held, refreshed(lapsed).held) == (2, 1)  # reads give nothing back themselves


def test_insufficient_stock_lists_the_lines_and_leaves_nothing_behind(alice, slot, apples, bread, store) -> None:
    # when one line of two asks more bread than the store has
    response = place(alice[0], basket(slot, (apples, 2), (bread, 6)))
    # then the problem names the line, and neither the slot nor the apples were kept
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "insufficient_stock"
    assert body["lines"] == [{"sku": bread.sku, "requested": 6, "available": 5}]
    assert refreshed(slot).booked == 0
    assert stock_of(store, apples).reserved == 0
    assert not Order.objects.exists()
    assert not Event.objects.filter(type="order.created").exists()


def test_a_product_without_stock_at_the_store_is_insufficient_stock(alice, slot) -> None:
    elsewhere = stocked_product(store_with_schedule())
    response = place(alice[0], basket(slot, (elsewhere, 1)))
    assert response.status_code == 409
    assert response.json()["lines"] == [{"sku": elsewhere.sku, "requested": 1, "available": 0}]


def test_unknown_or_inactive_products_are_unavailable(alice, slot, apples) -> None:
    retired = ProductFactory.create(is_active=False)
    body = {
        "slot_id": slot.pk,
        "lines": [{"product_id": retired.pk, "quantity": 1}, {"product_id": 999999, "quantity": 1}],
    }
    response = place(alice[0], body)
    assert response.status_code == 422
    assert response.json()["code"] == "product_unavailable"
    assert response.json()["lines"] == [{"product_id": retired.pk}, {"product_id": 999999}]
    assert refreshed(slot).booked == 0


def test_products_in_two_currencies_cannot_share_an_order(alice, slot, apples, store) -> None:
    swiss = stocked_product(store, price_currency="CHF")
    response = place(alice[0], basket(slot, (apples, 1), (swiss, 1)))
    assert response.status_code == 422
    assert response.json()["code"] == "mixed_currencies"


def test_a_slot_not_yet_released_says_when_it_opens(alice, store, apples) -> None:
    opens = timezone.now() + dt.timedelta(minutes=10)
    slot = open_slot(store, release_at=opens)
    response = place(alice[0], basket(slot, (apples, 1)))
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "slot_not_released"
    assert dt.datetime.fromisoformat(body["release_at"]) == opens
    assert 1 <= int(response["Retry-After"]) <= 601  # about ten minutes, however slow this machine is
    assert refreshed(slot).booked == 0


def test_a_slot_that_started_takes_no_order(alice, store, apples) -> None:
    slot = open_slot(store, starts_in=-dt.timedelta(minutes=5))
    response = place(alice[0], basket(slot, (apples, 1)))
    assert response.status_code == 409
    assert response.json()["code"] == "slot_started"


def test_a_closed_slot_or_a_store_out_of_click_and_collect_is_store_closed(alice, store, apples) -> None:
    closed_slot = open_slot(store)
    PickupSlot.objects.filter(pk=closed_slot.pk).update(is_closed=True)
    assert place(alice[0], basket(closed_slot, (apples, 1))).json()["code"] == "store_closed"
    slot = open_slot(store, starts_in=dt.timedelta(days=2))
    store.click_and_collect = False
    store.save(update_fields=["click_and_collect"])
    response = place(alice[0], basket(slot, (apples, 1)))
    assert response.status_code == 409
    assert response.json()["code"] == "store_closed"


def test_an_unknown_slot_is_404(alice, apples) -> None:
    response = place(alice[0], {"slot_id": 987654, "lines": [{"product_id": apples.pk, "quantity": 1}]})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lines": []}, "lines"),
        ({"lines": [{"product_id": 1, "quantity": 0}]}, "lines.0.quantity"),
        ({"lines": [{"product_id": 1, "quantity": 1000}]}, "lines.0.quantity"),
        ({"lines": [{"product_id": "x", "quantity": 1}]}, "lines.0.product_id"),
        ({"lines": [{"product_id": 1, "quantity": 1}, {"product_id": 1, "quantity": 2}]}, "lines.1.product_id"),
        ({"lines": [{"product_id": 1, "quantity": 1}], "status": "collected", "total": 0}, "status"),
        ({"lines": [{"product_id": 1, "quantity": 1, "unit_price": "0.01"}]}, "lines.0.unit_price"),
    ],
)
def test_invalid_baskets_are_422_with_the_field(alice, slot, body, field) -> None:
    response = place(alice[0], {"slot_id": slot.pk, **body})
    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]]
    assert not Order.objects.exists()


def test_slot_and_hold_are_exclusive(alice, slot, apples) -> None:
    body = {**basket(slot, (apples, 1)), "hold_id": str(uuid.uuid4())}
    assert place(alice[0], body).status_code == 422
    assert place(alice[0], {"lines": [{"product_id": apples.pk, "quantity": 1}]}).status_code == 422


def test_malformed_json_is_400(alice) -> None:
    response = alice[0].post("/api/v1/orders", "{not json", content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


# ---------------------------------------------------------------- who orders for whom


def test_a_shopper_cannot_order_for_someone_else(alice, bob, slot, apples) -> None:
    response = place(alice[0], {**basket(slot, (apples, 1)), "customer_id": bob[1].pk})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "customer_id"


def test_a_store_orders_for_a_named_customer_at_its_own_store(store_api, slot, apples) -> None:
    customer = UserFactory.create()
    assert place(store_api, basket(slot, (apples, 1))).json()["code"] == "customer_required"
    assert place(store_api, {**basket(slot, (apples, 1)), "customer_id": 99999999}).json()["code"] == (
        "customer_not_found"
    )
    response = place(store_api, {**basket(slot, (apples, 1)), "customer_id": customer.pk})
    assert response.status_code == 201
    assert response.json()["customer_id"] == customer.pk
    assert response.json()["history"][0]["actor"]["kind"] == "store"


def test_a_store_cannot_order_in_another_stores_slot(store_api) -> None:
    other = store_with_schedule()
    slot = open_slot(other)
    product = stocked_product(other)
    response = place(store_api, {**basket(slot, (product, 1)), "customer_id": UserFactory.create().pk})
    assert response.status_code == 404
    assert refreshed(slot).booked == 0


def test_the_operator_orders_for_a_customer_anywhere(operator_api, slot, apples) -> None:
    customer = UserFactory.create()
    response = place(operator_api, {**basket(slot, (apples, 1)), "customer_id": customer.pk})
    assert response.status_code == 201


def test_partners_and_read_only_tokens_cannot_order(app, slot, apples) -> None:
    partner_api = api_as(make_client(CallerKind.PARTNER))
    response = place(partner_api, basket(slot, (apples, 1)))
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    reader = api_as(app, user=UserFactory.create(), scopes=["orders:read"])
    assert place(reader, basket(slot, (apples, 1))).status_code == 403


def test_no_token_is_401(client, slot) -> None:
    response = client.post("/api/v1/orders", {}, content_type="application/json")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_totals_use_decimal_arithmetic(alice, store, slot) -> None:
    cheap = stocked_product(store, price="0.10", on_hand=100)
    body = place(alice[0], basket(slot, (cheap, 3))).json()
    assert body["total"]["amount"] == "0.30"
    assert Order.objects.get(public_id=body["id"]).total_amount == Decimal("0.30")
    assert body["status"] == OrderStatus.PLACED
