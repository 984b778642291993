"""Celery tasks of click-and-collect: thin, idempotent, ``acks_late``; the
services they call read the database clock and guard every change, so a
duplicate or overlapping run changes nothing twice. Beat runs them every
minute (gateway/settings/base.py, CELERY_BEAT_SCHEDULE); beat stays in UTC
and the store-local instants are computed in code (Celery crontabs skip or
repeat runs across DST changes)."""

from celery import shared_task

# The worker discovers this module only: importing the cross-sell tasks here
# registers them (they run on the default queue, not on commerce's).
from commerce.recommendations.tasks import co_purchase_model_rebuild, co_purchase_model_rebuild_nightly
from commerce.services.lifecycle import orders_mark_no_show
from commerce.services.release import slots_release_due
from commerce.services.slots import holds_expire_due


@shared_task(acks_late=True, reject_on_worker_lost=True)
def release_pickup_slots(store_ids: list[int] | None = None) -> int:
    """Release the days whose release instant has passed (all stores, or
    ``store_ids``); returns how many store-days were released now."""
    return sum(1 for day in slots_release_due(store_ids=store_ids) if day.released)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def expire_slot_holds() -> int:
    """Give back the units of expired holds; returns how many holds expired."""
    return holds_expire_due()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def mark_no_show_orders() -> int:
    """Orders not collected by the slot's end plus the grace time become no_show."""
    return orders_mark_no_show()


__all__ = [
    "co_purchase_model_rebuild",
    "co_purchase_model_rebuild_nightly",
    "expire_slot_holds",
    "mark_no_show_orders",
    "release_pickup_slots",
]
