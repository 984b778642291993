"""The only place partners takes row locks.

Order: partner (or the operator's advisory lock), then events, then
deliveries, each in primary-key order. Fan-out locks
events with SKIP LOCKED (a concurrent fan-out of the same events simply
leaves them to the one that holds them); recording an attempt locks one
delivery, never while an HTTP request is in flight."""

import datetime as dt
from collections.abc import Iterable

from django.db import connection
from django.db.models import QuerySet

from partners.models import Event, Partner, WebhookDelivery

# Advisory lock key space of partners: "WHOP" (webhook owner, operator).
_OPERATOR_WEBHOOKS_LOCK = 0x57484F50


def lock_undispatched_events(
    *, event_ids: Iterable[int] | None = None, created_before: dt.datetime | None = None, limit: int = 500
) -> list[Event]:
    """Events not yet fanned out, locked (skipping those another worker holds).
    Only what fan-out matches subscriptions on is read: not the payloads
    (decoding them cost most of the fan-out's CPU at the midnight rush)."""
    events: QuerySet[Event] = Event.objects.filter(dispatched_at__isnull=True)
    if event_ids is not None:
        events = events.filter(pk__in=list(event_ids))
    if created_before is not None:
        events = events.filter(created_at__lt=created_before)
    locked = events.only("id", "type", "partner_id").order_by("pk").select_for_update(skip_locked=True)
    return list(locked[:limit])


def lock_delivery(*, delivery_id: int) -> WebhookDelivery | None:
    """The delivery, locked; None if it was deleted (with its subscription)."""
    return WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()


def lock_subscription_owner(*, partner_id: int | None) -> None:
    """Serialises subscription creations of one owner (so a limit holds under
    concurrency): the partner row, or an advisory lock for the operator."""
    if partner_id is not None:
        Partner.objects.select_for_update().filter(pk=partner_id).first()
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_OPERATOR_WEBHOOKS_LOCK])
