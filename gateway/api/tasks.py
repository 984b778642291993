"""Housekeeping of the shared machinery."""

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from gateway.api.models import IdempotencyRecord


@shared_task(acks_late=True)
def purge_idempotency_keys() -> int:
    """Keys are kept IDEMPOTENCY_KEY_TTL_HOURS (at least the 24 h promised)."""
    cutoff = timezone.now() - dt.timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
