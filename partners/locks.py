"""The only place partners takes row locks.

Order: partner (or the operator's advisory lock), then events, then webhook
subscriptions, then deliveries, each in primary-key order. Fan-out locks
events with SKIP LOCKED (a concurrent fan-out of the same events simply
leaves them to the one that holds them); recording an attempt locks one
delivery, never while an HTTP request is in flight.

Deleting a subscription takes its row FOR UPDATE before Django collects the
rows that go with it; fan-out and attempt recording take it FOR KEY SHARE
before they write a delivery or an attempt. The two exclude each other, so
the delete either sees what they wrote (and deletes it) or they see the
subscription gone (and write nothing): without it, a row inserted between
the delete's collection and its commit failed the commit on the foreign key.
KEY SHARE conflicts with nothing but deletes and key changes: fan-outs,
attempts and UPDATEs of the subscription (its health, a PATCH) do not wait
on one another for it."""

import datetime as dt
from collections.abc import Collection, Iterable

from django.db import connection
from django.db.models import QuerySet

from gateway.sql import instance_of_row
from partners import sql
from partners.models import Event, Partner, WebhookDelivery, WebhookSubscription

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


def lock_subscription_for_delete(*, subscription_id: int) -> int | None:
    """The subscription locked FOR UPDATE (waiting for fan-outs and attempts
    that hold it); its version, or None if it is gone."""
    versions = WebhookSubscription.objects.select_for_update().filter(pk=subscription_id)
    return versions.values_list("version", flat=True).first()


def lock_subscription_shared(*, subscription_id: int) -> bool:
    """KEY SHARE on the subscription before writing under it; False if it
    was deleted (then nothing may be written for it)."""
    with connection.cursor() as cursor:
        cursor.execute(sql.SUBSCRIPTION_KEY_SHARE, [subscription_id])
        return cursor.fetchone() is not None


def lock_subscriptions_for_fan_out(*, partner_ids: Collection[int]) -> list[WebhookSubscription]:
    """The active subscriptions that may receive events of these partners
    (theirs and the operator's), KEY SHARE locked, with only what matching
    events reads (``partner_id``, ``event_types``)."""
    return list(WebhookSubscription.objects.raw(sql.SUBSCRIPTIONS_FOR_FAN_OUT, [sorted(partner_ids)]))


def lock_delivery(*, delivery_id: int) -> WebhookDelivery | None:
    """The delivery, locked; None if it was deleted (with its subscription).
    A plain statement: every attempt records under this lock, and the ORM's
    compilation of it cost more than PostgreSQL's answer."""
    with connection.cursor() as cursor:
        cursor.execute(sql.DELIVERY_FOR_UPDATE, [delivery_id])
        row = cursor.fetchone()
    return None if row is None else instance_of_row(WebhookDelivery, row)


def lock_subscription_owner(*, partner_id: int | None) -> None:
    """Serialises subscription creations of one owner (so a limit holds under
    concurrency): the partner row, or an advisory lock for the operator."""
    if partner_id is not None:
        Partner.objects.select_for_update().filter(pk=partner_id).first()
        return
    with connection.cursor() as cursor:
        cursor.execute(sql.ADVISORY_LOCK, [_OPERATOR_WEBHOOKS_LOCK])
