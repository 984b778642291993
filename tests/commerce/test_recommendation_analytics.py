"""A recommendation shown and then ordered is counted: every answer has a
``recommendation_id``, an order line may name it (only for a product it
offered), and the analytics give per source and kind the offers shown, the
orders, units and revenue they led to (cancelled orders left out)."""

import datetime as dt
import uuid
from typing import Any

import pytest
from django.utils import timezone

from commerce.models import OrderLine, ProductRelation, RecommendationImpression, RelationKind
from inventory.models import Location, Product
from partners.models import CallerKind
from tests.commerce.factories import idempotency_key, stocked_product
from tests.commerce.test_recommendations_api import _build
from tests.factories import api_as, make_client

pytestmark = pytest.mark.django_db

ANALYTICS = "/api/v1/recommendations/analytics"


@pytest.fixture
def shop(store: Location) -> dict[str, Product]:
    """Pants bought with a mat; a curated upsell from the mat to a thick mat."""
    products = {
        name: stocked_product(store, on_hand=50, price=price, sku=name.upper(), name_fr=name, category="yoga")
        for name, price in (("pants", "30.00"), ("mat", "20.00"), ("thick", "35.00"))
    }
    _build([[products["pants"], products["mat"]]] * 5)
    ProductRelation.objects.create(
        from_product=products["pants"], to_product=products["thick"], kind=RelationKind.UPSELL, weight=2
    )
    return products


def today() -> dict[str, str]:
    day = timezone.now().astimezone(dt.UTC).date().isoformat()
    return {"from": day, "to": day}


def order(api: Any, slot: Any, *lines: tuple[Product, int, str | None]) -> Any:
    body = {
        "slot_id": slot.pk,
        "lines": [
            {"product_id": p.pk, "quantity": q, **({"recommendation_id": rid} if rid else {})} for p, q, rid in lines
        ],
    }
    return api.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY=idempotency_key())


def test_an_offer_shown_then_ordered_is_counted_per_source_and_kind(alice, store, slot, shop, operator_api) -> None:
    api, _user = alice
    # when the shopper's app shows the pants' offers, and she orders the mat and the pants from it
    answer = api.get("/api/v1/recommendations", {"sku": "PANTS", "store": store.code}).json()
    rid = answer["recommendation_id"]
    assert [o["sku"] for o in answer["cross_sell"]] == ["MAT"]
    assert [o["sku"] for o in answer["upsell"]] == ["THICK"]
    impression = RecommendationImpression.objects.get(pk=rid)
    assert impression.store_id == store.pk
    placed = order(api, slot, (shop["mat"], 2, rid), (shop["pants"], 1, None))
    assert placed.status_code == 201, placed.json()["errors"]
    assert [line["recommendation_id"] for line in placed.json()["lines"]] == [rid, None]
    line = OrderLine.objects.get(product=shop["mat"])
    assert (line.recommendation_kind, line.recommendation_source) == ("cross_sell", "mined")
    # then the analytics count one mined cross-sell and one curated upsell shown, and the mat's order
    figures = operator_api.get(ANALYTICS, today()).json()
    rows = {(row["source"], row["kind"]): row for row in figures["rows"]}
    assert rows[("mined", "cross_sell")] == {
        "source": "mined",
        "kind": "cross_sell",
        "impressions": 1,
        "answers": 1,
        "orders": 1,
        "units": 2,
        "revenue": [{"amount": "40.00", "currency": "EUR"}],
    }
    assert (rows[("curated", "upsell")]["impressions"], rows[("curated", "upsell")]["orders"]) == (1, 0)
    # and a cancelled order no longer counts
    assert api.post(f"/api/v1/orders/{placed.json()['id']}/cancel", {}, format="json").status_code == 200
    rows = {(r["source"], r["kind"]): r for r in operator_api.get(ANALYTICS, today()).json()["rows"]}
    assert (rows[("mined", "cross_sell")]["orders"], rows[("mined", "cross_sell")]["revenue"]) == (0, [])


def test_the_store_filter_and_another_day(alice, store, slot, shop, operator_api) -> None:
    api, _user = alice
    api.get("/api/v1/recommendations", {"sku": "PANTS", "store": store.code})
    assert operator_api.get(ANALYTICS, {**today(), "store": store.code}).json()["rows"] != []
    yesterday = (timezone.now().astimezone(dt.UTC).date() - dt.timedelta(days=1)).isoformat()
    assert operator_api.get(ANALYTICS, {"from": yesterday, "to": yesterday}).json()["rows"] == []


def test_a_line_may_not_claim_an_offer_it_was_not_shown(alice, store, slot, shop) -> None:
    api, _user = alice
    rid = api.get("/api/v1/recommendations", {"sku": "PANTS", "store": store.code}).json()["recommendation_id"]
    # the pants were in the basket, not offered; and an id that names no answer
    for product, claimed in ((shop["pants"], rid), (shop["mat"], str(uuid.uuid4()))):
        response = order(api, slot, (product, 1, claimed))
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "lines.0.recommendation_id"
        assert response.json()["errors"][0]["code"] == "not_recommended"
    assert not OrderLine.objects.exists()
    response = order(api, slot, (shop["mat"], 1, "not-a-uuid"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "lines.0.recommendation_id"


def test_only_the_operator_reads_the_analytics(alice, store_api) -> None:
    api, _user = alice
    assert api.get(ANALYTICS, today()).status_code == 403
    assert store_api.get(ANALYTICS, today()).status_code == 403
    partner = api_as(make_client(CallerKind.PARTNER))
    assert partner.get(ANALYTICS, today()).status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"from": "2026-01-01"},
        {"from": "2026-01-10", "to": "2026-01-01"},
        {"from": "2026-01-01", "to": "2026-12-31"},
    ],
)
def test_bad_periods_are_400s(operator_api, query) -> None:
    assert operator_api.get(ANALYTICS, query).status_code == 400


def test_an_unknown_store_is_a_422(operator_api) -> None:
    response = operator_api.get(ANALYTICS, {**today(), "store": "NOWHERE"})
    assert response.status_code == 422
