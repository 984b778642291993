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


_TYPES = [
    EventType(
        "stock.changed",
        "A stock level changed (sync, adjustment, reservation, release, sale, return). "
        "`available` = `on_hand` - `reserved`. Audience: the owner of the product.",
        {"sku": "ACME-001", "location": "PAR01", "on_hand": 12, "reserved": 2, "available": 10, "reason": "sale"},
    ),
    EventType(
        "product.changed",
        "A product was created or updated (price, names, active flag). Audience: the owner of the product.",
        {"sku": "ACME-001", "gtin": "3017620422003", "active": True},
    ),
    EventType(
        "order.created",
        "A click-and-collect order was placed. Audience: the partner whose products it holds, if any.",
        {"order": "ORD-2026-000123", "store": "PAR01", "status": "placed"},
    ),
    EventType(
        "order.status_changed",
        "An order moved to another status (ready, collected, cancelled...).",
        {"order": "ORD-2026-000123", "store": "PAR01", "status": "ready", "previous_status": "placed"},
    ),
    EventType(
        "slots.released",
        "New pickup slots were opened for booking at a store.",
        {"store": "PAR01", "date": "2026-11-24", "slots": 24},
    ),
    EventType(
        "footfall.anomaly",
        "A people counter reported implausible figures or went silent.",
        {"store": "PAR01", "sensor": "PAR01-DOOR-1", "kind": "silent", "since": "2026-11-22T09:00:00+00:00"},
    ),
    EventType(
        "webhook.disabled",
        "One of your webhook subscriptions was disabled after persistent delivery failure "
        "(or a 410 Gone answer). Re-enable it with PATCH is_active=true once the endpoint works.",
        {
            "webhook": 42,
            "url": "https://hooks.example.com/gateway",
            "reason": "no successful delivery since 2026-11-21T08:00:00+00:00",
            "disabled_at": "2026-11-22T10:00:00+00:00",
        },
    ),
]

EVENT_TYPES: dict[str, EventType] = {t.name: t for t in _TYPES}


def event_type_names() -> list[str]:
    return sorted(EVENT_TYPES)
