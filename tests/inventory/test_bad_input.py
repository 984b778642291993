"""Every bad input to an inventory write answers 4xx problem+json, never a
500: malformed JSON, wrong shapes and types, huge and negative numbers."""

import pytest

from inventory.models import StockLevel
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
