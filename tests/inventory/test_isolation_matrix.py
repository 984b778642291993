"""Tenant isolation as a matrix: every inventory endpoint x every caller kind.

Expected statuses come from one policy table. Refused object access answers
404 (never 403, never the object), a missing scope 403, no token 401; a
refused write leaves the database as it was."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from gateway.api.etag import etag_for
from inventory.models import Location, Product, StockLevel, StockMovement

pytestmark = pytest.mark.django_db

CALLERS = ["operator", "partner_a", "partner_b", "store", "device", "shopper", "anonymous"]


@dataclass(frozen=True)
class Case:
    method: str
    path: Callable[[Any], str]
    expected: dict[str, int]
    body: Callable[[Any], Any] | None = None
    headers: Callable[[Any], dict[str, str]] | None = None


def product_etag(product: Product) -> dict[str, str]:
    product.refresh_from_db()
    return {"HTTP_IF_MATCH": etag_for("product", product.pk, product.version)}


def location_etag(location: Location) -> dict[str, str]:
    location.refresh_from_db()
    return {"HTTP_IF_MATCH": etag_for("location", location.pk, location.version)}


def key(_n: Any) -> dict[str, str]:
    return {"HTTP_IDEMPOTENCY_KEY": "matrix-key"}


def expect(operator, partner_a, partner_b, store, device, shopper) -> dict[str, int]:
    return {
        "operator": operator,
        "partner_a": partner_a,
        "partner_b": partner_b,
        "store": store,
        "device": device,
        "shopper": shopper,
        "anonymous": 401,
    }


NEW_PRODUCT = {"sku": "NEW-1", "name_fr": "Nouveau", "price": {"amount": "1.00", "currency": "EUR"}}
NEW_WAREHOUSE = {"code": "NEW-WH", "name": "New", "kind": "warehouse"}

CASES: dict[str, Case] = {
    "list products": Case("get", lambda n: "/api/v1/products", expect(200, 200, 200, 200, 403, 200)),
    "partner A's product": Case(
        "get", lambda n: f"/api/v1/products/{n.product_a.pk}", expect(200, 200, 404, 200, 403, 200)
    ),
    "retailer product": Case(
        "get", lambda n: f"/api/v1/products/{n.retail_product.pk}", expect(200, 404, 404, 200, 403, 200)
    ),
    "create product": Case(
        "post", lambda n: "/api/v1/products", expect(201, 201, 201, 403, 403, 403), body=lambda n: NEW_PRODUCT
    ),
    "change partner A's product": Case(
        "patch",
        lambda n: f"/api/v1/products/{n.product_a.pk}",
        expect(200, 200, 404, 403, 403, 403),
        body=lambda n: {"brand": "Changed"},
        headers=lambda n: product_etag(n.product_a),
    ),
    "change retailer product": Case(
        "patch",
        lambda n: f"/api/v1/products/{n.retail_product.pk}",
        expect(200, 404, 404, 403, 403, 403),
        body=lambda n: {"brand": "Changed"},
        headers=lambda n: product_etag(n.retail_product),
    ),
    "list locations": Case("get", lambda n: "/api/v1/locations", expect(200, 200, 200, 200, 403, 200)),
    "partner A's warehouse": Case("get", lambda n: "/api/v1/locations/ACME-WH1", expect(200, 200, 404, 404, 403, 404)),
    "retailer store": Case("get", lambda n: "/api/v1/locations/PAR01", expect(200, 200, 200, 200, 403, 200)),
    "create location": Case(
        "post", lambda n: "/api/v1/locations", expect(201, 201, 201, 403, 403, 403), body=lambda n: NEW_WAREHOUSE
    ),
    "change partner A's warehouse": Case(
        "patch",
        lambda n: "/api/v1/locations/ACME-WH1",
        expect(200, 200, 404, 403, 403, 403),
        body=lambda n: {"lead_time_days": 5},
        headers=lambda n: location_etag(n.warehouse_a),
    ),
    "change retailer store": Case(
        "patch",
        lambda n: "/api/v1/locations/PAR01",
        expect(200, 404, 404, 403, 403, 403),
        body=lambda n: {"name": "Renamed"},
        headers=lambda n: location_etag(n.store),
    ),
    "stock at partner A's warehouse": Case(
        "get", lambda n: "/api/v1/locations/ACME-WH1/stock", expect(200, 200, 404, 404, 403, 404)
    ),
    "stock at the store": Case("get", lambda n: "/api/v1/locations/PAR01/stock", expect(200, 404, 404, 200, 403, 404)),
    "stock of partner A's product": Case(
        "get", lambda n: f"/api/v1/products/{n.product_a.pk}/stock", expect(200, 200, 404, 200, 403, 404)
    ),
    "one level at partner A's warehouse": Case(
        "get", lambda n: "/api/v1/locations/ACME-WH1/stock/ACME-GRANOLA", expect(200, 200, 404, 404, 403, 404)
    ),
    "set a level at partner A's warehouse": Case(
        "put",
        lambda n: "/api/v1/locations/ACME-WH1/stock/ACME-GRANOLA",
        expect(200, 200, 404, 404, 403, 403),
        body=lambda n: {"on_hand": 50, "expected_on_hand": 100},
    ),
    "set a level at the store": Case(
        "put",
        lambda n: "/api/v1/locations/PAR01/stock/MILK-1L",
        expect(200, 404, 404, 200, 403, 403),
        body=lambda n: {"on_hand": 50, "expected_on_hand": 30},
    ),
    "adjust a level at partner A's warehouse": Case(
        "post",
        lambda n: "/api/v1/locations/ACME-WH1/stock/ACME-GRANOLA/adjustments",
        expect(200, 200, 404, 404, 403, 403),
        body=lambda n: {"delta": -1, "reason": "adjustment"},
        headers=key,
    ),
    # a location the caller may not change does not exist for it: the line is unknown_location (422 reject_all)
    "sync partner A's warehouse": Case(
        "post",
        lambda n: "/api/v1/stock/sync",
        expect(200, 200, 422, 422, 403, 403),
        body=lambda n: {"lines": [{"sku": "ACME-GRANOLA", "location": "ACME-WH1", "on_hand": 1}]},
        headers=key,
    ),
    "sync the store": Case(
        "post",
        lambda n: "/api/v1/stock/sync",
        expect(200, 422, 422, 200, 403, 403),
        body=lambda n: {"lines": [{"sku": "MILK-1L", "location": "PAR01", "on_hand": 29}]},
        headers=key,
    ),
    "availability at a store": Case(
        "get",
        lambda n: "/api/v1/availability?sku=MILK-1L,ACME-GRANOLA&store=PAR01",
        expect(200, 200, 200, 200, 403, 200),
    ),
    "availability near a point": Case(
        "get", lambda n: "/api/v1/availability?sku=MILK-1L&lat=48.85&lng=2.35", expect(200, 200, 200, 200, 403, 200)
    ),
}


def snapshot() -> tuple[Any, ...]:
    return (
        list(Product.objects.order_by("pk").values_list("pk", "version", "brand")),
        list(Location.objects.order_by("pk").values_list("pk", "version", "name")),
        list(StockLevel.objects.order_by("pk").values_list("pk", "on_hand", "version")),
        StockMovement.objects.count(),
    )


def call(network, who: str, case: Case):
    api = network.api(who)
    kwargs: dict[str, Any] = {"format": "json"}
    if case.body is not None:
        kwargs["data"] = case.body(network)
    if case.headers is not None:
        kwargs.update(case.headers(network))
    return getattr(api, case.method)(case.path(network), **kwargs)


@pytest.mark.parametrize("who", CALLERS)
@pytest.mark.parametrize("name", list(CASES))
def test_policy_table(network, name: str, who: str) -> None:
    case = CASES[name]
    before = snapshot()

    response = call(network, who, case)

    expected = case.expected[who]
    assert response.status_code == expected, (name, who, response.content[:300])
    if expected >= 400:
        assert response["Content-Type"].startswith("application/problem+json")
        code = {401: "not_authenticated", 403: None, 404: "not_found"}.get(expected)
        if code:
            assert response.json()["code"] == code
        if expected == 403:
            assert response.json()["code"] in {"insufficient_scope", "permission_denied"}
        if case.method != "get":
            assert snapshot() == before, f"{name} by {who} changed the database"
    elif case.method != "get":
        assert snapshot() != before


# A token without the scope an operation needs is refused with 403 insufficient_scope,
# whoever holds it and whatever it names.
SCOPED = [
    ("get", "/api/v1/products", "catalog:read"),
    ("post", "/api/v1/products", "inventory:write"),
    ("get", "/api/v1/locations", "inventory:read"),
    ("get", "/api/v1/locations/ACME-WH1/stock", "inventory:read"),
    ("put", "/api/v1/locations/ACME-WH1/stock/ACME-GRANOLA", "inventory:write"),
    ("post", "/api/v1/stock/sync", "inventory:write"),
    ("get", "/api/v1/availability?sku=MILK-1L&store=PAR01", "inventory:read"),
]


@pytest.mark.parametrize(("method", "path", "scope"), SCOPED)
@pytest.mark.parametrize("who", ["operator", "partner_a"])
def test_missing_scope_is_403(network, who: str, method: str, path: str, scope: str) -> None:
    others = sorted({"catalog:read", "inventory:read", "inventory:write"} - {scope})
    response = getattr(network.api(who, scopes=others), method)(path, {}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    assert response.json()["required_scopes"] == [scope]


def test_no_token_gets_a_bearer_challenge(network) -> None:
    response = network.api("anonymous").get("/api/v1/products")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_refused_detail_leaks_nothing(network) -> None:
    response = network.api("partner_b").get(f"/api/v1/products/{network.product_a.pk}")

    assert response.status_code == 404
    assert b"GRANOLA" not in response.content.upper()
    assert response.json() == {**response.json(), "code": "not_found"}


def test_partners_see_only_their_own_in_lists(network) -> None:
    api = network.api("partner_b")

    products = api.get("/api/v1/products").json()["results"]
    locations = api.get("/api/v1/locations").json()["results"]
    stock = api.get(f"/api/v1/products/{network.product_b.pk}/stock").json()["results"]

    assert {p["owner"] for p in products} == {"fresh"}
    assert {loc["owner"] for loc in locations} == {None, "fresh"}
    assert {s["location"] for s in stock} == {"FRESH-WH1"}
