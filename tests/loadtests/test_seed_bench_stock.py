"""The benchmark stock seeding command: set-based, reconciled, idempotent."""

import pytest
from django.core.management import call_command

from inventory.models import Location, LocationKind, Product, StockLevel
from inventory.selectors.ledger import stock_ledger_mismatches

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("bench_settings")]


def test_seed_bench_stock_creates_what_it_says_with_a_reconciled_ledger(capsys) -> None:
    call_command("seed_bench_stock", "--stores", "5", "--levels", "23")

    assert "seeded 5 stores, 5 products, 23 stock levels" in capsys.readouterr().out
    stores = Location.objects.filter(code__startswith="BST")
    assert stores.count() == 5
    assert set(stores.values_list("kind", "click_and_collect", "is_active")) == {(LocationKind.STORE, True, True)}
    for latitude, longitude in stores.values_list("latitude", "longitude"):
        assert 41 <= (latitude or 0) <= 51
        assert -2 <= (longitude or 0) <= 8
    assert Product.objects.filter(sku__startswith="BENCH-").count() == 5
    assert StockLevel.objects.count() == 23
    assert stock_ledger_mismatches() == (23, [])


def test_a_second_run_does_nothing(capsys) -> None:
    call_command("seed_bench_stock", "--stores", "3", "--levels", "6")
    call_command("seed_bench_stock", "--stores", "3", "--levels", "6")

    assert "already seeded" in capsys.readouterr().out
    assert StockLevel.objects.count() == 6
