"""The omnichannel commerce API gateway."""

from gateway.celery import app as celery_app

__all__ = ["celery_app"]
