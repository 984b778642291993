"""The outbox: events written in the caller's transaction, then fanned out to
webhook deliveries once committed (CONVENTIONS section 9)."""

import datetime as dt
import functools
import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from partners.locks import lock_undispatched_events
from partners.models import Event, WebhookDelivery, WebhookSubscription

log = logging.getLogger(__name__)

# Publishing to the broker happens after the commit of a business write; when
# the broker is unreachable we give up fast and leave the events to the sweep
# rather than hold the request (the sweep runs every 15 s).
_PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0.05, "interval_step": 0.1, "interval_max": 0.2}
FAN_OUT_BATCH = 500


@dataclass(frozen=True)
class NewEvent:
    type: str
    payload: dict[str, Any]
    partner_id: int | None = None
    subject: str = ""


def events_record(*, events: list[NewEvent]) -> list[Event]:
    """Write events to the outbox inside the caller's transaction (one INSERT
    for the batch). Nothing is sent from here: delivery starts after commit."""
    if not events:
        return []
    rows = Event.objects.bulk_create(
        [Event(type=e.type, payload=e.payload, partner_id=e.partner_id, subject=e.subject) for e in events]
    )
    transaction.on_commit(functools.partial(_dispatch_after_commit, [row.pk for row in rows]), robust=True)
    return rows


def event_record(*, type: str, payload: dict[str, Any], partner_id: int | None = None, subject: str = "") -> Event:
    return events_record(events=[NewEvent(type=type, payload=payload, partner_id=partner_id, subject=subject)])[0]


def _dispatch_after_commit(event_ids: list[int]) -> None:
    """Hands new events to webhook delivery once they are committed. If the
    broker is down the events stay undispatched and the sweep fans them out."""
    from partners.tasks import webhook_events_fan_out  # tasks import services

    webhook_events_fan_out.apply_async(args=(event_ids,), retry=True, retry_policy=_PUBLISH_RETRY)


@dataclass(frozen=True)
class FanOut:
    events: int
    delivery_ids: list[int]


def events_fan_out(*, event_ids: list[int], now: dt.datetime | None = None) -> FanOut:
    """Create one delivery per (event, matching active subscription) for
    these events if not fanned out yet, mark them fanned out, and enqueue the
    first attempts after commit; batches of FAN_OUT_BATCH, one transaction
    each. Idempotent: an event is fanned out once (row lock plus
    ``dispatched_at``, backed by the unique (subscription, event)).
    Events another worker is fanning out at the same moment are skipped."""
    total = FanOut(events=0, delivery_ids=[])
    for start in range(0, len(event_ids), FAN_OUT_BATCH):
        batch = _fan_out_batch(event_ids=event_ids[start : start + FAN_OUT_BATCH], now=now or timezone.now())
        total = FanOut(events=total.events + batch.events, delivery_ids=total.delivery_ids + batch.delivery_ids)
    return total


def events_fan_out_stragglers(*, created_before: dt.datetime, now: dt.datetime | None = None) -> FanOut:
    """One batch of events older than ``created_before`` whose fan-out was lost (for the sweep)."""
    return _fan_out_batch(created_before=created_before, now=now or timezone.now())


def _fan_out_batch(
    *, now: dt.datetime, event_ids: list[int] | None = None, created_before: dt.datetime | None = None
) -> FanOut:
    with transaction.atomic():
        events = lock_undispatched_events(event_ids=event_ids, created_before=created_before, limit=FAN_OUT_BATCH)
        if not events:
            return FanOut(events=0, delivery_ids=[])
        partner_ids = {e.partner_id for e in events if e.partner_id is not None}
        subscriptions = list(
            WebhookSubscription.objects.filter(is_active=True).filter(
                Q(partner__isnull=True) | Q(partner_id__in=partner_ids)
            )
        )
        deliveries = WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(subscription=s, event=e, next_attempt_at=now)
                for e in events
                for s in subscriptions
                if s.receives(e)
            ]
        )
        Event.objects.filter(pk__in=[e.pk for e in events]).update(dispatched_at=now)
        delivery_ids = [d.pk for d in deliveries]
        if delivery_ids:
            transaction.on_commit(functools.partial(deliveries_enqueue, delivery_ids), robust=True)
    return FanOut(events=len(events), delivery_ids=delivery_ids)


def deliveries_enqueue(delivery_ids: list[int], countdown: float = 0) -> None:
    from partners.tasks import webhook_deliver  # tasks import services

    for delivery_id in delivery_ids:
        webhook_deliver.apply_async(args=(delivery_id,), countdown=countdown, retry=True, retry_policy=_PUBLISH_RETRY)
