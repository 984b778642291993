"""Celery tasks of partners: thin, idempotent, ``acks_late``, work loaded by id.

Webhooks: ``webhook_events_fan_out`` answers the outbox doorbell that commits
recording events ring; ``webhook_deliver`` makes one due attempt (a duplicate
task finds nothing due and does nothing), ``webhook_deliver_many`` those of one
subscription's deliveries from one fan-out; ``webhooks_sweep`` (beat, every
15 s) catches whatever a lost message or a dead worker left behind."""

from celery import shared_task
from oauth2_provider.models import clear_expired

from partners.services.delivery import webhook_delivery_attempt, webhooks_sweep
from partners.services.events import events_fan_out, events_fan_out_pending


@shared_task(acks_late=True)
def clear_expired_tokens() -> None:
    """Delete expired access and refresh tokens and grants (DOT's own routine)."""
    clear_expired()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def webhook_events_fan_out(event_ids: list[int] | None = None) -> int:
    """Create the deliveries of every undispatched event (or of ``event_ids``,
    as messages queued before the doorbell name them); returns how many."""
    if event_ids is not None:
        return len(events_fan_out(event_ids=event_ids).delivery_ids)
    return len(events_fan_out_pending().delivery_ids)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def webhook_deliver(delivery_id: int) -> bool:
    """Make the attempt of this delivery if one is due; returns whether one was made."""
    return webhook_delivery_attempt(delivery_id=delivery_id) is not None


@shared_task(acks_late=True, reject_on_worker_lost=True)
def webhook_deliver_many(delivery_ids: list[int]) -> int:
    """Make the due attempts of these deliveries (one subscription's, from
    one fan-out) one after the other; returns how many were made. Redelivered
    after a lost worker, it makes only the attempts still due."""
    return sum(webhook_delivery_attempt(delivery_id=delivery_id) is not None for delivery_id in delivery_ids)


@shared_task(acks_late=True)
def webhooks_sweep_due() -> dict[str, int]:
    result = webhooks_sweep()
    return {"events_fanned_out": result.events_fanned_out, "deliveries_enqueued": result.deliveries_enqueued}
