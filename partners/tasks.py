"""Periodic OAuth housekeeping."""

from celery import shared_task
from oauth2_provider.models import clear_expired


@shared_task(acks_late=True)
def clear_expired_tokens() -> None:
    """Delete expired access and refresh tokens and grants (DOT's own routine)."""
    clear_expired()
