"""Concurrency with real parallel clients over HTTP, against the real WSGI
server (granian, 2 worker processes x 4 threads) on the test database:
capacity is never exceeded, the last stock units are never oversold, and a
retry after a client-side timeout returns the one order that was placed."""

import secrets
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
import requests
from django.db import connection

from commerce.models import Order, PickupSlot
from tests.commerce.factories import (
    crowd_tokens,
    ledger_matches_levels,
    open_slot,
    shopper_app,
    stock_of,
    stocked_product,
    store_with_schedule,
)

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def post_order(
    url: str, token: str, body: dict[str, Any], key: str | None = None, timeout: float = 30
) -> requests.Response:
    # A connection per request, as separate shoppers' devices would.
    return requests.post(
        f"{url}/api/v1/orders",
        json=body,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key or secrets.token_hex(12)},
        timeout=timeout,
    )


def outcome(response: requests.Response) -> str:
    if response.status_code == 201:
        return "201"
    return f"{response.status_code} {response.json().get('code')}"


def test_500_shoppers_on_a_slot_of_50_give_exactly_50_orders(gateway_server) -> None:
    # given a slot of capacity 50 and plenty of stock
    store = store_with_schedule()
    slot = open_slot(store, capacity=50)
    product = stocked_product(store, on_hand=1000)
    tokens = crowd_tokens(shopper_app(), 500)
    body = {"slot_id": slot.pk, "lines": [{"product_id": product.pk, "quantity": 1}]}
    # when 500 shoppers order at once from 64 parallel clients
    with ThreadPoolExecutor(max_workers=64) as pool:
        outcomes = Counter(pool.map(lambda token: outcome(post_order(gateway_server.url, token, body)), tokens))
    # then exactly 50 orders went through and everyone else was told the slot is full
    assert outcomes == {"201": 50, "409 slot_full": 450}
    slot.refresh_from_db()
    assert (slot.booked, slot.held) == (50, 0)
    assert Order.objects.filter(slot=slot).count() == 50
    assert Order.objects.filter(slot=slot).values("customer").distinct().count() == 50
    assert stock_of(store, product).reserved == 50
    assert ledger_matches_levels()


def test_two_lines_racing_for_the_last_units_never_oversell(gateway_server) -> None:
    # given the last 10 units of two products, and 60 shoppers each wanting one of both
    store = store_with_schedule()
    slot = open_slot(store, capacity=100)
    cheese = stocked_product(store, on_hand=10)
    wine = stocked_product(store, on_hand=10)
    tokens = crowd_tokens(shopper_app(), 60)
    forward = [{"product_id": cheese.pk, "quantity": 1}, {"product_id": wine.pk, "quantity": 1}]

    def order(index_token: tuple[int, str]) -> str:
        index, token = index_token
        lines = forward if index % 2 else list(reversed(forward))  # both line orders: no deadlock either way
        return outcome(post_order(gateway_server.url, token, {"slot_id": slot.pk, "lines": lines}))

    # when they all order at once
    with ThreadPoolExecutor(max_workers=60) as pool:
        outcomes = Counter(pool.map(order, enumerate(tokens)))
    # then ten get both, fifty are told there is not enough, and nothing is oversold or left half-reserved
    assert outcomes == {"201": 10, "409 insufficient_stock": 50}
    for product in (cheese, wine):
        level = stock_of(store, product)
        assert (level.on_hand, level.reserved) == (10, 10)
    slot.refresh_from_db()
    assert slot.booked == 10
    assert ledger_matches_levels()


def test_a_retry_after_a_client_timeout_returns_the_one_order_placed(gateway_server) -> None:
    # given a slot whose row another transaction holds locked (the server will wait on it)
    store = store_with_schedule()
    slot = open_slot(store, capacity=5)
    product = stocked_product(store, on_hand=10)
    (token,) = crowd_tokens(shopper_app(), 1)
    body = {"slot_id": slot.pk, "lines": [{"product_id": product.pk, "quantity": 2}]}
    key = secrets.token_hex(12)
    with _row_lock(slot):
        # when the client gives up after half a second
        with pytest.raises(requests.Timeout):
            post_order(gateway_server.url, token, body, key=key, timeout=0.5)
        # and retries at once while the first request still runs: told to wait
        busy = post_order(gateway_server.url, token, body, key=key)
        assert busy.status_code == 409
        assert busy.json()["code"] == "idempotency_in_progress"
        assert busy.headers["Retry-After"] == "1"
    # then, once the lock is gone, a retry with the same key gets the order the first request placed
    retry = _retry_until_settled(gateway_server.url, token, body, key)
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    orders = list(Order.objects.filter(slot=slot))
    assert len(orders) == 1
    assert str(orders[0].public_id) == retry.json()["id"]
    assert PickupSlot.objects.get(pk=slot.pk).booked == 1
    assert stock_of(store, product).reserved == 2


class _row_lock:
    """Holds ``SELECT ... FOR UPDATE`` on a slot row from a connection of its own."""

    def __init__(self, slot: PickupSlot) -> None:
        self.slot = slot
        settings = connection.settings_dict
        self.conn = psycopg.connect(
            host=settings["HOST"],
            port=settings["PORT"],
            dbname=settings["NAME"],
            user=settings["USER"],
            password=settings["PASSWORD"],
        )

    def __enter__(self) -> "_row_lock":
        self.conn.execute("SELECT id FROM commerce_pickupslot WHERE id = %s FOR UPDATE", [self.slot.pk])
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.commit()
        self.conn.close()


def _retry_until_settled(url: str, token: str, body: dict[str, Any], key: str) -> requests.Response:
    deadline = time.monotonic() + 15
    while True:
        response = post_order(url, token, body, key=key)
        in_progress = response.status_code == 409 and response.json().get("code") == "idempotency_in_progress"
        if not in_progress or time.monotonic() > deadline:
            return response
        time.sleep(0.1)
