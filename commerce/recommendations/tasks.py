"""Celery tasks of cross-sell: thin and idempotent (a version no longer
``building`` is left alone), ``acks_late`` so a build whose worker died runs
again from the start.

Registration: the worker discovers ``commerce.tasks`` only, which has to import
these; the nightly run is a beat entry calling ``co_purchase_model_rebuild_nightly``."""

from celery import shared_task

from commerce.recommendations.building import co_purchase_model_build, co_purchase_rebuild_request


@shared_task(acks_late=True, reject_on_worker_lost=True)
def co_purchase_model_rebuild(model_id: int) -> str | None:
    """Build the requested version ``model_id``; returns its state."""
    model = co_purchase_model_build(model_id=model_id)
    return None if model is None else model.state


@shared_task(acks_late=True, reject_on_worker_lost=True)
def co_purchase_model_rebuild_nightly() -> int:
    """Ask for a live build (or join the one under way); returns its id."""
    return co_purchase_rebuild_request().model.pk
