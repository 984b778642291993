"""Delivering one webhook attempt, and the sweep that keeps deliveries moving.

An attempt: claim the delivery with one guarded UPDATE (pending, due, not
leased), send outside any transaction, then record the attempt and the next
step under a short row lock. A delivery that succeeded is never sent again by
a duplicate task; a worker that dies mid-attempt leaves a lease that expires,
and the sweep sends it again (at least once: the receiver dedupes on
``webhook-id``, which is the same on every attempt).

Retries follow the Standard Webhooks example schedule: after the first try,
5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (8 tries over about 27.6 h),
each delay with +/-10 % jitter so endpoints recovering from an outage are
not hit by every retry at once. ``Retry-After`` on 429/503 pushes the next
try later (never past the longest delay). 410 Gone disables at once.

Deleting a subscription takes its deliveries and their attempts with it; an
attempt in flight at that moment is not logged (``_record``).

A subscription is disabled when a delivery exhausts its schedule while the
endpoint has had no successful attempt for DISABLE_AFTER: a single event the
receiver rejects does not disable an otherwise healthy endpoint."""

import datetime as dt
import functools
import json
import random
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from gateway.api.instants import instant_text
from gateway.sql import instance_of_row, partial_instance
from partners import sql
from partners.locks import lock_delivery, lock_subscription_shared
from partners.models import (
    AttemptTrigger,
    DeliveryStatus,
    Event,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from partners.services.egress import HttpOutcome, post_to_target
from partners.services.events import FAN_OUT_BATCH, deliveries_enqueue, events_fan_out_stragglers
from partners.services.signing import signature_header, webhook_secret_decrypt
from partners.services.targets import private_targets_allowed
from partners.services.webhooks import webhook_subscription_disable

RETRY_DELAYS = tuple(dt.timedelta(seconds=s) for s in (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600))
MAX_SCHEDULED_ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.1
# Longer than the egress total timeout (10 s) with a wide margin.
LEASE = dt.timedelta(seconds=60)
DISABLE_AFTER = dt.timedelta(hours=24)
# Retries due within this are queued with a countdown; later ones are left to
# the sweep (a Redis broker redelivers unacknowledged delayed tasks after its
# visibility timeout, CELERY_VISIBILITY_TIMEOUT_S: 15 minutes, so long
# countdowns would duplicate; tests/gateway/test_worker_recovery.py checks
# this limit stays under it).
COUNTDOWN_LIMIT = dt.timedelta(minutes=10)
# The sweep leaves alone deliveries due less than this long ago: their task
# is normally queued already.
SWEEP_GRACE = dt.timedelta(seconds=60)
SWEEP_BATCH = 500
# Events younger than this are normally being fanned out by their own task.
SWEEP_FAN_OUT_AGE = dt.timedelta(seconds=5)
SWEEP_FAN_OUT_BATCHES = 20
USER_AGENT = "CommerceGateway-Webhooks/1.0"


def retry_delay(failed_attempts: int, *, rng: random.Random | None = None) -> dt.timedelta:
    """Delay after the ``failed_attempts``-th automatic attempt failed."""
    base = RETRY_DELAYS[min(max(failed_attempts, 1), len(RETRY_DELAYS)) - 1]
    return base * (rng or random).uniform(1 - JITTER, 1 + JITTER)


def webhook_body(event: Event) -> bytes:
    body = {"type": event.type, "timestamp": instant_text(event.created_at), "data": event.payload}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def signing_secrets(subscription: WebhookSubscription, now: dt.datetime) -> list[str]:
    in_use = [webhook_secret_decrypt(subscription.secret_encrypted)]
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret_encrypted and expires is not None and expires > now:
        in_use.append(webhook_secret_decrypt(subscription.previous_secret_encrypted))
    return in_use


# Where the claim's row passes from the delivery's columns to the subscription's, then the event's.
_CLAIM_SPLIT = (
    len(WebhookDelivery._meta.concrete_fields),
    len(WebhookDelivery._meta.concrete_fields) + len(WebhookSubscription._meta.concrete_fields),
)


def _claim(delivery_id: int, now: dt.datetime) -> WebhookDelivery | None:
    """The delivery claimed with a lease, its subscription and event read
    with it (one statement: ``sql.DELIVERY_CLAIM``); None when nothing is due
    (delivered, not due yet, leased elsewhere, deleted)."""
    with connection.cursor() as cursor:
        cursor.execute(sql.DELIVERY_CLAIM, {"id": delivery_id, "now": now, "lease": now + LEASE})
        row = cursor.fetchone()
    if row is None:
        return None
    first, second = _CLAIM_SPLIT
    delivery = instance_of_row(WebhookDelivery, row[:first])
    delivery.subscription = instance_of_row(WebhookSubscription, row[first:second])
    delivery.event = instance_of_row(Event, row[second:])
    return delivery


def _send(delivery: WebhookDelivery, now: dt.datetime) -> HttpOutcome:
    event, subscription = delivery.event, delivery.subscription
    body = webhook_body(event)
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": event.webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            secrets_in_use=signing_secrets(subscription, now), msg_id=event.webhook_id, timestamp=timestamp, body=body
        ),
    }
    return post_to_target(url=subscription.url, body=body, headers=headers, allow_private=private_targets_allowed())


def webhook_delivery_attempt(*, delivery_id: int, now: dt.datetime | None = None) -> WebhookAttempt | None:
    """Make the attempt that is due, if any. Returns the attempt logged, or
    None when there was nothing to do (delivered, not due, leased elsewhere,
    subscription disabled)."""
    now = now or timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return None
    if not delivery.subscription.is_active:
        WebhookDelivery.objects.filter(pk=delivery_id).update(leased_until=None)
        return None
    outcome = _send(delivery, now)
    return _record(delivery_id=delivery_id, subscription_id=delivery.subscription_id, outcome=outcome, now=now)


@dataclass
class _Next:
    status: str
    next_attempt_at: dt.datetime | None
    disable_reason: str = ""
    disable_if_failing_since_before: dt.datetime | None = None


def _next_step(delivery: WebhookDelivery, outcome: HttpOutcome, now: dt.datetime, manual: bool) -> _Next:
    if outcome.succeeded:
        return _Next(DeliveryStatus.SUCCEEDED, None)
    if outcome.status_code == 410:
        return _Next(DeliveryStatus.FAILED, None, disable_reason="the endpoint answered 410 Gone")
    if delivery.scheduled_attempts >= MAX_SCHEDULED_ATTEMPTS:
        if manual:
            return _Next(DeliveryStatus.FAILED, None)
        return _Next(
            DeliveryStatus.FAILED,
            None,
            disable_reason=f"no successful delivery for {int(DISABLE_AFTER.total_seconds() // 3600)} hours",
            disable_if_failing_since_before=now - DISABLE_AFTER,
        )
    delay = retry_delay(delivery.scheduled_attempts)
    if outcome.retry_after_s is not None and outcome.status_code in (429, 503):
        delay = min(max(delay, dt.timedelta(seconds=outcome.retry_after_s)), RETRY_DELAYS[-1])
    return _Next(DeliveryStatus.PENDING, now + delay)


def _record(*, delivery_id: int, subscription_id: int, outcome: HttpOutcome, now: dt.datetime) -> WebhookAttempt | None:
    """Log the attempt and decide the next step. A redelivery asked for while
    this attempt was in flight is folded into it (it was being sent anyway).
    Nothing is logged once the subscription is deleted: the subscription is
    locked first (KEY SHARE, partners.locks), so a concurrent delete either
    waits for this record and deletes it with the rest of the log, or has
    committed and this one returns None."""
    with transaction.atomic():
        if not lock_subscription_shared(subscription_id=subscription_id):
            return None
        delivery = lock_delivery(delivery_id=delivery_id)
        if delivery is None:
            return None
        manual = delivery.manual_requested
        delivery.attempt_count += 1
        if not manual and not outcome.succeeded:
            delivery.scheduled_attempts += 1
        step = _next_step(delivery, outcome, now, manual)
        trigger = AttemptTrigger.MANUAL if manual else AttemptTrigger.SCHEDULED
        # The attempt, the delivery's next step and the subscription's failure clock in one statement.
        with connection.cursor() as cursor:
            cursor.execute(
                sql.ATTEMPT_RECORD,
                {
                    "delivery": delivery_id,
                    "subscription": subscription_id,
                    "number": delivery.attempt_count,
                    "trigger": trigger,
                    "now": now,
                    "duration": outcome.duration_ms,
                    "status_code": outcome.status_code,
                    "succeeded": outcome.succeeded,
                    "error": outcome.error,
                    "excerpt": outcome.excerpt,
                    "status": step.status,
                    "next": step.next_attempt_at,
                    "scheduled": delivery.scheduled_attempts,
                    "updated": timezone.now(),
                },
            )
            (attempt_id,) = cursor.fetchone()
        attempt = partial_instance(
            WebhookAttempt, connection.alias, id=attempt_id, delivery_id=delivery_id, number=delivery.attempt_count,
            trigger=trigger, attempted_at=now, duration_ms=outcome.duration_ms, status_code=outcome.status_code,
            succeeded=outcome.succeeded, error=outcome.error, response_excerpt=outcome.excerpt,
        )  # fmt: skip
        if step.disable_reason:
            webhook_subscription_disable(
                subscription_id=delivery.subscription_id,
                reason=step.disable_reason,
                now=now,
                failing_since_before=step.disable_if_failing_since_before,
            )
        if step.next_attempt_at is not None and step.next_attempt_at - now <= COUNTDOWN_LIMIT:
            countdown = (step.next_attempt_at - now).total_seconds()
            transaction.on_commit(
                functools.partial(deliveries_enqueue, [delivery_id], countdown=countdown), robust=True
            )
    return attempt


@dataclass(frozen=True)
class SweepResult:
    events_fanned_out: int
    deliveries_enqueued: int


def webhooks_sweep(*, now: dt.datetime | None = None) -> SweepResult:
    """Fan out events whose after-commit dispatch was lost (broker down,
    process killed) and queue deliveries whose attempt is due (retries left
    to the sweep, leases of dead workers)."""
    now = now or timezone.now()
    fanned = 0
    for _batch in range(SWEEP_FAN_OUT_BATCHES):
        fan_out = events_fan_out_stragglers(created_before=now - SWEEP_FAN_OUT_AGE, now=now)
        fanned += fan_out.events
        if fan_out.events < FAN_OUT_BATCH:
            break
    due = list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING,
            next_attempt_at__lte=now - SWEEP_GRACE,
            subscription__is_active=True,
        )
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    if due:
        deliveries_enqueue(due)
    return SweepResult(events_fanned_out=fanned, deliveries_enqueued=len(due))
