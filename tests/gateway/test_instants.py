"""Every instant the gateway writes is UTC with ``Z``, as the response bodies
write it: problem extras, JSON that PostgreSQL builds for a problem, outbox
event payloads and webhook envelopes (gateway.api.instants)."""

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework import serializers

from commerce.services.release import slots_release_due
from gateway.api.instants import instant_text, instant_text_of_json
from partners.models import Event
from partners.services.delivery import webhook_body
from partners.services.webhooks import webhook_subscription_create, webhook_subscription_disable
from tests.commerce.factories import idempotency_key, open_slot, shopper, stocked_product, store_with_schedule
from tests.factories import PartnerFactory

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
# Something written as an RFC 3339 date-time, whatever its offset.
DATE_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}")
INSTANTS = [
    dt.datetime(2026, 3, 29, 0, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 29, 1, 59, 59, 999999, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 29, 3, 0, 0, 250000, tzinfo=PARIS),  # just after the spring change, in Paris
    dt.datetime(2026, 10, 25, 2, 30, 0, 1, tzinfo=PARIS, fold=1),  # the second 02:30 of the autumn change
    dt.datetime(2026, 12, 31, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=-9, minutes=-30))),
]


@pytest.mark.parametrize("value", INSTANTS)
def test_instant_text_is_what_a_response_body_writes(value: dt.datetime) -> None:
    written = instant_text(value)
    assert written == serializers.DateTimeField().to_representation(value)
    assert written.endswith("Z")
    assert dt.datetime.fromisoformat(written) == value.astimezone(dt.UTC)  # fold=1 compares unequal across zones


def test_instant_text_examples() -> None:
    assert instant_text(INSTANTS[0]) == "2026-03-29T00:00:00Z"
    assert instant_text(INSTANTS[2]) == "2026-03-29T01:00:00.250000Z"
    assert instant_text(INSTANTS[3]) == "2026-10-25T01:30:00.000001Z"
    with pytest.raises(ValueError, match="naive"):
        instant_text(dt.datetime(2026, 3, 29))


@pytest.mark.django_db
@pytest.mark.parametrize("session_zone", ["UTC", "Europe/Paris", "America/St_Johns"])
def test_instant_text_of_json_rewrites_what_postgresql_writes(session_zone: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('TimeZone', %s, true)", [session_zone])
        for value in INSTANTS:
            cursor.execute("SELECT to_json(%s::timestamptz) #>> '{}'", [value])
            assert instant_text_of_json(cursor.fetchone()[0]) == instant_text(value), (session_zone, value)


# ---------------------------------------------------------------- the sweep


def _date_times(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string of ``value`` (nested dicts and lists) written as a date-time, with where it is."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _date_times(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _date_times(item, f"{path}.{index}")
    elif isinstance(value, str) and DATE_TIME.match(value):
        yield path, value


def _place(api: Any, body: dict[str, Any]) -> Any:
    return api.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY=idempotency_key())


@pytest.mark.django_db
def test_problem_extras_write_instants_with_z() -> None:
    store = store_with_schedule()
    apples = stocked_product(store, on_hand=20)
    alice, bob = shopper()[0], shopper()[0]

    def basket(slot: Any) -> dict[str, Any]:
        return {"slot_id": slot.pk, "lines": [{"product_id": apples.pk, "quantity": 1}]}

    # slot_not_released: release_at (and the detail naming it)
    opens = (timezone.now() + dt.timedelta(minutes=10)).replace(microsecond=123456)
    not_released = _place(alice, basket(open_slot(store, starts_in=dt.timedelta(days=2), release_at=opens)))
    assert not_released.json()["code"] == "slot_not_released"
    assert not_released.json()["release_at"] == instant_text(opens)
    assert not_released.json()["release_at"].endswith("Z")
    assert instant_text(opens) in not_released.json()["detail"]
    # cancellation_cutoff_passed: cutoff_at
    soon = open_slot(store, starts_in=dt.timedelta(hours=1))
    order = _place(alice, basket(soon)).json()
    refused = alice.post(f"/api/v1/orders/{order['id']}/cancel", {}, format="json")
    assert refused.json()["code"] == "cancellation_cutoff_passed"
    assert refused.json()["cutoff_at"] == instant_text(soon.starts_at - dt.timedelta(minutes=120))
    # slot_full: the alternatives, built by PostgreSQL, read exactly as the slot itself shows them
    full = open_slot(store, capacity=1, starts_in=dt.timedelta(days=1))
    open_slot(store, starts_in=dt.timedelta(days=1, minutes=30))
    assert _place(alice, basket(full)).status_code == 201
    slot_full = _place(bob, basket(full)).json()
    assert slot_full["code"] == "slot_full"
    assert slot_full["alternatives"]
    for alternative in slot_full["alternatives"]:
        shown = bob.get(f"/api/v1/pickup-slots/{alternative['id']}").json()
        assert (alternative["starts_at"], alternative["ends_at"]) == (shown["starts_at"], shown["ends_at"])
    # and no instant of any of them is written otherwise
    for body in (not_released.json(), refused.json(), slot_full):
        written = list(_date_times(body))
        assert written
        assert all(text.endswith("Z") for _path, text in written), written


@pytest.mark.django_db
def test_event_payloads_and_webhook_envelopes_write_instants_with_z() -> None:
    # order.created (slot_starts_at), slots.released (release_at), webhook.disabled (disabled_at)
    store = store_with_schedule()
    apples = stocked_product(store, on_hand=20)
    slot = open_slot(store)
    placed = _place(shopper()[0], {"slot_id": slot.pk, "lines": [{"product_id": apples.pk, "quantity": 1}]})
    assert placed.status_code == 201, placed.json()
    slots_release_due(store_ids=[store.pk])
    subscription, _secret = webhook_subscription_create(
        partner=PartnerFactory.create(), url="http://127.0.0.1:9/hooks", event_types=["*"]
    )
    disabled_at = dt.datetime(2026, 12, 4, 10, 0, 0, 250000, tzinfo=PARIS)
    assert webhook_subscription_disable(subscription_id=subscription.pk, reason="gone", now=disabled_at)
    events = {event.type: event for event in Event.objects.order_by("pk")}
    assert events["order.created"].payload["slot_starts_at"] == instant_text(slot.starts_at)
    assert events["slots.released"].payload["release_at"].endswith("Z")
    assert events["webhook.disabled"].payload["disabled_at"] == "2026-12-04T09:00:00.250000Z"
    for event in Event.objects.all():
        written = list(_date_times(event.payload))
        assert all(text.endswith("Z") for _path, text in written), (event.type, written)
        envelope = webhook_body(event).decode()
        assert f'"timestamp":"{instant_text(event.created_at)}"' in envelope
