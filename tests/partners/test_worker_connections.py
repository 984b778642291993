"""A worker started as deployed keeps its database connections across
tasks. Celery's prefork pool closes Django's connection pool around every
task (celery/celery#10554), which made each webhook fan-out task open a new
PostgreSQL connection; the worker runs the threads pool instead
(CELERY_WORKER_POOL)."""

import time

import pytest
from django.db import connection

from partners.tasks import webhook_events_fan_out

TASKS = 20


def sessions_opened() -> int:
    """Sessions ever opened on this database, once PostgreSQL's counter has
    settled (backends report their connection to the statistics lazily);
    the last count read if it never settles within 20 s."""
    last, stable_since = -1, time.monotonic()
    deadline = stable_since + 20
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
            count = int(cursor.fetchone()[0])
        if count != last:
            last, stable_since = count, time.monotonic()
        elif time.monotonic() - stable_since > 1.5:
            return count
        time.sleep(0.25)
    return last


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_a_deployed_worker_runs_task_after_task_on_the_connections_it_has(deployed_celery_worker: object) -> None:
    # given a worker that has run a first task (its pool is open)
    assert webhook_events_fan_out.apply_async().get(timeout=60) == 0
    before = sessions_opened()
    # when it runs twenty more, one after the other
    for _ in range(TASKS):
        assert webhook_events_fan_out.apply_async().get(timeout=30) == 0
    # then it opened no connection per task (a pool may still grow by one or two)
    assert sessions_opened() - before <= 2
