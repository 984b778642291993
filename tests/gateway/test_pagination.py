"""Every cursor-paginated list, swept over HTTP: crafted cursors and
out-of-range page sizes are a 400 ``invalid_query_parameter`` naming the
parameter (never a 500, never silently clamped), the cursors the lists give
still page through, and every list of mutable rows takes ``updated_since``
(an unencoded '+' in its offset included)."""

import datetime as dt
import re
from base64 import b64encode
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from django.db.models import Model
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.generics import GenericAPIView
from rest_framework.test import APIClient

from commerce.models import Order, PickupSlot, ProductRelation, RelationKind
from footfall.models import Anomaly, AnomalyStatus, Sensor, SensorKind, StoreCalendarDay
from gateway.api.pagination import GatewayCursorPagination
from inventory.services import stock_set
from loyalty.models import Campaign, Member, Program
from loyalty.services.points import points_earn
from partners.models import ApiClient, CallerKind, WebhookSubscription
from partners.services import event_record, events_fan_out
from partners.services.webhooks import webhook_subscription_create
from tests.commerce.factories import idempotency_key, open_slot, shopper, stocked_product, store_with_schedule
from tests.factories import LocationFactory, PartnerFactory, UserFactory, api_as, make_client
from tests.loyalty.factories import MemberFactory, ProgramFactory, campaign

pytestmark = pytest.mark.django_db


@dataclass
class Listed:
    """A list with at least two rows, and the client that reads it."""

    api: APIClient
    path: str


def _operator() -> APIClient:
    return api_as(make_client(CallerKind.OPERATOR))


def _products() -> Listed:
    store = store_with_schedule()
    stocked_product(store)
    stocked_product(store)
    return Listed(_operator(), "/api/v1/products")


def _product_stock() -> Listed:
    product = stocked_product(store_with_schedule())
    stock_set(location=LocationFactory.create(click_and_collect=False), product=product, on_hand=5)
    return Listed(_operator(), f"/api/v1/products/{product.pk}/stock")


def _locations() -> Listed:
    LocationFactory.create_batch(2)
    return Listed(_operator(), "/api/v1/locations")


def _location_stock() -> Listed:
    store = store_with_schedule()
    stocked_product(store)
    stocked_product(store)
    return Listed(_operator(), f"/api/v1/locations/{store.code}/stock")


def _partner_clients() -> Listed:
    partner = PartnerFactory.create()
    make_client(CallerKind.PARTNER, partner=partner)
    return Listed(api_as(make_client(CallerKind.PARTNER, partner=partner)), "/api/v1/partners/me/clients")


def _subscribed_partner(subscriptions: int) -> tuple[APIClient, int, list[WebhookSubscription]]:
    client = make_client(CallerKind.PARTNER)
    created = [
        webhook_subscription_create(partner=client.partner, url="http://127.0.0.1:9/hooks", event_types=["*"])[0]
        for _ in range(subscriptions)
    ]
    assert client.partner_id is not None
    return api_as(client), client.partner_id, created


def _webhooks() -> Listed:
    api, _partner_id, _created = _subscribed_partner(2)
    return Listed(api, "/api/v1/webhooks")


def _webhook_deliveries() -> Listed:
    api, partner_id, (subscription,) = _subscribed_partner(1)
    events = [event_record(type="stock.changed", payload={"n": n}, partner_id=partner_id) for n in range(2)]
    events_fan_out(event_ids=[event.pk for event in events])
    return Listed(api, f"/api/v1/webhooks/{subscription.pk}/deliveries")


def _events() -> Listed:
    api, partner_id, _created = _subscribed_partner(0)
    for n in range(2):
        event_record(type="stock.changed", payload={"n": n}, partner_id=partner_id)
    return Listed(api, "/api/v1/events")


def _pickup_slots() -> Listed:
    store = store_with_schedule()
    open_slot(store, starts_in=dt.timedelta(days=1))
    open_slot(store, starts_in=dt.timedelta(days=2))
    return Listed(_operator(), f"/api/v1/pickup-slots?store={store.pk}")


def _two_orders() -> PickupSlot:
    store = store_with_schedule()
    slot = open_slot(store)
    for product in (stocked_product(store), stocked_product(store)):
        response = shopper()[0].post(
            "/api/v1/orders",
            {"slot_id": slot.pk, "lines": [{"product_id": product.pk, "quantity": 1}]},
            format="json",
            HTTP_IDEMPOTENCY_KEY=idempotency_key(),
        )
        assert response.status_code == 201, response.content
    return slot


def _slot_orders() -> Listed:
    return Listed(_operator(), f"/api/v1/pickup-slots/{_two_orders().pk}/orders")


def _orders() -> Listed:
    _two_orders()
    return Listed(_operator(), "/api/v1/orders")


def _two_sensors() -> list[Sensor]:
    store = LocationFactory.create()
    return [
        Sensor.objects.create(store=store, code=f"{store.code}-E{n}", name="Door", kind=SensorKind.ENTRANCE)
        for n in range(2)
    ]


def _footfall_sensors() -> Listed:
    _two_sensors()
    return Listed(_operator(), "/api/v1/footfall/sensors")


def _footfall_anomalies() -> Listed:
    start = dt.datetime(2026, 5, 4, 8, tzinfo=dt.UTC)
    for n, sensor in enumerate(_two_sensors()):
        Anomaly.objects.create(
            sensor=sensor,
            kind="spike",
            status=AnomalyStatus.RESOLVED,
            period_start=start + dt.timedelta(hours=n),
            period_end=start + dt.timedelta(hours=n + 1),
            metric="traffic",
            actual=500,
            expected=100,
            expected_low=60,
            expected_high=140,
            method="test",
        )
    return Listed(_operator(), "/api/v1/footfall/anomalies")


def _footfall_calendar() -> Listed:
    store = LocationFactory.create()
    for day in (dt.date(2026, 5, 1), dt.date(2026, 5, 8)):
        StoreCalendarDay.objects.create(store=store, day=day, kind="holiday")
    return Listed(_operator(), "/api/v1/footfall/calendar")


def _product_relations() -> Listed:
    store = store_with_schedule()
    first, second, third = (stocked_product(store) for _ in range(3))
    for target in (second, third):
        ProductRelation.objects.create(from_product=first, to_product=target, kind=RelationKind.CROSS_SELL)
    return Listed(_operator(), "/api/v1/product-relations")


def _loyalty_programs() -> Listed:
    ProgramFactory.create_batch(2)
    return Listed(_operator(), "/api/v1/loyalty/programs")


def _loyalty_campaigns() -> Listed:
    program = ProgramFactory.create()
    campaign(program)
    campaign(program)
    return Listed(_operator(), "/api/v1/loyalty/campaigns")


def _loyalty_members() -> Listed:
    MemberFactory.create_batch(2, program=ProgramFactory.create())
    return Listed(_operator(), "/api/v1/loyalty/members")


def _loyalty_movements() -> Listed:
    user = UserFactory.create()
    member = MemberFactory.create(user=user)
    for n in range(2):
        points_earn(
            program=member.program, member_id=member.pk, points=10, source=f"order:{n}", earned_at=timezone.now()
        )
    return Listed(api_as(make_client(CallerKind.SHOPPER), user=user), "/api/v1/loyalty/me/movements")


# Every cursor-paginated list, built with only the rows it shows.
LISTS: dict[str, Callable[[], Listed]] = {
    "products": _products,
    "product stock": _product_stock,
    "locations": _locations,
    "location stock": _location_stock,
    "partner clients": _partner_clients,
    "webhooks": _webhooks,
    "webhook deliveries": _webhook_deliveries,
    "pickup slots": _pickup_slots,
    "slot orders": _slot_orders,
    "orders": _orders,
    "footfall sensors": _footfall_sensors,
    "footfall anomalies": _footfall_anomalies,
    "footfall calendar": _footfall_calendar,
    "product relations": _product_relations,
    "loyalty programs": _loyalty_programs,
    "loyalty campaigns": _loyalty_campaigns,
    "loyalty members": _loyalty_members,
    "loyalty movements": _loyalty_movements,
}
# Lists of rows written once and never changed (a points ledger): read
# onwards by cursor, they take no updated_since.
APPEND_ONLY = {"loyalty movements"}
# The events feed pages its own way (``after``), with the same page_size rule.
PAGE_SIZED = {**LISTS, "events": _events}


def get(listed: Listed, query: str = "") -> Any:
    separator = "&" if "?" in listed.path else "?"
    return listed.api.get(f"{listed.path}{separator}{query}" if query else listed.path)


def key(row: dict[str, Any]) -> Any:
    """What identifies a row of a list."""
    for name in ("id", "client_id", "code", "card_number"):
        if name in row:
            return row[name]
    return (row["location"], row["sku"])  # a stock level


def assert_bad_parameter(response: Any, field: str) -> None:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "invalid_query_parameter"
    assert [error["field"] for error in body["errors"]] == [field]


def test_the_sweep_covers_every_cursor_paginated_list() -> None:
    """A new list view joins LISTS, or this fails."""
    found: set[str] = set()

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
                continue
            view = getattr(pattern.callback, "view_class", None)
            if view is not None and issubclass(view, GenericAPIView) and hasattr(view, "get"):
                paginator = view.pagination_class
                if paginator is not None and issubclass(paginator, GatewayCursorPagination):
                    found.add(re.sub(r"<[^>]+>", "{}", prefix + str(pattern.pattern)))

    walk(get_resolver().url_patterns, "/")
    swept = {
        "/api/v1/products",
        "/api/v1/products/{}/stock",
        "/api/v1/locations",
        "/api/v1/locations/{}/stock",
        "/api/v1/partners/me/clients",
        "/api/v1/webhooks",
        "/api/v1/webhooks/{}/deliveries",
        "/api/v1/pickup-slots",
        "/api/v1/pickup-slots/{}/orders",
        "/api/v1/orders",
        "/api/v1/footfall/sensors",
        "/api/v1/footfall/anomalies",
        "/api/v1/footfall/calendar",
        "/api/v1/product-relations",
        "/api/v1/loyalty/programs",
        "/api/v1/loyalty/campaigns",
        "/api/v1/loyalty/members",
        "/api/v1/loyalty/me/movements",
    }
    assert found == swept
    assert len(swept) == len(LISTS)


# ---------------------------------------------------------------- cursors


def cursor(decoded: str) -> str:
    return quote(b64encode(decoded.encode()).decode(), safe="")


CRAFTED_CURSORS = {
    "p=abc": "p=abc",
    "p=": "p=",
    "r=1&p=x": "r=1&p=x",
    "huge number": "p=" + "9" * 30,
    "NUL": "p=%00",
    "NUL in a number": "p=1%002",
    "offset and text": "o=1&p=abc",
    "date without time": "p=2026-01-01",
    "instant without offset": "p=2026-01-01 10:00:00",
}


@pytest.mark.parametrize("decoded", list(CRAFTED_CURSORS.values()), ids=list(CRAFTED_CURSORS))
@pytest.mark.parametrize("name", list(LISTS))
def test_a_crafted_cursor_is_400_on_cursor(name: str, decoded: str) -> None:
    listed = LISTS[name]()
    assert_bad_parameter(get(listed, f"cursor={cursor(decoded)}"), "cursor")


@pytest.mark.parametrize("name", list(LISTS))
def test_a_cursor_that_does_not_decode_is_400_on_cursor(name: str) -> None:
    listed = LISTS[name]()
    for raw in ("garbage", "%00", cursor("p=1") + "%00", "A" * 1001, cursor("o=-1"), cursor("r=x")):
        assert_bad_parameter(get(listed, f"cursor={raw}"), "cursor")


@pytest.mark.parametrize("name", list(LISTS))
def test_the_cursors_a_list_gives_still_page_through_it(name: str) -> None:
    listed = LISTS[name]()
    first = get(listed, "page_size=1")
    assert first.status_code == 200, first.content[:300]
    whole = get(listed, "page_size=500").json()["results"]
    assert len(whole) >= 2
    second = listed.api.get(first.json()["next"])
    assert second.status_code == 200, second.content[:300]
    assert [key(row) for row in first.json()["results"] + second.json()["results"]] == [key(row) for row in whole[:2]]
    back = listed.api.get(second.json()["previous"])
    assert back.status_code == 200, back.content[:300]
    assert back.json()["results"] == first.json()["results"]


# ---------------------------------------------------------------- page_size


@pytest.mark.parametrize("size", ["0", "501", "-1", "abc", "1.5", "%00", "100000000000"])
@pytest.mark.parametrize("name", list(PAGE_SIZED))
def test_page_size_out_of_range_is_400_on_every_list(name: str, size: str) -> None:
    listed = PAGE_SIZED[name]()
    assert_bad_parameter(get(listed, f"page_size={size}"), "page_size")


@pytest.mark.parametrize("name", list(PAGE_SIZED))
def test_page_size_from_one_to_five_hundred_is_taken(name: str) -> None:
    listed = PAGE_SIZED[name]()
    one = get(listed, "page_size=1")
    assert one.status_code == 200, one.content[:300]
    assert len(one.json()["results"]) == 1
    assert get(listed, "page_size=500").status_code == 200


def test_the_schema_says_page_size_is_one_to_five_hundred_default_fifty() -> None:
    schema = SchemaGenerator(api_version="v1").get_schema(request=None, public=True)
    described = {}
    for path, operations in schema["paths"].items():
        for parameter in operations.get("get", {}).get("parameters", []):
            if parameter["name"] == "page_size":
                described[path] = parameter["schema"]
    assert len(described) == len(LISTS) + 1  # the events feed pages its own way
    for path, page_size in described.items():
        assert {key: page_size.get(key) for key in ("type", "minimum", "maximum", "default")} == {
            "type": "integer",
            "minimum": 1,
            "maximum": 500,
            "default": 50,
        }, path


# ---------------------------------------------------------------- updated_since


def _rfc3339(instant: dt.datetime, offset_hours: int) -> str:
    """``instant`` at ``offset_hours``, with its '+' left unencoded as some clients send it."""
    return instant.astimezone(dt.timezone(dt.timedelta(hours=offset_hours))).isoformat(timespec="seconds")


@pytest.mark.parametrize("name", sorted(set(LISTS) - APPEND_ONLY))
def test_every_list_of_mutable_rows_takes_updated_since(name: str) -> None:
    listed = LISTS[name]()
    every = [key(row) for row in get(listed, "page_size=500").json()["results"]]
    past = _rfc3339(timezone.now() - dt.timedelta(days=1), 1)
    future = _rfc3339(timezone.now() + dt.timedelta(hours=1), 2)
    assert "+" in past
    assert "+" in future

    since_past = get(listed, f"page_size=500&updated_since={past}")
    since_future = get(listed, f"updated_since={future}")

    assert since_past.status_code == 200, since_past.content[:300]
    assert [key(row) for row in since_past.json()["results"]] == every
    assert since_future.status_code == 200, since_future.content[:300]
    assert since_future.json()["results"] == []
    for bad in ("yesterday", "2026-01-01T00:00:00", "2026-01-01T00:00:00%00Z"):
        assert_bad_parameter(get(listed, f"updated_since={bad}"), "updated_since")


# The lists that had no updated_since, and how their rows are found again.
ADDED_UPDATED_SINCE: dict[str, tuple[type[Model], str]] = {
    "pickup slots": (PickupSlot, "pk"),
    "slot orders": (Order, "public_id"),
    "partner clients": (ApiClient, "client_id"),
    "loyalty programs": (Program, "code"),
    "loyalty campaigns": (Campaign, "pk"),
    "loyalty members": (Member, "card_number"),
}


@pytest.mark.parametrize("name", list(ADDED_UPDATED_SINCE))
def test_updated_since_keeps_only_the_rows_changed_since(name: str) -> None:
    listed = LISTS[name]()
    model, lookup = ADDED_UPDATED_SINCE[name]
    rows = [key(row) for row in get(listed, "page_size=500").json()["results"]]
    cutoff = timezone.now() - dt.timedelta(minutes=5)
    model._default_manager.filter(**{lookup: rows[0]}).update(updated_at=cutoff - dt.timedelta(days=1))

    response = get(listed, f"page_size=500&updated_since={_rfc3339(cutoff, 1)}")

    assert response.status_code == 200, response.content[:300]
    assert [key(row) for row in response.json()["results"]] == rows[1:]
