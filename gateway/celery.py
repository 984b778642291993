"""The Celery application: tasks are discovered in each app's tasks.py.

The worker's consumer reconnects to Redis on a short backoff
(``QuickReconnectConsumer``). Celery asks kombu to retry a lost broker
connection after 2, 4, 6 ... up to 30 s and offers no setting for it, so
after Redis came back a worker could sleep up to 30 s more before taking
tasks again: webhooks went out 30-35 s late (Black Friday issue, defect 4).
Retrying every second costs one failed connect a second while Redis is away."""

import os
from typing import Any

from celery import Celery
from celery.worker.consumer import Consumer

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings.local")

# Seconds before the first retry, added per retry, and at most between two.
RECONNECT_FIRST_S = 0.5
RECONNECT_STEP_S = 0.5
RECONNECT_MAX_S = 1.0


class QuickReconnectConsumer(Consumer):
    """The worker's consumer (``worker_consumer``), reconnecting on a short backoff."""

    def ensure_connected(self, conn: Any) -> Any:
        ensure_connection = conn.ensure_connection

        def quickly(*args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("interval_start", RECONNECT_FIRST_S)
            kwargs.setdefault("interval_step", RECONNECT_STEP_S)
            kwargs.setdefault("interval_max", RECONNECT_MAX_S)
            return ensure_connection(*args, **kwargs)

        conn.ensure_connection = quickly
        return super().ensure_connected(conn)


app = Celery("gateway")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
