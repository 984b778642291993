"""Every bad input to an inventory write answers 4xx problem+json, never a
500: malformed JSON, wrong shapes and types, huge and negative numbers."""

import json
from typing import Any

import pytest

from inventory.models import Product, StockLevel
from tests.inventory.factories import problem

pytestmark = pytest.mark.django_db

WRITES = [
    ("post", "/api/v1/products", {}),
    ("patch", "/api/v1/products/{product}", {"HTTP_IF_MATCH": "*"}),
    ("post", "/api/v1/locations", {}),
    ("patch", "/api/v1/locations/ACME-WH1", {"HTTP_IF_MATCH": "*"}),
    ("put", "/api/v1/locations/ACME-WH1/stock/ACME-GRANOLA", {"HTTP_IF_MATCH": "*"}),
    ("post", "/api/v1/locations/ACME-WH1/stock/ACME-GRANOLA/adjustments", {"HTTP_IDEMPOTENCY_KEY": "bad-{n}"}),
    ("post", "/api/v1/stock/sync", {"HTTP_IDEMPOTENCY_KEY": "bad-{n}"}),
]

RAW_BODIES = [
    '{"on_hand": ',
    "not json",
    "[" * 50_000 + "]" * 50_000,
    '{"a": ' * 20_000 + "1" + "}" * 20_000,
    "null",
    "[]",
    '"text"',
    "12",
    '{"on_hand": 1e400, "delta": NaN, "lines": Infinity}',
    '{"on_hand": 99999999999999999999999999999, "delta": -99999999999999999999999, "lines": [{"sku": "ACME-GRANOLA", '
    '"location": "ACME-WH1", "on_hand": 99999999999999999999999999}]}',
    '{"on_hand": -5, "delta": -5, "price": {"amount": "-5", "currency": "EUR"}, "lines": [{"sku": "ACME-GRANOLA", '
    '"location": "ACME-WH1", "on_hand": -5}]}',
    '{"on_hand": "five", "delta": [1], "name_fr": 5, "lines": [{"sku": ["x"], "location": {"a": 1}, "delta": "1"}]}',
    '{"sku": "' + "A" * 1_000_000 + '", "name_fr": "x", "price": {"amount": "1", "currency": "EUR"}}',
    '{"\\u0000": "\\ud800", "sku": "\\u0000", "code": "\\u0000"}',
]


@pytest.mark.parametrize("body", RAW_BODIES, ids=[f"body{i}" for i in range(len(RAW_BODIES))])
@pytest.mark.parametrize(("method", "path", "headers"), WRITES, ids=[f"{m} {p}" for m, p, _h in WRITES])
def test_bad_bodies_are_4xx_problems(network, method: str, path: str, headers: dict, body: str) -> None:
    before = list(StockLevel.objects.order_by("pk").values_list("on_hand", "version"))
    extra = {name: value.format(n=hash(body) % 10**9) for name, value in headers.items()}

    response = getattr(network.api("operator"), method)(
        path.format(product=network.product_a.pk), body, content_type="application/json", **extra
    )

    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    problem(response)
    assert list(StockLevel.objects.order_by("pk").values_list("on_hand", "version")) == before


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/products/99999999999999999999999",
        "/api/v1/products/-1",
        "/api/v1/locations/%00",
        "/api/v1/locations/" + "X" * 5000,
        "/api/v1/locations/ACME-WH1/stock/" + "%F0%9F%92%A9" * 30,
        "/api/v1/products?page_size=100000000000",
        "/api/v1/products?cursor=garbage",
        "/api/v1/products?q=" + "%25" * 500,
        "/api/v1/availability?sku=MILK-1L&lat=1e400&lng=2",
        "/api/v1/availability?sku=%00&store=PAR01",
    ],
)
def test_bad_paths_and_queries_are_4xx_or_harmless(network, path: str) -> None:
    response = network.api("operator").get(path)

    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        problem(response)


def test_a_wrong_content_type_is_415(network) -> None:
    response = network.api("operator").post(
        "/api/v1/products", "sku=X", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 415
    assert problem(response)["code"] == "unsupported_media_type"


# ---------------------------------------------------------------- strict types: quantities are JSON integers,
# amounts decimal strings, text has no control character

LEVEL = "/api/v1/locations/ACME-WH1/stock/ACME-GRANOLA"
NEW_PRODUCT = {"sku": "ACME-NEW", "name_fr": "Nouveau", "price": {"amount": "4.90", "currency": "EUR"}}
NOT_AMOUNTS = [12.5, 12, "1e3", "NaN", "Infinity", " 1", "1,50"]
NOT_QUANTITIES = ["2", 2.0, True, "0x2"]


def only_error(response: Any) -> tuple[str, str]:
    assert response.status_code == 422, response.content[:300]
    errors = problem(response)["errors"]
    assert len(errors) == 1, errors
    return errors[0]["field"], errors[0]["code"]


@pytest.mark.parametrize("amount", NOT_AMOUNTS)
def test_a_product_price_is_a_decimal_string(network, amount: Any) -> None:
    api = network.api("operator")
    price = {"amount": amount, "currency": "EUR"}
    url = f"/api/v1/products/{network.product_a.pk}"

    created = api.post("/api/v1/products", {**NEW_PRODUCT, "price": price}, format="json")
    patched = api.patch(url, {"price": price}, format="json", HTTP_IF_MATCH="*")

    assert only_error(created) == ("price.amount", "invalid")
    assert only_error(patched) == ("price.amount", "invalid")
    assert not Product.objects.filter(sku="ACME-NEW").exists()
    assert Product.objects.get(pk=network.product_a.pk).price_amount == network.product_a.price_amount


@pytest.mark.parametrize("quantity", NOT_QUANTITIES)
def test_stock_quantities_are_json_integers(network, quantity: Any) -> None:
    api = network.api("operator")
    before = list(StockLevel.objects.order_by("pk").values_list("on_hand", "version"))

    adjusted = api.post(
        LEVEL + "/adjustments", {"delta": quantity, "reason": "return"}, format="json", HTTP_IDEMPOTENCY_KEY="q"
    )
    set_on_hand = api.put(LEVEL, {"on_hand": quantity, "expected_on_hand": 100}, format="json")
    set_expected = api.put(LEVEL, {"on_hand": 5, "expected_on_hand": quantity}, format="json")

    assert only_error(adjusted) == ("delta", "invalid")
    assert only_error(set_on_hand) == ("on_hand", "invalid")
    assert only_error(set_expected) == ("expected_on_hand", "invalid")
    assert list(StockLevel.objects.order_by("pk").values_list("on_hand", "version")) == before


@pytest.mark.parametrize("quantity", NOT_QUANTITIES)
@pytest.mark.parametrize("field", ["on_hand", "delta", "expected_on_hand"])
def test_bulk_sync_quantities_are_json_integers(network, field: str, quantity: Any) -> None:
    line = {"sku": "ACME-GRANOLA", "location": "ACME-WH1", "on_hand": 3} | {field: quantity}
    if field == "delta":
        del line["on_hand"]
    before = list(StockLevel.objects.order_by("pk").values_list("on_hand", "version"))

    response = network.api("operator").post(
        "/api/v1/stock/sync", {"lines": [line]}, format="json", HTTP_IDEMPOTENCY_KEY=f"sync-{field}-{quantity!r}"
    )

    assert response.status_code == 422, response.content[:300]
    assert [(e["field"], e["code"]) for e in problem(response)["errors"]] == [(f"lines.0.{field}", "invalid_quantity")]
    assert list(StockLevel.objects.order_by("pk").values_list("on_hand", "version")) == before


@pytest.mark.parametrize("reference", ["feed\x00", "feed\x1b[31m", "\ud800"])
def test_a_control_character_in_a_text_field_is_a_422(network, reference: str) -> None:
    api = network.api("operator")
    line = {"sku": "ACME-GRANOLA", "location": "ACME-WH1", "delta": 1}
    before = list(StockLevel.objects.order_by("pk").values_list("on_hand", "version"))

    synced = api.post(
        "/api/v1/stock/sync",
        json.dumps({"lines": [line], "reference": reference}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=f"ref-{reference!r}",
    )
    adjusted = api.post(
        LEVEL + "/adjustments",
        json.dumps({"delta": 1, "reason": "return", "reference": reference}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=f"adj-{reference!r}",
    )
    named = api.post(
        "/api/v1/products", json.dumps({**NEW_PRODUCT, "name_fr": reference}), content_type="application/json"
    )

    assert only_error(synced)[0] == "reference"
    assert only_error(adjusted) == ("reference", "invalid_characters")
    assert only_error(named) == ("name_fr", "invalid_characters")
    assert list(StockLevel.objects.order_by("pk").values_list("on_hand", "version")) == before


def test_text_is_text_and_descriptions_keep_their_line_breaks(network) -> None:
    api = network.api("operator")

    numbered = api.post("/api/v1/products", {**NEW_PRODUCT, "name_fr": 5}, format="json")
    described = api.post(
        "/api/v1/products", {**NEW_PRODUCT, "description_fr": "Deux lignes :\r\n\tcroquant"}, format="json"
    )

    assert only_error(numbered) == ("name_fr", "invalid")
    assert described.status_code == 201, described.content[:300]
    assert described.json()["description_fr"] == "Deux lignes :\r\n\tcroquant"
