"""The demo's cross-sell: given a basket file (as ``bin/serve`` gives
``DEMO_DATA_DIR``), its baskets are imported, their products created and
stocked at the demo stores, and the live model built, so the running demo
recommends from real co-purchases; a second run adds nothing."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from commerce.models import CoPurchaseModel, ImportedBasket, ModelPurpose, ModelState
from inventory.models import Product, StockLevel
from partners.models import CallerKind
from tests.factories import api_as, make_client

pytestmark = pytest.mark.django_db

BASKETS = ["whole milk,rolls/buns,yogurt", "whole milk,yogurt", "rolls/buns,sausage", "whole milk,yogurt,butter"] * 5


def test_the_demo_recommends_from_the_basket_file_it_is_given(tmp_path: Path) -> None:
    (tmp_path / "groceries_train.csv").write_text("\n".join(BASKETS) + "\n", encoding="utf-8")

    out = io.StringIO()
    call_command("load_demo", data_dir=str(tmp_path), stdout=out)

    assert "cross-sell: 20 baskets imported" in out.getvalue()
    milk = Product.objects.get(sku="DEMO-WHOLE-MILK")
    assert StockLevel.objects.filter(product=milk, location__code="PAR01", on_hand__gte=5).exists()
    live = CoPurchaseModel.objects.get(purpose=ModelPurpose.LIVE, state=ModelState.READY)
    assert live.basket_count >= 20
    answer = api_as(make_client(CallerKind.SHOPPER)).get(
        "/api/v1/recommendations", {"sku": "DEMO-WHOLE-MILK", "store": "PAR01"}
    )
    assert answer.status_code == 200, answer.content
    offered = [offer["sku"] for offer in answer.json()["cross_sell"]]
    assert offered[0] == "DEMO-YOGURT", offered

    call_command("load_demo", data_dir=str(tmp_path), stdout=io.StringIO())

    assert ImportedBasket.objects.count() == 20
    assert CoPurchaseModel.objects.get(purpose=ModelPurpose.LIVE, state=ModelState.READY).pk == live.pk
