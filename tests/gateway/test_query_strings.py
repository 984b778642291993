"""Every query parameter of every endpoint, taken from the OpenAPI schema the
code generates: a NUL or another control character in it answers 400
``invalid_query_parameter`` naming that parameter (PostgreSQL refuses NUL in
text, so one reaching a query was a 500), and an instant with its '+' left
unencoded is read as the '+' it was."""

import datetime as dt
import json
from typing import Any
from urllib.parse import quote

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from footfall.models import Sensor, SensorKind
from inventory.models import Location
from partners.models import CallerKind
from partners.services.webhooks import webhook_subscription_create
from tests.commerce.factories import open_slot, stocked_product, store_with_schedule
from tests.factories import api_as, make_client

pytestmark = pytest.mark.django_db

# What a request needs besides the parameter under test to reach the parsing
# of that parameter: the required ones, and the mode that reads it.
BASE_QUERIES: dict[tuple[str, str], str] = {
    ("get", "/api/v1/availability"): "sku=SKU&store={store}",
    ("get", "/api/v1/footfall/aggregates"): "store={store}&from=2026-03-01&to=2026-03-02",
    ("get", "/api/v1/footfall/kpis"): "from=2026-03-01&to=2026-03-02",
    ("get", "/api/v1/pickup-slots"): "store={store_id}",
    ("get", "/api/v1/recommendations"): "sku=SKU&store={store}",
    ("get", "/api/v1/recommendations/analytics"): "from=2026-03-01&to=2026-03-02",
    ("get", "/api/v1/loyalty/slow-movers"): "store={store}",
}
PARAMETER_QUERIES: dict[tuple[str, str, str], str] = {
    ("get", "/api/v1/availability", "lat"): "sku=SKU&lng=2",
    ("get", "/api/v1/availability", "lng"): "sku=SKU&lat=48",
    ("get", "/api/v1/availability", "radius_km"): "sku=SKU&lat=48&lng=2",
}


def _query_parameters() -> list[tuple[str, str, str]]:
    schema = SchemaGenerator(api_version="v1").get_schema(request=None, public=True)
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method != "get":  # the POSTs taking query parameters are below, with their bodies
                continue
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    found.append((method, path, parameter["name"]))
    return sorted(found)


QUERY_PARAMETERS = _query_parameters()


def test_the_schema_lists_the_query_parameters_swept() -> None:
    names = {(path, name) for _method, path, name in QUERY_PARAMETERS}
    assert {("/api/v1/footfall/kpis", "store"), ("/api/v1/orders", "updated_since")} <= names
    assert len(QUERY_PARAMETERS) > 50


@pytest.fixture
def world() -> dict[str, Any]:
    store = store_with_schedule()
    Sensor.objects.create(store=store, code=f"{store.code}-E1", name="Door", kind=SensorKind.ENTRANCE)
    product = stocked_product(store)
    slot = open_slot(store)
    subscription, _secret = webhook_subscription_create(partner=None, url="http://127.0.0.1:9/hooks", event_types=["*"])
    return {
        "api": api_as(make_client(CallerKind.OPERATOR)),
        "store": store,
        "path": {
            "code": store.code,
            "product_id": product.pk,
            "slot_id": slot.pk,
            "webhook_id": subscription.pk,
        },
    }


def _url(world: dict[str, Any], method: str, path: str, name: str, value: str) -> str:
    store: Location = world["store"]
    base = PARAMETER_QUERIES.get((method, path, name), BASE_QUERIES.get((method, path), ""))
    query = "&".join(
        part
        for part in base.format(store=store.code, store_id=store.pk).split("&")
        if part and part.split("=")[0] != name
    )
    return path.format(**world["path"]) + "?" + "&".join(filter(None, [query, f"{name}={value}"]))


@pytest.mark.parametrize("value", ["AB%00C", "A%1FB"], ids=["NUL", "unit separator"])
@pytest.mark.parametrize(
    ("method", "path", "name"), QUERY_PARAMETERS, ids=[f"{p} {n}" for _m, p, n in QUERY_PARAMETERS]
)
def test_a_control_character_in_any_query_parameter_is_400_naming_it(
    world: dict[str, Any], method: str, path: str, name: str, value: str
) -> None:
    api: APIClient = world["api"]
    url = _url(world, method, path, name, value)

    response = api.get(url)

    assert response.status_code == 400, (url, response.status_code, response.content[:300])
    body = response.json()
    assert body["code"] == "invalid_query_parameter", body
    assert [error["field"] for error in body["errors"]] == [name], (url, body)


@pytest.mark.parametrize(
    ("path", "name", "body"),
    [
        ("/api/v1/footfall/counts/csv", "sensor", "start,end,in,out\n"),
        ("/api/v1/footfall/counts/axis", "sensor", {"data": []}),
        ("/api/v1/footfall/counts", "counting", {"intervals": []}),
    ],
)
def test_a_nul_in_a_query_parameter_of_an_ingest_is_400_naming_it(
    world: dict[str, Any], path: str, name: str, body: Any
) -> None:
    content_type = "text/csv" if isinstance(body, str) else "application/json"
    payload = body if isinstance(body, str) else json.dumps(body)

    response = world["api"].post(f"{path}?{name}=PAR01%00", payload, content_type=content_type)

    assert response.status_code == 400, response.content[:300]
    assert [error["field"] for error in response.json()["errors"]] == [name]


@pytest.mark.parametrize(
    ("path", "listed"),
    [("/api/v1/orders", "orders"), ("/api/v1/footfall/sensors", "sensors"), ("/api/v1/availability", "at")],
)
def test_an_instant_with_an_unencoded_plus_is_read_as_its_offset(world: dict[str, Any], path: str, listed: str) -> None:
    api: APIClient = world["api"]
    an_hour_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).astimezone(dt.timezone(dt.timedelta(hours=1)))
    raw = an_hour_ago.isoformat(timespec="seconds")
    assert "+01:00" in raw
    name = "at" if listed == "at" else "updated_since"
    base = f"sku=SKU&store={quote(world['store'].code)}&" if listed == "at" else ""

    unencoded = api.get(f"{path}?{base}{name}={raw}")
    encoded = api.get(f"{path}?{base}{name}={quote(raw)}")

    assert unencoded.status_code == 200, unencoded.content[:300]
    assert unencoded.json() == encoded.json()
