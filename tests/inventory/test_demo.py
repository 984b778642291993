"""The demo data set: a bilingual catalogue with valid GTINs, stock at the
demo stores and partner locations, a reconciled ledger, and idempotence."""

import io

import pytest
from django.core.management.base import OutputWrapper

from inventory import demo as inventory_demo
from inventory.models import Location, Product, StockLevel, StockMovement, validate_gtin
from inventory.selectors.ledger import stock_ledger_mismatches
from partners import demo as partners_demo

pytestmark = pytest.mark.django_db


def load(data_dir: str = "") -> str:
    out = io.StringIO()
    options = {"base_url": "http://127.0.0.1:8000", "data_dir": data_dir}
    partners_demo.load(stdout=OutputWrapper(io.StringIO()), options=options)
    inventory_demo.load(stdout=OutputWrapper(out), options=options)
    return out.getvalue()


def test_the_demo_catalogue_and_its_stock() -> None:
    output = load()

    products = Product.objects.all()
    assert products.filter(owner__isnull=True).count() >= 30
    assert products.filter(owner__slug="acme-foods").count() >= 6
    assert products.filter(owner__slug="fresh-farm").count() >= 6
    for product in products:
        validate_gtin(product.gtin)
        assert all([product.name_fr, product.name_en, product.category]), product.sku
    for code in ("PAR01", "PAR02", "LYO01", "ACME-WH1", "FRESH-PS1"):
        assert StockLevel.objects.filter(location__code=code, on_hand__gt=0).exists(), code
    # a location holds only its owner's products
    for level in StockLevel.objects.select_related("product", "location"):
        assert level.product.owner_id == level.location.owner_id
    assert stock_ledger_mismatches()[1] == []
    assert "products" in output


def test_a_second_run_changes_nothing() -> None:
    load()
    counts = (
        Product.objects.count(),
        Location.objects.count(),
        StockLevel.objects.count(),
        StockMovement.objects.count(),
    )

    load()

    assert (
        Product.objects.count(),
        Location.objects.count(),
        StockLevel.objects.count(),
        StockMovement.objects.count(),
    ) == counts


def test_real_baskets_weight_the_stock_of_popular_categories(tmp_path) -> None:
    baskets = ["whole milk,yogurt", "whole milk,rolls/buns", "whole milk", "detergent,whole milk"]
    (tmp_path / "groceries_train.csv").write_text("\n".join(baskets) + "\n", encoding="utf-8")

    def at_par01(sku: str) -> int:
        return StockLevel.objects.get(location__code="PAR01", product__sku=sku, product__owner__isnull=True).on_hand

    load()
    milk, detergent = at_par01("LAIT-ENTIER-1L"), at_par01("LESSIVE-LIQUIDE-2L")
    output = load(str(tmp_path))

    assert "weighted by real baskets" in output
    # milk is in every basket (weight 1.0: x1.5), detergent in a quarter of them (0.25: x0.75)
    assert at_par01("LAIT-ENTIER-1L") == round(milk * 1.5)
    assert at_par01("LESSIVE-LIQUIDE-2L") == max(4, round(detergent * 0.75))
    assert stock_ledger_mismatches()[1] == []
