"""The hot reads' cache (gateway/api/readcache.py) against click-and-collect's
writers: after an order, a hold, a hold given back or expired by the sweep,
a cancellation or a capacity change, the next read of availability and of the
store's slots for the day shows it; an unchanged day answers 304 before any
SQL.

Writes commit for real (transactional database): the version bumps run on
commit, as in production."""

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commerce.models import PickupSlot, SlotHold
from commerce.tasks import expire_slot_holds
from gateway.api import ratelimit, readcache
from tests.commerce.factories import idempotency_key, open_slot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("read_cache_on")]


def slots(api: Any, slot: PickupSlot, **headers: str) -> Any:
    day = slot.local_date.isoformat()
    return api.get("/api/v1/pickup-slots", {"store": slot.store.code, "from": day, "to": day}, **headers)


def remaining(response: Any, slot: PickupSlot) -> int:
    assert response.status_code == 200, response.content
    return next(row["remaining"] for row in response.json()["results"] if row["id"] == slot.pk)


def available(api: Any, store: Any, product: Any) -> int:
    response = api.get("/api/v1/availability", {"sku": product.sku, "store": store.code})
    assert response.status_code == 200, response.content
    return int(response.json()["results"][0]["locations"][0]["available"])


def place(api: Any, slot: PickupSlot, product: Any, quantity: int = 1, **body: Any) -> Any:
    payload = {"slot_id": slot.pk, "lines": [{"product_id": product.pk, "quantity": quantity}], **body}
    if "hold_id" in body:
        payload.pop("slot_id")
    return api.post("/api/v1/orders", payload, format="json", HTTP_IDEMPOTENCY_KEY=idempotency_key())


@pytest.mark.usefixtures("token_cache")
def test_an_unchanged_day_is_answered_304_before_any_sql(alice, slot, settings) -> None:
    api = alice[0]
    first = slots(api, slot)
    assert remaining(first, slot) == 5
    assert first["Cache-Control"] == "private, no-cache"
    slots(api, slot, HTTP_IF_NONE_MATCH=first["ETag"])  # the token is now in the process's cache
    with CaptureQueriesContext(connection) as queries:
        again = slots(api, slot, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert len(queries) == 0, [q["sql"] for q in queries.captured_queries]


def test_an_order_shows_in_slots_and_availability_at_once(alice, bob, slot, apples, store) -> None:
    reader = bob[0]
    warm = slots(reader, slot)
    assert remaining(warm, slot) == 5
    assert available(reader, store, apples) == 20

    assert place(alice[0], slot, apples, quantity=3).status_code == 201

    after = slots(reader, slot, HTTP_IF_NONE_MATCH=warm["ETag"])
    assert after.status_code == 200
    assert remaining(after, slot) == 4
    assert available(reader, store, apples) == 17


def test_a_hold_and_its_release_show_at_once(alice, bob, slot) -> None:
    reader = bob[0]
    assert remaining(slots(reader, slot), slot) == 5
    hold = alice[0].post("/api/v1/pickup-holds", {"slot_id": slot.pk}, format="json")
    assert hold.status_code == 201
    assert remaining(slots(reader, slot), slot) == 4
    assert alice[0].delete(f"/api/v1/pickup-holds/{hold.json()['id']}").status_code == 204
    assert remaining(slots(reader, slot), slot) == 5


def test_a_hold_expired_by_the_sweep_shows_at_once(alice, bob, slot) -> None:
    reader = bob[0]
    hold = alice[0].post("/api/v1/pickup-holds", {"slot_id": slot.pk}, format="json")
    assert hold.status_code == 201
    assert remaining(slots(reader, slot), slot) == 4
    SlotHold.objects.filter(public_id=hold.json()["id"]).update(expires_at=timezone.now())
    # Until a write says so the cached day keeps the unit held (never one too many).
    assert remaining(slots(reader, slot), slot) == 4
    assert expire_slot_holds() == 1  # the beat's task
    assert remaining(slots(reader, slot), slot) == 5


def test_an_order_from_a_hold_shows_at_once(alice, bob, slot, apples, store) -> None:
    reader = bob[0]
    hold = alice[0].post("/api/v1/pickup-holds", {"slot_id": slot.pk}, format="json")
    assert remaining(slots(reader, slot), slot) == 4
    assert available(reader, store, apples) == 20
    assert place(alice[0], slot, apples, quantity=2, hold_id=hold.json()["id"]).status_code == 201
    assert remaining(slots(reader, slot), slot) == 4  # the held unit became the booking
    assert available(reader, store, apples) == 18


def test_a_cancellation_gives_stock_and_the_slot_back_at_once(alice, bob, slot, apples, store) -> None:
    reader = bob[0]
    order = place(alice[0], slot, apples, quantity=4)
    assert order.status_code == 201
    assert remaining(slots(reader, slot), slot) == 4
    assert available(reader, store, apples) == 16
    cancelled = alice[0].post(f"/api/v1/orders/{order.json()['id']}/cancel", {"reason": "oops"}, format="json")
    assert cancelled.status_code == 200, cancelled.content
    assert remaining(slots(reader, slot), slot) == 5
    assert available(reader, store, apples) == 20


def test_a_capacity_change_shows_at_once(alice, operator_api, slot) -> None:
    reader = alice[0]
    assert remaining(slots(reader, slot), slot) == 5
    etag = operator_api.get(f"/api/v1/pickup-slots/{slot.pk}")["ETag"]
    changed = operator_api.patch(f"/api/v1/pickup-slots/{slot.pk}", {"capacity": 2}, format="json", HTTP_IF_MATCH=etag)
    assert changed.status_code == 200, changed.content
    assert remaining(slots(reader, slot), slot) == 2


def test_another_days_booking_leaves_the_day_cached(alice, bob, slot, apples, store) -> None:
    """Versions are per store-local day: a booking three days out does not retire this day's answers.
    (The order's outbox event bumps the UTC day of its slot and the days either side, commerce/apps.py:
    with two days between the slots, between 23:00 and 24:00 UTC that reached this day in Paris.)"""
    later = open_slot(store, capacity=5, starts_in=dt.timedelta(days=4))
    warm = slots(bob[0], slot)
    assert place(alice[0], later, apples).status_code == 201
    assert slots(bob[0], slot, HTTP_IF_NONE_MATCH=warm["ETag"]).status_code == 304
    assert remaining(slots(bob[0], later), later) == 4


def test_the_minute_is_part_of_a_slot_answer(alice, slot, monkeypatch) -> None:
    """Slots start, holds expire and days open as the clock moves: an answer lives one minute at most."""
    warm = slots(alice[0], slot)
    assert slots(alice[0], slot, HTTP_IF_NONE_MATCH=warm["ETag"]).status_code == 304
    monkeypatch.setattr(readcache, "minute", lambda: 29_000_001)
    assert slots(alice[0], slot, HTTP_IF_NONE_MATCH=warm["ETag"]).status_code == 200


def test_with_redis_unreachable_the_kept_store_is_not_trusted(alice, slot, store, monkeypatch) -> None:
    """A process keeps a store's id and zone for its slot answers while the
    locations' version holds; when Redis cannot say whether it holds, the
    store is read again, so a store that stopped taking orders meanwhile is
    not listed from what the process kept."""
    assert remaining(slots(alice[0], slot), slot) == 5  # the store is now kept
    monkeypatch.setattr(settings, "REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(ratelimit, "_client", None)
    store.click_and_collect = False  # a change whose bump cannot reach Redis
    store.save(update_fields=["click_and_collect"])
    try:
        assert slots(alice[0], slot).status_code == 404
    finally:
        ratelimit._client = None
