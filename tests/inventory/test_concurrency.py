"""Concurrency with real threads, each on its own database connection (and
one test over HTTP against the real multi-process server): counters end at
the exact sum, compare-and-swap lets one writer through, reservations never
oversell, and bulk syncs racing orders never deadlock."""

import random
import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests
from django.db import connection

from gateway.api.problems import PreconditionFailed
from inventory.errors import InsufficientStock
from inventory.models import MovementReason, StockLevel, StockMovement
from inventory.selectors.ledger import stock_ledger_mismatches
from inventory.services import StockLine, stock_adjust, stock_apply, stock_set, stock_sync
from partners.callers import Caller
from tests.factories import token_for
from tests.inventory.factories import ProductFactory, stock

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


def run_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released together; returns each
    result or the exception it raised. Every thread closes its connection."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def runner(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except Exception as exc:  # collected and asserted on by the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    return results


def test_many_concurrent_deltas_end_at_the_exact_sum(network) -> None:
    rng = random.Random(7)
    deltas = [[rng.choice([-3, -2, -1, 1, 2, 4, 5]) for _ in range(6)] for _ in range(12)]
    movements_before = StockMovement.objects.count()

    def work(i: int) -> None:
        for delta in deltas[i]:
            stock_adjust(
                location=network.warehouse_a, product=network.product_a, delta=delta, reason=MovementReason.ADJUSTMENT
            )

    results = run_threads(12, work)

    assert results == [None] * 12
    level = StockLevel.objects.get(location=network.warehouse_a, product=network.product_a)
    assert level.on_hand == 100 + sum(map(sum, deltas))
    assert StockMovement.objects.count() - movements_before == 72
    assert stock_ledger_mismatches()[1] == []


def test_concurrent_compare_and_swap_sets_let_exactly_one_through(network) -> None:
    def work(i: int) -> int:
        stock_set(location=network.warehouse_a, product=network.product_a, on_hand=200 + i, expected_on_hand=100)
        return 200 + i

    results = run_threads(10, work)

    winners = [r for r in results if isinstance(r, int)]
    assert len(winners) == 1
    assert all(isinstance(r, PreconditionFailed) for r in results if not isinstance(r, int))
    assert StockLevel.objects.get(location=network.warehouse_a, product=network.product_a).on_hand == winners[0]


def test_concurrent_version_guarded_sets_let_exactly_one_through(network) -> None:
    version = StockLevel.objects.get(location=network.store, product=network.retail_product).version

    def work(i: int) -> int:
        stock_set(location=network.store, product=network.retail_product, on_hand=50 + i, expected_version=version)
        return i

    results = run_threads(10, work)

    assert sum(isinstance(r, int) for r in results) == 1
    assert sum(isinstance(r, PreconditionFailed) for r in results) == 9


def test_concurrent_reservations_never_push_available_below_zero(network) -> None:
    stock(network.other_store, network.retail_product, 10)  # was 5

    def work(i: int) -> bool:
        stock_apply(
            location_id=network.other_store.pk,
            lines=[StockLine(product_id=network.retail_product.pk, quantity=1)],
            reason=MovementReason.RESERVATION,
        )
        return True

    results = run_threads(25, work)

    assert results.count(True) == 10
    assert all(isinstance(r, InsufficientStock) for r in results if r is not True)
    level = StockLevel.objects.get(location=network.other_store, product=network.retail_product)
    assert (level.on_hand, level.reserved, level.available) == (10, 10, 0)
    assert stock_ledger_mismatches()[1] == []


def test_bulk_syncs_racing_orders_do_not_deadlock(network) -> None:
    products = ProductFactory.create_batch(40)
    for product in products:
        stock(network.store, product, 1000)
    caller = Caller(client=network.clients["operator"], scopes=frozenset({"inventory:write"}))

    def syncer(i: int) -> int:
        rng = random.Random(i)
        for _ in range(5):
            lines = [{"sku": p.sku, "location": "PAR01", "delta": 1} for p in rng.sample(products, len(products))]
            report = stock_sync(caller=caller, lines=lines, error_policy="reject_all")
            assert report.applied == len(products)
        return 5

    def orderer(i: int) -> int:
        rng = random.Random(100 + i)
        for _ in range(10):
            lines = [StockLine(product_id=p.pk, quantity=1) for p in rng.sample(products, 5)]
            stock_apply(location_id=network.store.pk, lines=lines, reason=MovementReason.RESERVATION)
        return 10

    results = run_threads(6, lambda i: syncer(i) if i < 3 else orderer(i))

    assert results == [5, 5, 5, 10, 10, 10], results
    levels = StockLevel.objects.filter(location=network.store, product__in=products)
    assert {level.on_hand for level in levels} == {1015}
    assert sum(level.reserved for level in levels) == 3 * 10 * 5
    assert stock_ledger_mismatches()[1] == []


def test_concurrent_adjustments_over_http_on_the_real_server(network, gateway_server) -> None:
    token = token_for(network.clients["partner_a"])
    url = f"{gateway_server.url}/api/v1/locations/ACME-WH1/stock/ACME-GRANOLA/adjustments"

    def work(i: int) -> list[int]:
        session = requests.Session()
        statuses = []
        for n in range(8):
            response = session.post(
                url,
                json={"delta": 1 if (i + n) % 3 else -1, "reason": "adjustment"},
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"http-{i}-{n}"},
                timeout=30,
            )
            statuses.append(response.status_code)
        return statuses

    results = run_threads(8, work)

    assert all(status == 200 for statuses in results for status in statuses), results
    expected = 100 + sum(1 if (i + n) % 3 else -1 for i in range(8) for n in range(8))
    level = StockLevel.objects.get(location=network.warehouse_a, product=network.product_a)
    assert level.on_hand == expected
    assert stock_ledger_mismatches()[1] == []
