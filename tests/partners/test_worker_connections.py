"""A worker started as deployed keeps its database connections across
tasks. Celery's prefork pool closes Django's connection pool around every
task (celery/celery#10554), which made each webhook fan-out task open a new
PostgreSQL connection; the worker runs the threads pool instead
(CELERY_WORKER_POOL)."""

import time

import pytest
import redis
from django.conf import settings
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
    assert webhook_events_fan_out.apply_async(ignore_result=False).get(timeout=60) == 0
    before = sessions_opened()
    # when it runs twenty more, one after the other
    for _ in range(TASKS):
        assert webhook_events_fan_out.apply_async(ignore_result=False).get(timeout=30) == 0
    # then it opened no connection per task (a pool may still grow by one or two)
    assert sessions_opened() - before <= 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_a_task_result_is_written_only_when_its_caller_asks_for_it(deployed_celery_worker: object) -> None:
    # given a deployed worker, and Redis without any task result
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    assert not broker.keys("celery-task-meta-*")
    # when a task runs as the outbox publishes it, and another whose caller waits for its result
    silent = webhook_events_fan_out.apply_async()
    assert webhook_events_fan_out.apply_async(ignore_result=False).get(timeout=60) == 0
    deadline = time.monotonic() + 30
    while broker.llen("celery") or broker.hlen("unacked"):  # the first one has run too
        assert time.monotonic() < deadline, "the worker did not run the first task"
        time.sleep(0.05)
    # then only the second wrote its result: kept, every webhook delivery cost
    # Redis a SET and a PUBLISH, and its publisher a subscription, that nobody read
    assert len(broker.keys("celery-task-meta-*")) == 1
    assert not broker.exists(f"celery-task-meta-{silent.id}")
