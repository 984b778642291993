"""The sweep (beat, every 15 s): nothing is lost when the after-commit
dispatch or a worker is lost, and nothing due twice is queued needlessly."""

import base64
import datetime as dt
import json

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from partners.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from partners.services import NewEvent, events_fan_out, events_record
from partners.services.delivery import LEASE, SWEEP_GRACE, webhooks_sweep
from partners.services.webhooks import webhook_subscription_create
from tests.factories import PartnerFactory


def queued_delivery_ids() -> list[int]:
    """Delivery ids of webhook_deliver messages waiting in the broker's default queue."""
    ids = []
    for raw in redis.Redis.from_url(settings.CELERY_BROKER_URL).lrange("celery", 0, -1):
        message = json.loads(raw)
        if message["headers"]["task"] == "partners.tasks.webhook_deliver":
            ids.append(json.loads(base64.b64decode(message["body"]))[0][0])
    return sorted(ids)


@pytest.mark.django_db
def test_events_whose_dispatch_was_lost_are_fanned_out_and_queued_by_the_sweep() -> None:
    # given events committed without their after-commit dispatch (this test never commits)
    partner = PartnerFactory.create()
    webhook_subscription_create(partner=partner, url="http://127.0.0.1:9/h", event_types=["*"])
    events = events_record(
        events=[NewEvent(type="stock.changed", payload={"n": n}, partner_id=partner.pk) for n in range(3)]
    )
    # when the sweep runs a few seconds later
    result = webhooks_sweep(now=events[-1].created_at + dt.timedelta(seconds=10))
    # then each got its delivery, and a second sweep finds nothing left to fan out
    assert result.events_fanned_out == 3
    assert WebhookDelivery.objects.filter(event__in=events).count() == 3
    assert webhooks_sweep(now=events[-1].created_at + dt.timedelta(seconds=20)).events_fanned_out == 0


@pytest.mark.django_db
def test_events_younger_than_a_few_seconds_are_left_to_their_own_task() -> None:
    partner = PartnerFactory.create()
    event = events_record(events=[NewEvent(type="stock.changed", payload={}, partner_id=partner.pk)])[0]
    assert webhooks_sweep(now=event.created_at + dt.timedelta(seconds=1)).events_fanned_out == 0


@pytest.mark.django_db
def test_the_sweep_queues_due_and_abandoned_deliveries_only() -> None:
    # given deliveries in every state
    partner = PartnerFactory.create()
    active, _ = webhook_subscription_create(partner=partner, url="http://127.0.0.1:9/a", event_types=["*"])
    disabled, _ = webhook_subscription_create(partner=partner, url="http://127.0.0.1:9/b", event_types=["*"])
    events = events_record(
        events=[NewEvent(type="stock.changed", payload={"n": n}, partner_id=partner.pk) for n in range(5)]
    )
    events_fan_out(event_ids=[e.pk for e in events])
    WebhookSubscription.objects.filter(pk=disabled.pk).update(is_active=False)
    now = timezone.now()
    mine = list(WebhookDelivery.objects.filter(subscription=active).order_by("pk"))
    overdue, just_due, leased, lease_expired, done = mine
    WebhookDelivery.objects.filter(pk=overdue.pk).update(next_attempt_at=now - SWEEP_GRACE * 2)
    WebhookDelivery.objects.filter(pk=just_due.pk).update(next_attempt_at=now)
    WebhookDelivery.objects.filter(pk=leased.pk).update(next_attempt_at=now - SWEEP_GRACE * 2, leased_until=now + LEASE)
    WebhookDelivery.objects.filter(pk=lease_expired.pk).update(
        next_attempt_at=now - SWEEP_GRACE * 2, leased_until=now - dt.timedelta(seconds=1)
    )
    WebhookDelivery.objects.filter(pk=done.pk).update(status=DeliveryStatus.SUCCEEDED, next_attempt_at=None)
    WebhookDelivery.objects.filter(subscription=disabled).update(next_attempt_at=now - SWEEP_GRACE * 2)
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("celery")
    # when the sweep runs
    result = webhooks_sweep(now=now)
    # then it queued the overdue one and the one a dead worker held, nothing else
    assert result.deliveries_enqueued == 2
    assert queued_delivery_ids() == sorted([overdue.pk, lease_expired.pk])


@pytest.mark.django_db
def test_a_large_batch_of_events_is_fanned_out_whole() -> None:
    partner = PartnerFactory.create()
    webhook_subscription_create(partner=partner, url="http://127.0.0.1:9/h", event_types=["stock.changed"])
    events = events_record(
        events=[NewEvent(type="stock.changed", payload={"n": n}, partner_id=partner.pk) for n in range(1203)]
    )
    result = events_fan_out(event_ids=[e.pk for e in events])
    assert (result.events, len(result.delivery_ids)) == (1203, 1203)
