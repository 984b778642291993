"""The co-purchase model: mining, versioned builds switched in one statement,
the scratch area, and the evaluation command."""

import os
import threading
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from commerce.models import (
    CoPurchaseActive,
    CoPurchaseItem,
    CoPurchaseModel,
    CoPurchaseScore,
    ImportedBasket,
    ModelPurpose,
    ModelState,
    Order,
    OrderLine,
    OrderStatus,
)
from commerce.recommendations.building import co_purchase_model_build, co_purchase_rebuild_request
from commerce.recommendations.mining import CONFIDENCE, EASE, POPULARITY, co_purchase_mine
from commerce.recommendations.scoring import basket_scores, model_version_active
from inventory.models import Location, Product
from tests.commerce.factories import ProductFactory, open_slot, store_with_schedule
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# Pasta goes with sauce, and milk with everything: the shape of a grocer's tills.
BASKETS = [[1, 2, 3]] * 30 + [[1, 3]] * 20 + [[2, 3]] * 10 + [[4, 3]] * 5 + [[3]] * 40 + [[5, 6]] * 4


def _scores(model: Any) -> dict[tuple[int, int], float]:
    return {
        (s, t): v for s, t, v in zip(model.sources.tolist(), model.targets.tolist(), model.scores.tolist(), strict=True)
    }


def test_confidence_is_the_share_of_baskets_of_one_product_holding_the_other() -> None:
    # When the baskets are mined with the confidence baseline
    model = co_purchase_mine(BASKETS, method=CONFIDENCE)
    # Then 1 -> 2 is c(1,2) / c(1) = 30 / 50, and 1 -> 3 is 50 / 50
    scores = _scores(model)
    assert scores[(1, 2)] == pytest.approx(30 / 50)
    assert scores[(1, 3)] == pytest.approx(1.0)
    assert model.basket_count == len(BASKETS)


def test_ease_discounts_the_product_bought_with_everything() -> None:
    # Given pasta (1) always bought with sauce (2), and milk (3) in most baskets, pasta's too
    baskets = [[1, 2, 3]] * 20 + [[3]] * 60 + [[3, 4]] * 20 + [[1, 2]] * 5
    # When mined with EASE and with confidence
    ease, confidence = (
        _scores(co_purchase_mine(baskets, method=EASE)),
        _scores(co_purchase_mine(baskets, method=CONFIDENCE)),
    )
    # Then EASE puts milk further behind sauce than confidence does
    assert ease[(1, 3)] / ease[(1, 2)] < 0.6 < confidence[(1, 3)] / confidence[(1, 2)]
    # And products never bought together get no score
    assert (1, 4) not in ease
    assert (4, 1) not in ease


def test_popularity_mines_no_pairs_and_ranks_by_baskets() -> None:
    model = co_purchase_mine(BASKETS, method=POPULARITY)
    assert model.sources.size == 0
    assert model.products.tolist()[:2] == [3, 1]


def test_empty_and_repeated_items_count_once() -> None:
    model = co_purchase_mine([[7, 7, 8], [], [8]], method=CONFIDENCE)
    assert model.basket_count == 2
    assert dict(zip(model.products.tolist(), model.product_baskets.tolist(), strict=True)) == {8: 2, 7: 1}


def _catalogue(count: int) -> list[Product]:
    return [ProductFactory.create(category="pasta" if index < 3 else "dairy") for index in range(count)]


def _collected_order(store: Location, products: list[Product]) -> Order:
    slot = open_slot(store)
    order = Order.objects.create(
        store=store,
        slot=slot,
        customer=UserFactory.create(),
        status=OrderStatus.COLLECTED,
        total_amount=Decimal("1.00"),
        item_count=len(products),
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            product=product,
            sku=product.sku,
            name_fr=product.name_fr,
            quantity=1,
            unit_price_amount=Decimal("1.00"),
            line_total_amount=Decimal("1.00"),
        )
        for product in products
    )
    return order


def _imported(products: list[list[Product]]) -> None:
    ImportedBasket.objects.bulk_create(
        ImportedBasket(source="till.csv", position=n, product_ids=[p.pk for p in basket])
        for n, basket in enumerate(products, start=1)
    )


def test_a_live_build_mines_orders_and_imports_and_serves_them() -> None:
    # Given imported till baskets and a collected order at a store
    pasta, sauce, milk, cheese = _catalogue(4)
    _imported([[pasta, sauce]] * 5 + [[milk]] * 3)
    store = store_with_schedule()
    _collected_order(store, [cheese, pasta])
    # When a live build is requested and run
    request = co_purchase_rebuild_request(enqueue=False)
    model = co_purchase_model_build(model_id=request.model.pk)
    # Then it is ready and serves
    assert model is not None
    assert model.state == ModelState.READY
    assert model.progress == 100
    assert model.basket_count == 9
    active = model_version_active()
    assert active is not None
    assert active.id == model.pk
    # And pasta calls for sauce, with the baskets that say so
    best = basket_scores(model=active, basket=[pasta.pk], limit=3)[0]
    assert (best.product_id, best.because, best.together) == (sauce.pk, pasta.pk, 5)
    # And the store's own sales are counted apart, with categories copied
    at_store = CoPurchaseItem.objects.filter(model_id=model.pk, store=store)
    assert {(i.product_id, i.baskets, i.category) for i in at_store} == {
        (cheese.pk, 1, "dairy"),
        (pasta.pk, 1, "pasta"),
    }


def test_a_second_build_switches_and_drops_the_first() -> None:
    pasta, sauce, *_ = _catalogue(3)
    _imported([[pasta, sauce]] * 3)
    first = co_purchase_model_build(model_id=co_purchase_rebuild_request(enqueue=False).model.pk)
    assert first is not None
    # When another build runs
    second = co_purchase_model_build(model_id=co_purchase_rebuild_request(enqueue=False).model.pk)
    assert second is not None
    # Then the second serves and nothing of the first is left
    assert CoPurchaseActive.objects.get(purpose=ModelPurpose.LIVE).model_id == second.pk
    assert not CoPurchaseModel.objects.filter(pk=first.pk).exists()
    assert not CoPurchaseScore.objects.filter(model_id=first.pk).exists()
    assert not CoPurchaseItem.objects.filter(model_id=first.pk).exists()


def test_one_live_build_at_a_time_and_a_build_runs_once() -> None:
    _imported([[p] for p in _catalogue(2)])
    first = co_purchase_rebuild_request(enqueue=False)
    again = co_purchase_rebuild_request(enqueue=False)
    assert first.created
    assert not again.created
    assert again.model.pk == first.model.pk
    built = co_purchase_model_build(model_id=first.model.pk)
    assert built is not None
    # A redelivered task finds the version ready and changes nothing
    assert co_purchase_model_build(model_id=first.model.pk) == built
    assert CoPurchaseModel.objects.filter(purpose=ModelPurpose.LIVE).count() == 1


@pytest.mark.django_db(transaction=True)
def test_reads_during_a_switch_see_one_whole_version() -> None:
    # Given a served version in which pasta calls for sauce only
    pasta, sauce, cheese = _catalogue(3)
    _imported([[pasta, sauce]] * 4)
    co_purchase_model_build(model_id=co_purchase_rebuild_request(enqueue=False).model.pk)
    # When a reader on its own connection keeps reading while a new version (pasta with cheese) is built and switched
    ImportedBasket.objects.all().delete()
    _imported([[pasta, cheese]] * 4)
    seen: list[set[int]] = []
    stop = threading.Event()

    def read() -> None:
        try:
            while not stop.is_set():
                active = model_version_active()
                assert active is not None
                seen.append({s.product_id for s in basket_scores(model=active, basket=[pasta.pk], limit=5)})
        finally:
            connection.close()

    reader = threading.Thread(target=read)
    reader.start()
    co_purchase_model_build(model_id=co_purchase_rebuild_request(enqueue=False).model.pk)
    stop.set()
    reader.join()
    # Then every answer came from one whole version: sauce or cheese, never both, never none
    assert seen
    assert all(answer in ({sauce.pk}, {cheese.pk}) for answer in seen)
    final = model_version_active()
    assert final is not None
    assert {s.product_id for s in basket_scores(model=final, basket=[pasta.pk], limit=5)} == {cheese.pk}


def _write(path: Path, baskets: list[str]) -> Path:
    path.write_text("\n".join(baskets) + "\n", encoding="utf-8")
    return path


def test_the_evaluation_command_prints_every_figure_and_leaves_no_trace(tmp_path: Path) -> None:
    # Given a train and a test file, and a live version serving
    _imported([[p] for p in _catalogue(2)])
    live = co_purchase_model_build(model_id=co_purchase_rebuild_request(enqueue=False).model.pk)
    assert live is not None
    train = _write(tmp_path / "train.csv", ["pasta,sauce,milk"] * 10 + ["milk,bread"] * 12 + ["cheese,wine"] * 3)
    test = _write(tmp_path / "test.csv", ["pasta,sauce", "cheese,wine", "milk", "bread,milk,unseen"])
    out = StringIO()
    # When the command runs
    call_command("recommendations_evaluate", "--train", str(train), "--test", str(test), stdout=out, stderr=StringIO())
    # Then it prints the six figures
    results = dict(line.split(" ")[1].split("=") for line in out.getvalue().splitlines() if line.startswith("RESULT"))
    assert set(results) == {f"{prefix}hit_at_{k}" for prefix in ("", "popularity_", "confidence_") for k in (5, 10)}
    # 7 hidden items (3 baskets of two or more); six products are known, so five answers find every known one
    # and the unseen item is a miss for every method
    assert all(float(value) == pytest.approx(6 / 7, abs=1e-4) for value in results.values()), results
    # And the scratch area is empty again, the live version untouched
    assert list(CoPurchaseModel.objects.values_list("pk", flat=True)) == [live.pk]
    assert CoPurchaseActive.objects.get(purpose=ModelPurpose.LIVE).model_id == live.pk


@pytest.mark.skipif(not os.environ.get("DEMO_DATA_DIR"), reason="DEMO_DATA_DIR not set (the real basket file)")
def test_on_the_real_baskets_the_model_beats_both_baselines(tmp_path: Path) -> None:
    lines = (Path(os.environ["DEMO_DATA_DIR"]) / "groceries_train.csv").read_text(encoding="utf-8").splitlines()
    cut = len(lines) * 4 // 5
    train = _write(tmp_path / "train.csv", lines[:cut])
    test = _write(tmp_path / "test.csv", lines[cut:])
    out = StringIO()
    call_command("recommendations_evaluate", "--train", str(train), "--test", str(test), stdout=out, stderr=StringIO())
    results = {
        key: float(value)
        for key, value in (line.split(" ")[1].split("=") for line in out.getvalue().splitlines() if "RESULT" in line)
    }
    for k in (5, 10):
        assert results[f"hit_at_{k}"] > results[f"popularity_hit_at_{k}"]
        assert results[f"hit_at_{k}"] > results[f"confidence_hit_at_{k}"]
