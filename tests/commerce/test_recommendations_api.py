"""The recommendations API: offers filtered by what the store can hand over
by the slot's day, curated before mined, upsell apart, cold start; curation
with tenant rules; precise problems for bad input; rebuilds."""

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commerce.models import ImportedBasket, ProductRelation, RelationKind
from commerce.recommendations.building import co_purchase_model_build, co_purchase_rebuild_request
from inventory.models import Location, LocationKind, Product
from inventory.services import stock_set
from partners.models import CallerKind, Partner
from tests.commerce.factories import ProductFactory, open_slot, stocked_product, store_with_schedule
from tests.factories import LocationFactory, PartnerFactory, api_as, make_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/recommendations"


def _build(baskets: list[list[Product]]) -> None:
    """Import ``baskets`` (a file of their own) and build a live version from every import so far."""
    source = f"till-{ImportedBasket.objects.count()}.csv"
    ImportedBasket.objects.bulk_create(
        ImportedBasket(source=source, position=n, product_ids=[p.pk for p in basket])
        for n, basket in enumerate(baskets, start=1)
    )
    co_purchase_model_build(model_id=co_purchase_rebuild_request(enqueue=False).model.pk)


def _skus(answer: dict[str, Any], kind: str = "cross_sell") -> list[str]:
    return [offer["sku"] for offer in answer[kind]]


@pytest.fixture
def shop(store: Location) -> dict[str, Product]:
    """Pants with a mat (often) and a towel (less often), all stocked at the store."""
    products = {
        name: stocked_product(store, on_hand=10, sku=name.upper(), name_fr=name, name_en=name, category="yoga")
        for name in ("pants", "mat", "towel", "bottle")
    }
    p = products
    _build([[p["pants"], p["mat"]]] * 6 + [[p["pants"], p["towel"]]] * 3 + [[p["bottle"]]] * 2)
    return products


def test_a_product_page_gets_mined_offers_with_a_readable_reason(
    store: Location, shop: dict[str, Product], operator_api: Any
) -> None:
    answer = operator_api.get(URL, {"sku": "PANTS", "store": store.code}, HTTP_ACCEPT_LANGUAGE="en").json()
    assert _skus(answer)[:2] == ["MAT", "TOWEL"]
    mat = answer["cross_sell"][0]
    assert mat["source"] == "mined"
    assert mat["reason"] == {
        "code": "bought_with",
        "text": "bought with pants in 6 baskets",
        "with_sku": "PANTS",
        "baskets": 6,
    }
    assert mat["collect"]["source"] == "store"
    assert mat["collect"]["available"] == 10
    assert answer["upsell"] == []


def test_out_of_stock_is_never_offered_and_a_stock_change_shows_at_once(
    store: Location, shop: dict[str, Product], operator_api: Any
) -> None:
    # Given the mat sold out at the store
    stock_set(location=store, product=shop["mat"], on_hand=0)
    # Then it is not offered
    assert "MAT" not in _skus(operator_api.get(URL, {"sku": "PANTS", "store": store.code}).json())
    # When it is restocked, the next answer offers it again
    stock_set(location=store, product=shop["mat"], on_hand=3)
    assert _skus(operator_api.get(URL, {"sku": "PANTS", "store": store.code}).json())[0] == "MAT"


def _availability_asks(queries: CaptureQueriesContext) -> list[set[int]]:
    """The products each availability statement run asked about (inventory's
    statement, recognised by its window over a product's locations)."""
    return [
        {int(pid) for pid in re.findall(r"p\.id = ANY\([^']*'\{([0-9,]*)\}'", query["sql"])[0].split(",") if pid}
        for query in queries.captured_queries
        if "PARTITION BY s.product_id" in query["sql"]
    ]


def test_the_stock_filter_asks_the_best_candidates_first_and_the_rest_only_when_short(
    store: Location, operator_api: Any
) -> None:
    # Given pants bought with eight products, the more often the higher their number is low
    pants = stocked_product(store, on_hand=5, sku="PANTS", category="yoga")
    others = [stocked_product(store, on_hand=5, sku=f"OTHER-{n}", category="yoga") for n in range(1, 9)]
    _build([[pants, other] for n, other in enumerate(others) for _ in range(10 - n)])
    # When all are in stock, k = 2 asks inventory once, about k + 2 products
    with CaptureQueriesContext(connection) as queries:
        answer = operator_api.get(URL, {"sku": "PANTS", "store": store.code, "k": 2}).json()
    assert _skus(answer) == ["OTHER-1", "OTHER-2"]
    assert _availability_asks(queries) == [{other.pk for other in others[:4]}]
    # When the four best sold out, a second question about the rest fills the answer in rank order
    for other in others[:4]:
        stock_set(location=store, product=other, on_hand=0)
    with CaptureQueriesContext(connection) as queries:
        answer = operator_api.get(URL, {"sku": "PANTS", "store": store.code, "k": 2}).json()
    assert _skus(answer) == ["OTHER-5", "OTHER-6"]
    asks = _availability_asks(queries)
    assert asks[0] == {other.pk for other in others[:4]}
    assert {other.pk for other in others[4:]} <= asks[1]


def test_an_inactive_product_is_never_offered(store: Location, shop: dict[str, Product], operator_api: Any) -> None:
    Product.objects.filter(pk=shop["mat"].pk).update(is_active=False)
    assert "MAT" not in _skus(operator_api.get(URL, {"sku": "PANTS", "store": store.code}).json())


def _partner_supply(lead_time_days: int) -> tuple[Partner, Product]:
    partner = PartnerFactory.create()
    location = LocationFactory.create(kind=LocationKind.PARTNER_STORE, owner=partner, lead_time_days=lead_time_days)
    product = ProductFactory.create(owner=partner, sku=f"BLOCK-{lead_time_days}", category="yoga")
    stock_set(location=location, product=product, on_hand=7)
    return partner, product


def test_a_partner_product_comes_only_if_it_arrives_by_the_slot_day(
    store: Location, shop: dict[str, Product], operator_api: Any
) -> None:
    # Given two partner blocks, one brought in a day, one in five, both bought with pants
    _p1, soon = _partner_supply(1)
    _p5, late = _partner_supply(5)
    _build([[shop["pants"], soon]] * 8 + [[shop["pants"], late]] * 8)
    slot = open_slot(store, starts_in=dt.timedelta(days=2))
    # When a basket with pants asks for offers for a slot two days ahead
    answer = operator_api.post(
        URL, {"store": store.code, "lines": [{"sku": "PANTS"}], "slot_id": slot.pk}, format="json"
    ).json()
    # Then the block arriving tomorrow is offered with its date and location, the one arriving in five days is not
    offers = {offer["sku"]: offer for offer in answer["cross_sell"]}
    assert "BLOCK-1" in offers
    assert "BLOCK-5" not in offers
    collect = offers["BLOCK-1"]["collect"]
    assert collect["source"] == "supply"
    assert collect["kind"] == "partner_store"
    assert dt.date.fromisoformat(collect["available_on"]) <= slot.local_date
    assert answer["slot_date"] == slot.local_date.isoformat()


def test_curated_offers_come_first_and_upsell_apart(
    store: Location, shop: dict[str, Product], operator_api: Any
) -> None:
    premium = stocked_product(store, on_hand=2, sku="PANTS-PRO", category="yoga")
    created = operator_api.post(
        "/api/v1/product-relations",
        {"from_product_id": shop["pants"].pk, "to_product_id": shop["bottle"].pk, "kind": "cross_sell", "weight": "5"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    operator_api.post(
        "/api/v1/product-relations",
        {"from_product_id": shop["pants"].pk, "to_product_id": premium.pk, "kind": "upsell"},
        format="json",
    )
    answer = operator_api.get(URL, {"sku": "PANTS", "store": store.code}).json()
    assert _skus(answer)[0] == "BOTTLE"
    assert answer["cross_sell"][0]["reason"]["code"] == "curated"
    assert answer["cross_sell"][0]["relation_id"] == created.json()["id"]
    assert _skus(answer, "upsell") == ["PANTS-PRO"]


def test_a_relation_outside_its_window_is_not_offered(
    store: Location, shop: dict[str, Product], operator_api: Any
) -> None:
    ProductRelation.objects.create(
        from_product=shop["pants"],
        to_product=shop["bottle"],
        kind=RelationKind.UPSELL,
        valid_until=timezone.now() - dt.timedelta(hours=1),
        valid_from=timezone.now() - dt.timedelta(days=1),
    )
    assert operator_api.get(URL, {"sku": "PANTS", "store": store.code}).json()["upsell"] == []


def test_cold_start_offers_the_categorys_best_sellers_at_the_store(
    store: Location, shop: dict[str, Product], operator_api: Any
) -> None:
    # Given a new product no basket holds, in the yoga category
    stocked_product(store, on_hand=5, sku="NEW-STRAP", category="yoga")
    answer = operator_api.get(URL, {"sku": "NEW-STRAP", "store": store.code}).json()
    assert answer["cold_start"] is True
    assert _skus(answer)[0] == "PANTS"  # the most bought yoga product
    assert answer["cross_sell"][0]["reason"]["code"] == "category_best_seller"


def test_shoppers_and_stores_read(
    store: Location, shop: dict[str, Product], app: Any, alice: Any, store_api: Any
) -> None:
    shopper_api, _user = alice
    for api in (shopper_api, store_api):
        response = api.get(URL, {"sku": "PANTS", "store": store.code})
        assert response.status_code == 200
        assert _skus(response.json())[0] == "MAT"


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


def test_bad_input_gets_precise_problems(store: Location, shop: dict[str, Product], operator_api: Any) -> None:
    other_store = store_with_schedule()
    foreign_slot = open_slot(other_store)
    # Unknown SKU, in the query and in a basket
    body = _problem(operator_api.get(URL, {"sku": "NOPE", "store": store.code}), 422)
    assert body["errors"][0]["field"] == "sku"
    assert body["errors"][0]["code"] == "unknown_sku"
    body = _problem(
        operator_api.post(URL, {"store": store.code, "lines": [{"sku": "PANTS"}, {"sku": "NOPE"}]}, format="json"), 422
    )
    assert body["errors"][0] == {"field": "lines.1.sku", "code": "unknown_sku", "message": body["errors"][0]["message"]}
    # k over 50
    body = _problem(operator_api.get(URL, {"sku": "PANTS", "store": store.code, "k": 51}), 400)
    assert body["errors"][0]["field"] == "k"
    body = _problem(
        operator_api.post(URL, {"store": store.code, "lines": [{"sku": "PANTS"}], "k": 51}, format="json"), 422
    )
    assert body["errors"][0]["field"] == "k"
    # A basket of 500 lines
    lines = [{"sku": f"SKU-{n}"} for n in range(500)]
    body = _problem(operator_api.post(URL, {"store": store.code, "lines": lines}, format="json"), 422)
    assert body["errors"][0]["field"] == "lines"
    # A slot of another store, and an unknown one
    body = _problem(
        operator_api.post(
            URL, {"store": store.code, "lines": [{"sku": "PANTS"}], "slot_id": foreign_slot.pk}, format="json"
        ),
        422,
    )
    assert body["errors"][0]["code"] == "slot_of_another_store"
    body = _problem(
        operator_api.post(URL, {"store": store.code, "lines": [{"sku": "PANTS"}], "slot_id": 2**40}, format="json"), 422
    )
    assert body["errors"][0]["code"] == "unknown_slot"
    # An unknown store
    body = _problem(operator_api.get(URL, {"sku": "PANTS", "store": "NOWHERE"}), 422)
    assert body["errors"][0]["code"] == "unknown_store"


# ---------------------------------------------------------------- curation


def test_a_partner_curates_only_between_its_own_products(store: Location) -> None:
    partner = PartnerFactory.create()
    partner_api = api_as(make_client(CallerKind.PARTNER, partner=partner))
    own_a = ProductFactory.create(owner=partner)
    own_b = ProductFactory.create(owner=partner)
    foreign = ProductFactory.create()
    created = partner_api.post(
        "/api/v1/product-relations",
        {"from_product_id": own_a.pk, "to_product_id": own_b.pk, "kind": "cross_sell"},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["curated_by"] == partner.slug
    body = _problem(
        partner_api.post(
            "/api/v1/product-relations",
            {"from_product_id": own_a.pk, "to_product_id": foreign.pk, "kind": "cross_sell"},
            format="json",
        ),
        422,
    )
    assert body["errors"][0]["code"] == "unknown_product"
    # Another partner neither sees nor changes the relation
    other_api = api_as(make_client(CallerKind.PARTNER))
    relation_url = f"/api/v1/product-relations/{created.json()['id']}"
    assert other_api.get(relation_url).status_code == 404
    assert other_api.delete(relation_url).status_code == 404
    # The same pair twice is a conflict
    again = partner_api.post(
        "/api/v1/product-relations",
        {"from_product_id": own_a.pk, "to_product_id": own_b.pk, "kind": "cross_sell"},
        format="json",
    )
    assert _problem(again, 409)["code"] == "relation_exists"


def test_stores_and_shoppers_read_relations_but_never_curate(
    store: Location, shop: dict[str, Product], alice: Any, store_api: Any, operator_api: Any
) -> None:
    operator_api.post(
        "/api/v1/product-relations",
        {"from_product_id": shop["pants"].pk, "to_product_id": shop["mat"].pk, "kind": "cross_sell"},
        format="json",
    )
    shopper_api, _user = alice
    for api in (shopper_api, store_api):
        listed = api.get("/api/v1/product-relations", {"product": shop["pants"].pk})
        assert listed.status_code == 200
        assert [r["to_sku"] for r in listed.json()["results"]] == ["MAT"]
    assert _problem(
        store_api.post(
            "/api/v1/product-relations",
            {"from_product_id": shop["pants"].pk, "to_product_id": shop["towel"].pk, "kind": "cross_sell"},
            format="json",
        ),
        403,
    )
    assert (
        shopper_api.post(
            "/api/v1/product-relations",
            {"from_product_id": shop["pants"].pk, "to_product_id": shop["towel"].pk, "kind": "cross_sell"},
            format="json",
        ).status_code
        == 403
    )


def test_an_operator_changes_a_relation_with_if_match(shop: dict[str, Product], operator_api: Any) -> None:
    created = operator_api.post(
        "/api/v1/product-relations",
        {"from_product_id": shop["pants"].pk, "to_product_id": shop["mat"].pk, "kind": "cross_sell"},
        format="json",
    )
    url = f"/api/v1/product-relations/{created.json()['id']}"
    assert operator_api.patch(url, {"weight": "3"}, format="json").status_code == 428
    changed = operator_api.patch(url, {"weight": "3.5"}, format="json", HTTP_IF_MATCH=created["ETag"])
    assert changed.status_code == 200
    assert changed.json()["weight"] == "3.500"
    assert operator_api.patch(url, {"weight": "4"}, format="json", HTTP_IF_MATCH=created["ETag"]).status_code == 412
    assert operator_api.delete(url).status_code == 204
    assert operator_api.get(url).status_code == 404


def test_the_operator_rebuilds_and_follows_progress(
    shop: dict[str, Product], operator_api: Any, store_api: Any
) -> None:
    assert store_api.post("/api/v1/recommendation-model/rebuilds").status_code == 403
    started = operator_api.post("/api/v1/recommendation-model/rebuilds")
    assert started.status_code == 202
    assert started.json()["state"] == "building"
    # The task runs after commit (eager in tests, or a worker): the build itself is run here by id
    co_purchase_model_build(model_id=started.json()["id"])
    progress = operator_api.get(started["Location"]).json()
    assert progress["state"] == "ready"
    assert progress["progress"] == 100
