"""The statements an order costs. The order POST is the hottest write of the
midnight rush (loadtests/bench_midnight_release.py): every statement is a
round trip made while the slot and stock rows are locked, so a change that
adds one fails here and has to say why."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commerce.models import Order
from inventory.models import Location, Product
from tests.commerce.factories import idempotency_key, open_slot, stocked_product
from tests.factories import prepared_statements

pytestmark = pytest.mark.django_db

# token; advisory lock and record lookup of the Idempotency-Key; catalogue;
# slot booking; stock: lock, then guarded update with its movements in one
# statement; the stock and order events in one; order with lines and first
# status; idempotency record; plus the savepoints of the nested atomic blocks
# (idempotency and order: two here, since the test runs inside a transaction
# of its own; stock has none).
MAX_STATEMENTS_PLACED = 14
# token; advisory lock and lookup; catalogue; the refused booking, then one
# statement for why: the diagnosis, the slot's expired holds (given back only
# if there are any) and the day's alternatives (which spare the shopper a
# reload of the day); the stored 409; savepoints (the order's released, as
# nothing was written: see the last test).
MAX_STATEMENTS_SLOT_FULL = 12


def statements_of(api: Any, body: dict[str, Any]) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = api.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY=idempotency_key())
    return response.status_code, [query["sql"] for query in queries.captured_queries]


def basket(slot_id: int, products: list[Product]) -> dict[str, Any]:
    return {"slot_id": slot_id, "lines": [{"product_id": product.pk, "quantity": 1} for product in products]}


def test_an_order_costs_the_same_few_statements_whatever_its_size(alice, bob, store: Location) -> None:
    # given a store with eight products and room in a slot
    products = [stocked_product(store) for _ in range(8)]
    slot = open_slot(store, capacity=5)
    # when one shopper orders one product and another all eight
    small_status, small = statements_of(alice[0], basket(slot.pk, products[:1]))
    large_status, large = statements_of(bob[0], basket(slot.pk, products))
    # then both are placed with the same statements, no more than the budget
    assert (small_status, large_status) == (201, 201)
    assert len(small) == len(large), "statements per line crept in"
    assert len(large) <= MAX_STATEMENTS_PLACED, "\n".join(large)
    assert Order.objects.count() == 2


def test_a_full_slot_is_refused_in_few_statements(alice, bob, store: Location, apples: Product) -> None:
    slot = open_slot(store, capacity=1)
    assert statements_of(alice[0], basket(slot.pk, [apples]))[0] == 201
    status, statements = statements_of(bob[0], basket(slot.pk, [apples]))
    assert status == 409
    assert len(statements) <= MAX_STATEMENTS_SLOT_FULL, "\n".join(statements)


def test_a_refused_order_keeps_the_statements_the_connection_prepared(alice, bob, store: Location, apples) -> None:
    # given a connection that has placed enough orders to prepare their
    # statements (DB_PREPARE_THRESHOLD), which filled the slot
    full = open_slot(store, capacity=7)
    for _ in range(7):
        assert statements_of(alice[0], basket(full.pk, [apples]))[0] == 201
    prepared = prepared_statements()
    assert prepared, "nothing prepared: is DB_PREPARE_THRESHOLD off?"
    # when another shopper's order for that slot is refused
    status, _statements = statements_of(bob[0], basket(full.pk, [apples]))
    # then the session keeps them: a rollback would have made psycopg
    # deallocate them all, and plan each statement again ten times over
    assert status == 409
    assert prepared <= prepared_statements()
