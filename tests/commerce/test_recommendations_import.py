"""Till basket import: names to demo products, baskets of product ids, a
second import of the same file adds nothing."""

import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from commerce.models import ImportedBasket
from commerce.recommendations.baskets import sku_of_name
from commerce.recommendations.building import co_purchase_model_build, co_purchase_rebuild_request
from commerce.recommendations.scoring import basket_scores, model_version_active
from inventory.models import Product
from tests.commerce.factories import ProductFactory

pytestmark = pytest.mark.django_db


def _import(path: Path, *flags: str) -> str:
    out = StringIO()
    call_command("import_baskets", str(path), *flags, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_sku_of_a_name() -> None:
    assert sku_of_name("whole milk") == "DEMO-WHOLE-MILK"
    assert sku_of_name("cream cheese ") == "DEMO-CREAM-CHEESE"
    assert sku_of_name("rolls/buns") == "DEMO-ROLLS-BUNS"
    assert sku_of_name("Crème fraîche") == "DEMO-CREME-FRAICHE"
    assert len(sku_of_name("x" * 100)) == 64


def test_import_creates_the_demo_catalogue_and_the_baskets(tmp_path: Path) -> None:
    # Given a till file with a repeated item, a blank line and a trailing space
    path = tmp_path / "tills.csv"
    path.write_text("whole milk,yogurt,whole milk\n\nyogurt ,coffee\n", encoding="utf-8")
    # When imported with --create-products
    output = _import(path, "--create-products")
    # Then three products exist, and two baskets of their ids in line order
    products = dict(Product.objects.filter(sku__startswith="DEMO-").values_list("sku", "pk"))
    assert set(products) == {"DEMO-WHOLE-MILK", "DEMO-YOGURT", "DEMO-COFFEE"}
    baskets = list(ImportedBasket.objects.order_by("position").values_list("position", "product_ids"))
    assert baskets == [
        (1, [products["DEMO-WHOLE-MILK"], products["DEMO-YOGURT"]]),
        (3, [products["DEMO-YOGURT"], products["DEMO-COFFEE"]]),
    ]
    assert "2 baskets imported, 3 products created" in output
    # And importing the same file again adds nothing
    assert "0 baskets imported, 0 products created" in _import(path, "--create-products")
    assert ImportedBasket.objects.count() == 2


def test_without_create_products_unknown_names_are_left_out_and_named(tmp_path: Path) -> None:
    ProductFactory.create(sku="DEMO-YOGURT")
    path = tmp_path / "tills.csv"
    path.write_text("yogurt,caviar\ncaviar\n", encoding="utf-8")
    output = _import(path)
    assert "1 baskets imported" in output
    assert "1 lines without a known product" in output
    assert "caviar" in output
    assert not Product.objects.filter(sku="DEMO-CAVIAR").exists()


@pytest.mark.skipif(not os.environ.get("DEMO_DATA_DIR"), reason="DEMO_DATA_DIR not set (the real basket file)")
def test_the_real_file_imports_and_builds() -> None:
    _import(Path(os.environ["DEMO_DATA_DIR"]) / "groceries_train.csv", "--create-products")
    co_purchase_model_build(model_id=co_purchase_rebuild_request(enqueue=False).model.pk)
    active = model_version_active()
    assert active is not None
    milk = Product.objects.get(sku="DEMO-WHOLE-MILK")
    assert basket_scores(model=active, basket=[milk.pk], limit=5)[0].because == milk.pk
