"""Reads: open slots with remaining capacity, a shopper's orders and one
order's history, a store's queue per slot; scoped to the caller, with a
constant number of queries whatever the page size."""

import datetime as dt

import pytest
from django.utils import timezone

from commerce.models import PickupSlot
from partners.models import CallerKind
from tests.commerce.factories import idempotency_key, open_slot, shopper, stocked_product, store_with_schedule
from tests.factories import UserFactory, api_as, make_client

pytestmark = pytest.mark.django_db


def place(api, slot, product, quantity=1, **extra):
    response = api.post(
        "/api/v1/orders",
        {"slot_id": slot.pk, "lines": [{"product_id": product.pk, "quantity": quantity}], **extra},
        format="json",
        HTTP_IDEMPOTENCY_KEY=idempotency_key(),
    )
    assert response.status_code == 201, response.json()
    return response.json()


def slots_url(store, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"store": store.pk, **params}.items())
    return f"/api/v1/pickup-slots?{query}"


# ---------------------------------------------------------------- slots


def test_slots_list_shows_released_open_future_slots_with_remaining(alice, store, apples) -> None:
    # given slots: open, full, closed, not yet released, already started
    day = dt.timedelta(days=1)
    open_one = open_slot(store, capacity=3, starts_in=day)
    full = open_slot(store, capacity=1, starts_in=day + dt.timedelta(hours=1))
    closed = open_slot(store, starts_in=day + dt.timedelta(hours=2))
    PickupSlot.objects.filter(pk=closed.pk).update(is_closed=True)
    open_slot(store, starts_in=day + dt.timedelta(hours=3), release_at=timezone.now() + dt.timedelta(hours=1))
    open_slot(store, starts_in=-dt.timedelta(minutes=1))
    place(alice[0], open_one, apples)
    place(alice[0], full, apples)
    # when a shopper lists the next days
    response = alice[0].get(slots_url(store))
    # then only the released, open, future ones appear, with what is left
    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()["results"]}
    assert set(rows) == {open_one.pk, full.pk}
    assert rows[open_one.pk]["remaining"] == 2
    assert rows[full.pk]["remaining"] == 0
    assert rows[open_one.pk]["time_zone"] == "Europe/Paris"
    assert rows[open_one.pk]["starts_at"].endswith("Z")
    only_available = alice[0].get(slots_url(store, available="true")).json()["results"]
    assert [row["id"] for row in only_available] == [open_one.pk]


def test_a_shopper_finds_the_store_id_for_its_slots_in_the_locations(alice, store) -> None:
    # given a shopper who knows the store by its code (availability, footfall and the locations use codes)
    open_slot(store, starts_in=dt.timedelta(days=1))
    location = alice[0].get(f"/api/v1/locations/{store.code}").json()
    listed = alice[0].get(f"/api/v1/locations?q={store.code}").json()["results"]
    # then the location carries the id the slot and order endpoints take
    assert location["id"] == store.pk
    assert [row["id"] for row in listed] == [store.pk]
    slots = alice[0].get(f"/api/v1/pickup-slots?store={location['id']}").json()["results"]
    assert [row["store_id"] for row in slots] == [store.pk]


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"from": "tomorrow"}, "from"),
        ({"from": "2026-06-10", "to": "2026-06-01"}, "to"),
        ({"from": "2026-06-01", "to": "2026-08-01"}, "to"),
        ({"available": "maybe"}, "available"),
    ],
)
def test_bad_slot_filters_are_400(alice, store, params, name) -> None:
    response = alice[0].get(slots_url(store, **params))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_query_parameter"
    assert response.json()["errors"][0]["field"] == name


def test_slots_of_an_unknown_or_non_click_and_collect_store_are_404(alice) -> None:
    assert alice[0].get("/api/v1/pickup-slots?store=99999999").status_code == 404
    assert alice[0].get("/api/v1/pickup-slots").status_code == 400
    plain = store_with_schedule()
    plain.click_and_collect = False
    plain.save(update_fields=["click_and_collect"])
    assert alice[0].get(slots_url(plain)).status_code == 404


def test_slots_list_runs_constant_queries(alice, store, django_assert_num_queries) -> None:
    for hours in range(6):
        open_slot(store, starts_in=dt.timedelta(days=1, hours=hours))
    api = alice[0]
    with django_assert_num_queries(3):  # token, store, page
        assert len(api.get(slots_url(store, page_size=2)).json()["results"]) == 2
    with django_assert_num_queries(3):
        assert len(api.get(slots_url(store, page_size=50)).json()["results"]) == 6


def test_one_slot_and_its_etag(alice, slot) -> None:
    response = alice[0].get(f"/api/v1/pickup-slots/{slot.pk}")
    assert response.status_code == 200
    assert response.json()["remaining"] == 5
    assert response["ETag"] == f'"pickup-slot-{slot.pk}-v1"'
    unreleased = open_slot(
        slot.store, starts_in=dt.timedelta(days=2), release_at=timezone.now() + dt.timedelta(hours=1)
    )
    assert alice[0].get(f"/api/v1/pickup-slots/{unreleased.pk}").status_code == 404


# ---------------------------------------------------------------- orders


def test_each_caller_sees_its_own_orders(app, alice, bob, store, slot, apples, store_api, operator_api) -> None:
    mine = place(alice[0], slot, apples)
    theirs = place(bob[0], slot, apples)
    other_store = store_with_schedule()
    elsewhere = place(operator_api, open_slot(other_store), stocked_product(other_store), customer_id=alice[1].pk)

    def ids(api, query=""):
        return {row["id"] for row in api.get(f"/api/v1/orders{query}").json()["results"]}

    assert ids(alice[0]) == {mine["id"], elsewhere["id"]}
    assert ids(bob[0]) == {theirs["id"]}
    assert ids(store_api) == {mine["id"], theirs["id"]}
    assert ids(operator_api) == {mine["id"], theirs["id"], elsewhere["id"]}
    assert ids(operator_api, f"?store={other_store.pk}") == {elsewhere["id"]}
    assert ids(api_as(make_client(CallerKind.PARTNER))) == set()
    assert ids(api_as(make_client(CallerKind.STORE))) == set()  # a store client bound to no store


def test_orders_list_filters_and_rejects_bad_ones(alice, slot, apples, store_api) -> None:
    first = place(alice[0], slot, apples)
    place(alice[0], slot, apples)
    store_api.post(f"/api/v1/orders/{first['id']}/status", {"status": "preparing"}, format="json")
    rows = alice[0].get("/api/v1/orders?status=preparing").json()["results"]
    assert [row["id"] for row in rows] == [first["id"]]
    since = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    assert alice[0].get("/api/v1/orders", {"updated_since": since}).json()["results"] == []
    assert alice[0].get("/api/v1/orders?status=shipped").status_code == 400
    bad = alice[0].get("/api/v1/orders?updated_since=2026-10-25T02:30:00")  # no offset: ambiguous
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "updated_since"


def test_orders_list_runs_constant_queries(alice, slot, apples, django_assert_num_queries) -> None:
    for _ in range(4):
        place(alice[0], slot, apples)
    with django_assert_num_queries(2):  # token, page
        assert len(alice[0].get("/api/v1/orders?page_size=1").json()["results"]) == 1
    with django_assert_num_queries(2):
        assert len(alice[0].get("/api/v1/orders?page_size=50").json()["results"]) == 4


def test_order_detail_with_history_and_conditional_get(alice, slot, apples) -> None:
    order = place(alice[0], slot, apples, quantity=2)
    response = alice[0].get(f"/api/v1/orders/{order['id']}")
    assert response.status_code == 200
    assert response.json()["lines"][0]["quantity"] == 2
    assert response.json()["history"][0]["to_status"] == "placed"
    etag = response["ETag"]
    assert alice[0].get(f"/api/v1/orders/{order['id']}", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_guessing_order_ids_finds_nothing(bob) -> None:
    response = bob[0].get("/api/v1/orders/00000000-0000-4000-8000-000000000001")
    assert response.status_code == 404
    assert bob[0].get("/api/v1/orders/1").status_code == 404


# ---------------------------------------------------------------- the store's queue


def test_store_queue_of_a_slot_with_lines_and_customer(app, store, slot, apples, bread, store_api) -> None:
    customer = UserFactory.create(first_name="Ada", last_name="Lovelace")
    api = api_as(app, user=customer)
    first = place(api, slot, apples, quantity=2)
    place(shopper(app)[0], slot, bread)
    response = store_api.get(f"/api/v1/pickup-slots/{slot.pk}/orders")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert next(row["id"] for row in rows) == first["id"]
    assert rows[0]["customer"] == {"id": customer.pk, "name": "Ada Lovelace"}
    assert rows[0]["lines"][0]["quantity"] == 2
    assert response["ETag"] == f'"pickup-slot-{slot.pk}-v3"'
    assert store_api.get(f"/api/v1/pickup-slots/{slot.pk}/orders?status=ready").json()["results"] == []


def test_store_queue_of_another_store_is_404_and_shoppers_have_no_queue(alice, store_api) -> None:
    other = open_slot(store_with_schedule())
    assert store_api.get(f"/api/v1/pickup-slots/{other.pk}/orders").status_code == 404
    assert alice[0].get(f"/api/v1/pickup-slots/{other.pk}/orders").status_code == 403


def test_store_queue_runs_constant_queries(app, slot, apples, bread, store_api, django_assert_num_queries) -> None:
    for _ in range(3):
        api, _user = shopper(app)
        place(api, slot, apples)
    with django_assert_num_queries(5):  # token, store binding, slot, page, lines
        store_api.get(f"/api/v1/pickup-slots/{slot.pk}/orders?page_size=1")
    with django_assert_num_queries(5):
        assert len(store_api.get(f"/api/v1/pickup-slots/{slot.pk}/orders?page_size=50").json()["results"]) == 3
