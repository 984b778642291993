"""The event types partners can subscribe to and read in the feed, with what
their ``data`` looks like. An app that records a new type adds it here: a
subscription naming a type that is not listed is refused (422), and the
OpenAPI document shows every type with its example.

Every event is delivered as ``{"type", "timestamp", "data"}`` (Standard
Webhooks); ``data`` is the payload given to ``events_record``."""

from dataclasses import dataclass
from typing import Any

# A subscription to "*" receives every type, including types added later.
ALL_TYPES = "*"


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    example: dict[str, Any]


_ORDER = {
    "order_id": "5f0c6a2e-8d1b-4c43-9a57-2f1f8e0a9b31",
    "store": "PAR01",
    "store_id": 3,
    "slot_id": 812,
    "slot_starts_at": "2026-11-24T16:30:00Z",
    "status": "placed",
    "lines": [{"product_id": 55, "sku": "ACME-001", "quantity": 2, "unit_price": "3.49"}],
}

_REDEMPTION = {
    "redemption_id": 7310,
    "campaign_id": 12,
    "campaign": "10 EUR dès 100 EUR",
    "code": "NOEL10",
    "member_id": 4411,
    "store_id": 3,
    "source": "order",
    "reference": "5f0c6a2e-8d1b-4c43-9a57-2f1f8e0a9b31",
    "state": "reserved",
    "discount": {"amount": "10.00", "currency": "EUR"},
    "rolled_back": {"amount": "0.00", "currency": "EUR"},
    "occurred_at": "2026-11-24T16:30:00Z",
    "reason": "",
}

_POINTS = {
    "member_id": 4411,
    "program": "club",
    "points": 106,
    "reference": "order:5f0c6a2e-8d1b-4c43-9a57-2f1f8e0a9b31",
    "at": "2026-11-24T16:30:00Z",
}

_TYPES = [
    EventType(
        "stock.changed",
        "A stock level changed (sync, adjustment, reservation, release, sale, return). "
        "`available` = `on_hand` - `reserved`; `version` grows with every change of the level, so a receiver "
        "can drop a delivery older than one it already applied. Audience: the owner of the product.",
        {
            "sku": "ACME-001",
            "location": "PAR01",
            "on_hand": 12,
            "reserved": 2,
            "available": 10,
            "reason": "sale",
            "version": 7,
        },
    ),
    EventType(
        "product.changed",
        "A product was created or updated (`change`: created, updated). Audience: the owner of the product.",
        {"id": 55, "sku": "ACME-001", "change": "updated", "version": 4, "is_active": True},
    ),
    EventType(
        "order.created",
        "A click-and-collect order was placed. The operator's event carries the whole order (customer id, "
        "total, every line); a partner whose products are in it gets an event with its own lines only.",
        {**_ORDER, "customer_id": 901, "total": {"amount": "6.98", "currency": "EUR"}},
    ),
    EventType(
        "order.status_changed",
        "An order moved to another status (preparing, ready, collected, cancelled, no_show); "
        "`previous_status` is where it came from. Same audiences and lines as `order.created`.",
        {**_ORDER, "status": "ready", "previous_status": "preparing"},
    ),
    EventType(
        "slots.released",
        "Pickup slots of a store's day were opened for booking. Audience: the operator.",
        {
            "store_id": 3,
            "store": "PAR01",
            "date": "2026-11-24",
            "release_at": "2026-11-21T23:00:00Z",
            "slot_count": 24,
        },
    ),
    EventType(
        "footfall.anomaly",
        "A people counter reported implausible figures (missing data, zero counts, counts while closed, "
        "spike, drop, reversed direction, exits above entries). Audience: the operator.",
        {
            "id": 17,
            "store": "PAR01",
            "sensor": "PAR01-DOOR-1",
            "kind": "zero_counts",
            "status": "open",
            "period_start": "2026-11-22T09:00:00+01:00",
            "period_end": "2026-11-22T11:00:00+01:00",
            "metric": "entries",
            "actual": 0,
            "expected": 140,
            "expected_low": 95,
            "expected_high": 190,
            "method": "same hours of the 4 previous same weekdays",
        },
    ),
    EventType(
        "coupon.reserved",
        "A coupon campaign was reserved for a click-and-collect order (one use of its code and one unit of "
        "every budget counter taken). Audiences: the operator, and the partner owning the campaign.",
        _REDEMPTION,
    ),
    EventType(
        "coupon.redeemed",
        "A redemption was confirmed: the order was collected, or a till ticket used the coupon. "
        "Same audiences as `coupon.reserved`; the ERP books the discount from this event.",
        {**_REDEMPTION, "state": "confirmed"},
    ),
    EventType(
        "coupon.released",
        "A reserved redemption was given back (order cancelled, no-show, reservation expired; `reason` says "
        "which): the code's use and the budget units are free again. Same audiences as `coupon.reserved`.",
        {**_REDEMPTION, "state": "released", "reason": "cancelled"},
    ),
    EventType(
        "coupon.rolled_back",
        "A return took back a confirmed redemption's discount, in full (`state` rolled_back) or in part "
        "(`rolled_back` grows, `state` stays confirmed). Same audiences as `coupon.reserved`.",
        {**_REDEMPTION, "state": "rolled_back", "rolled_back": {"amount": "10.00", "currency": "EUR"}},
    ),
    EventType(
        "points.earned",
        "A member earned points (a collected order or a till ticket); they stay pending until `activates_at`. "
        "Audience: the operator.",
        {**_POINTS, "activates_at": "2026-12-20T23:00:00Z", "expires_at": "2027-12-31T22:59:59Z"},
    ),
    EventType(
        "points.spent",
        "A member's points paid part of an order (negative `points` when a cancelled order gives them back). "
        "Audience: the operator.",
        {
            **_POINTS,
            "points": 500,
            "reference": "order:5f0c6a2e-8d1b-4c43-9a57-2f1f8e0a9b31",
            "amount": {"amount": "5.00", "currency": "EUR"},
        },
    ),
    EventType(
        "points.expired",
        "Points of a member reached their expiry and were removed by the nightly job. Audience: the operator.",
        {
            **_POINTS,
            "points": 120,
            "reference": "expiry:2026-11-30",
            "sources": [{"source": "order:5f0c6a2e-8d1b-4c43-9a57-2f1f8e0a9b31", "points": 120}],
        },
    ),
    EventType(
        "webhook.disabled",
        "One of your webhook subscriptions was disabled after persistent delivery failure "
        "(or a 410 Gone answer). Re-enable it with PATCH is_active=true once the endpoint works.",
        {
            "webhook": 42,
            "url": "https://hooks.example.com/gateway",
            "reason": "no successful delivery for 24 hours",
            "disabled_at": "2026-11-22T10:00:00Z",
        },
    ),
]

EVENT_TYPES: dict[str, EventType] = {t.name: t for t in _TYPES}


def event_type_names() -> list[str]:
    return sorted(EVENT_TYPES)
