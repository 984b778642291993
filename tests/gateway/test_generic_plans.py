"""Hot statements that PostgreSQL plans once: a small array parameter it can
see makes every custom plan look cheaper than the generic one, so the
statement would be planned again on every call (gateway.sql.opaque). Each
statement runs as its code runs it, on one connection, until psycopg has
prepared it and PostgreSQL has made its five custom plans; then the generic
plan must have been kept (pg_prepared_statements counts both). On tables of
this size the statements written without ``opaque`` fail for availability at
a store, a basket's products, an order's products and its stock locked; the
other three settle on their generic plan here even without it, and the Black
Friday bench's pg_stat_statements figures are their evidence
(docs/benchmarks.md, fifth session)."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from commerce.sql.recommendations import VERSION_NEIGHBOURS
from gateway.sql import opaque
from inventory.locks import lock_stock_levels
from inventory.models import Location, MovementReason, Product, StockLevel
from inventory.selectors.availability import availability_at_store, availability_near
from inventory.selectors.products import orderable_products, products_visible_by_sku
from inventory.services import stock_set
from inventory.services.stock import StockLine, stock_apply
from partners.callers import Caller
from partners.models import CallerKind
from tests.commerce.factories import ProductFactory, store_with_schedule
from tests.factories import make_client

pytestmark = pytest.mark.django_db

CALLS = 16  # past psycopg's prepare threshold (5) and PostgreSQL's five custom plans


def _plans(marker: str) -> tuple[int, int]:
    """(generic plans, custom plans) of the one prepared statement containing ``marker``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            [f"%{marker}%"],
        )
        rows = cursor.fetchall()
    assert len(rows) == 1, f"{len(rows)} prepared statements contain {marker!r}"
    return rows[0]


def test_a_small_array_the_planner_sees_is_planned_on_every_call_and_an_opaque_one_once() -> None:
    # Given a table of 5,000 SKUs with an index, as the catalogue has
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE plan_probe AS SELECT g AS id, 'SKU-' || g AS sku FROM generate_series(1, 5000) AS g"
        )
        cursor.execute("CREATE INDEX ON plan_probe (sku)")
        cursor.execute("ANALYZE plan_probe")
    seen = "SELECT id FROM plan_probe WHERE sku = ANY(%(skus)s::text[]) /* seen */"
    hidden = f"SELECT id FROM plan_probe WHERE sku = ANY({opaque('skus', 'text[]')}) /* hidden */"  # noqa: S608
    # When each runs with three SKUs, as a basket asks
    for sql in (seen, hidden):
        for n in range(CALLS):
            with connection.cursor() as cursor:
                cursor.execute(sql, {"skus": [f"SKU-{n + 1}", f"SKU-{n + 2}", f"SKU-{n + 3}"]})
                assert len(cursor.fetchall()) == 3
    # Then the array PostgreSQL sees is planned on every execution, the opaque one kept generic
    generic, custom = _plans("/* seen */")
    assert generic == 0
    assert custom >= CALLS - 6
    generic, custom = _plans("/* hidden */")
    assert custom <= 5
    assert generic >= CALLS - 11


@pytest.fixture
def shop() -> tuple[Location, list[Product], Caller]:
    store = store_with_schedule()
    products = [ProductFactory.create(sku=f"PLAN-{n}") for n in range(6)]
    for product in products:
        stock_set(location=store, product=product, on_hand=50)
    # A catalogue and stock of some size, counted: on a handful of rows every plan looks alike
    catalogue = ProductFactory.build_batch(3000)
    Product.objects.bulk_create(catalogue)
    StockLevel.objects.bulk_create(StockLevel(location=store, product=p, on_hand=5, reserved=0) for p in catalogue)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inventory_product")
        cursor.execute("ANALYZE inventory_stocklevel")
        cursor.execute("ANALYZE inventory_location")
    client = make_client(CallerKind.OPERATOR)
    return store, products, Caller(client=client, scopes=frozenset({"inventory:read", "catalog:read"}))


def _stock_reserved(store: Location, products: list[Product], n: int) -> None:
    with transaction.atomic():
        stock_apply(
            location_id=store.pk,
            lines=[StockLine(products[n % 6].pk, 1), StockLine(products[(n + 1) % 6].pk, 1)],
            reason=MovementReason.RESERVATION,
        )


def _neighbours(products: list[Product], n: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(VERSION_NEIGHBOURS, {"model": 1, "products": [products[n % 6].pk, products[(n + 1) % 6].pk]})


def _within_a_transaction(call: Callable[[], Any]) -> None:
    with transaction.atomic():
        call()


HOT: dict[str, tuple[str, Callable[[Location, list[Product], Caller, int], Any]]] = {
    "availability at a store": (
        "PARTITION BY s.product_id ORDER BY l.id <>",
        lambda store, products, caller, n: availability_at_store(
            caller=caller,
            skus=[],
            product_ids=[p.pk for p in products[: 2 + n % 4]],
            store=store,
            at=timezone.now(),
            limit=1,
        ),
    ),
    "availability near a point": (
        "asin(sqrt(",
        lambda store, products, caller, n: availability_near(
            caller=caller,
            skus=[products[n % 6].sku],
            lat=float(store.latitude or 48.85),
            lng=float(store.longitude or 2.35),
            radius_km=10,
            limit=5,
        ),
    ),
    "a basket's products by SKU": (
        "category, owner_id FROM inventory_product",
        lambda store, products, caller, n: products_visible_by_sku(
            caller=caller, skus=[p.sku for p in products[: 2 + n % 4]]
        ),
    ),
    "an order's products": (
        "price_amount, price_currency",
        lambda store, products, caller, n: orderable_products(product_ids=[p.pk for p in products[: 1 + n % 5]]),
    ),
    "an order's stock levels locked": (
        "p.sku, l.code, p.owner_id",
        lambda store, products, caller, n: _within_a_transaction(
            lambda: lock_stock_levels(location_id=store.pk, product_ids=[p.pk for p in products[: 1 + n % 5]])
        ),
    ),
    "an order's stock moved": (
        "WITH ORDINALITY AS v(id, d_on_hand, d_reserved, n)",
        lambda store, products, caller, n: _stock_reserved(store, products, n),
    ),
    "a basket's neighbours in the co-purchase model": (
        "FROM commerce_copurchasescore s",
        lambda store, products, caller, n: _neighbours(products, n),
    ),
}


@pytest.mark.parametrize("name", HOT)
def test_a_hot_statement_keeps_its_generic_plan(name: str, shop: tuple[Location, list[Product], Caller]) -> None:
    marker, run = HOT[name]
    store, products, caller = shop
    for n in range(CALLS):
        run(store, products, caller, n)
    generic, custom = _plans(marker)
    assert custom <= 5, f"{name}: planned again on {custom} calls ({generic} generic)"
    assert generic >= 1


def test_an_opaque_parameter_selects_exactly_what_it_names(shop: tuple[Location, list[Product], Caller]) -> None:
    # Given three products, one of them inactive
    _store, products, caller = shop
    Product.objects.filter(pk=products[1].pk).update(is_active=False)
    # When the order path and the basket path ask for them
    found = orderable_products(product_ids=[products[0].pk, products[1].pk, products[2].pk])
    visible = products_visible_by_sku(caller=caller, skus=[products[0].sku, products[1].sku, "NO-SUCH-SKU"])
    # Then exactly the products named come back: active ones for an order, with their
    # prices; for the operator, who sees the whole catalogue, the inactive one too
    assert set(found) == {products[0].pk, products[2].pk}
    assert found[products[0].pk].price == Decimal(products[0].price_amount)
    assert {row.sku for row in visible} == {products[0].sku, products[1].sku}
