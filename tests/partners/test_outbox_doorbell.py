"""The outbox doorbell: commits that record events wake the fan-out with one
Redis SET NX each; only the first ring until the fan-out task answers
publishes a task; an event committed after the task answered rings again;
with Redis down the write still commits and the sweep delivers. Real
PostgreSQL, Redis and broker (this run's own Redis database)."""

import base64
import datetime as dt
import json
import threading
import time
from typing import Any

import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connection, transaction

from gateway.api import metrics, ratelimit
from partners.models import Event, WebhookDelivery, WebhookSubscription
from partners.services import NewEvent, event_record, events_record
from partners.services.delivery import SWEEP_FAN_OUT_AGE, webhooks_sweep
from partners.services.events import (
    DELIVERIES_PER_TASK,
    FAN_OUT_COALESCE_S,
    FAN_OUT_DOORBELL,
    FAN_OUT_DOORBELL_TTL_MS,
    events_fan_out_pending,
)
from partners.services.webhooks import webhook_subscription_create
from partners.tasks import webhook_deliver_many, webhook_events_fan_out
from tests.factories import PartnerFactory
from tests.partners.test_webhook_support import running_receiver, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def broker() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def queued(task: str) -> list[Any]:
    """Arguments of the messages of ``task`` waiting in the broker's default queue."""
    return [json.loads(base64.b64decode(message["body"]))[0] for message in queued_messages(task)]


def queued_messages(task: str) -> list[dict[str, Any]]:
    return [
        message for raw in broker().lrange("celery", 0, -1) if (message := json.loads(raw))["headers"]["task"] == task
    ]


def fan_out_messages() -> int:
    return len(queued("partners.tasks.webhook_events_fan_out"))


def commit_event(partner_id: int, n: int) -> Event:
    with transaction.atomic():
        return event_record(type="stock.changed", payload={"n": n}, partner_id=partner_id)


def test_a_burst_of_commits_publishes_one_fan_out_task() -> None:
    # given a partner with a subscription and no fan-out queued
    partner = PartnerFactory.create()
    webhook_subscription_create(partner=partner, url="http://127.0.0.1:9/h", event_types=["*"])
    broker().delete("celery")
    # when 40 transactions commit events, one of them recording twice
    rung_at = dt.datetime.now(dt.UTC)
    for n in range(39):
        commit_event(partner.pk, n)
    with transaction.atomic():
        events_record(events=[NewEvent(type="stock.changed", payload={"n": 39}, partner_id=partner.pk)])
        event_record(type="order.created", payload={"n": 40}, partner_id=partner.pk)
    # then a single fan-out task was published, with no ids: it fans out whatever is undispatched
    assert queued("partners.tasks.webhook_events_fan_out") == [[]]
    assert 0 < broker().pttl(FAN_OUT_DOORBELL) <= FAN_OUT_DOORBELL_TTL_MS
    # due a moment later, so commits of that moment ride along rather than ring for a task of their own
    (message,) = queued_messages("partners.tasks.webhook_events_fan_out")
    delay = (dt.datetime.fromisoformat(message["headers"]["eta"]) - rung_at).total_seconds()
    assert FAN_OUT_COALESCE_S <= delay < FAN_OUT_COALESCE_S + 2
    # and when it runs, every event of the burst gets its delivery
    assert webhook_events_fan_out() == 41
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()


def test_a_rolled_back_transaction_does_not_ring() -> None:
    broker().delete("celery")

    def failing_write() -> None:
        with transaction.atomic():
            event_record(type="stock.changed", payload={}, partner_id=None)
            raise RuntimeError("the business write fails")

    with pytest.raises(RuntimeError):
        failing_write()
    assert fan_out_messages() == 0
    assert not broker().exists(FAN_OUT_DOORBELL)


def test_an_event_committed_while_the_task_runs_rings_again_and_is_fanned_out() -> None:
    # given an event whose commit rang: one task published
    partner = PartnerFactory.create()
    webhook_subscription_create(partner=partner, url="http://127.0.0.1:9/h", event_types=["*"])
    broker().delete("celery")
    first = commit_event(partner.pk, 1)
    assert fan_out_messages() == 1
    # and that task running in a worker thread, held mid-way: it has answered
    # the doorbell and locked its batch, and waits to read the subscriptions
    db = settings.DATABASES["default"]
    blocker = psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"], dbname=db["NAME"]
    )
    blocker.execute("LOCK TABLE partners_webhooksubscription IN ACCESS EXCLUSIVE MODE")
    done: list[int] = []
    worker = threading.Thread(target=_run_fan_out, args=(done,))
    worker.start()
    wait_for(lambda: not broker().exists(FAN_OUT_DOORBELL) and _waiting_on_lock(), timeout_s=10)
    # when another event commits meanwhile
    second = commit_event(partner.pk, 2)
    # then it rang again: a second task is published
    assert fan_out_messages() == 2
    blocker.rollback()  # the task goes on
    blocker.close()
    worker.join(timeout=30)
    assert done == [1]  # the running task had taken only the first event
    # and the second task fans the late event out: nothing waits for the sweep
    assert webhook_events_fan_out() == 1
    assert set(WebhookDelivery.objects.values_list("event_id", flat=True)) == {first.pk, second.pk}


def _run_fan_out(done: list[int]) -> None:
    try:
        done.append(events_fan_out_pending().events)
    finally:
        connection.close()


def _waiting_on_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return bool(cursor.fetchone()[0])


def test_with_redis_down_the_write_commits_and_the_sweep_delivers(settings: Any) -> None:
    # given a subscription, and Redis unreachable for the web process
    partner = PartnerFactory.create()
    subscription, _ = webhook_subscription_create(partner=partner, url="http://127.0.0.1:9/h", event_types=["*"])
    broker().delete("celery")
    reachable, settings.REDIS_URL = settings.REDIS_URL, "redis://127.0.0.1:1/0"
    ratelimit._client = None
    before = metrics.OUTBOX_DOORBELL_FAIL_OPEN._value.get()
    try:
        # when a business write records an event
        event = commit_event(partner.pk, 1)
    finally:
        settings.REDIS_URL = reachable
        ratelimit._client = None
    # then the write committed, nothing was published and the failure is counted
    assert Event.objects.filter(pk=event.pk, dispatched_at__isnull=True).exists()
    assert fan_out_messages() == 0
    assert metrics.OUTBOX_DOORBELL_FAIL_OPEN._value.get() == before + 1
    # and the sweep fans it out and queues its delivery
    assert webhooks_sweep(now=event.created_at + SWEEP_FAN_OUT_AGE * 2).events_fanned_out == 1
    delivery = WebhookDelivery.objects.get(event=event, subscription=subscription)
    assert queued("partners.tasks.webhook_deliver") == [[delivery.pk]]


@pytest.mark.concurrency
def test_a_real_worker_fans_out_a_stream_of_commits_and_a_lone_event_without_the_sweep(celery_worker: object) -> None:
    # given a running worker (no beat: the sweep never runs here)
    partner = PartnerFactory.create()
    webhook_subscription_create(partner=partner, url="http://127.0.0.1:9/h", event_types=["*"])
    WebhookSubscription.objects.update(is_active=False)  # deliveries are not the point; fan-out is
    # when events commit one by one for a couple of seconds, from two threads
    ids: list[int] = []

    def writer(start: int) -> None:
        try:
            for n in range(start, start + 20):
                ids.append(commit_event(partner.pk, n).pk)
                time.sleep(0.05)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(start,)) for start in (0, 100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then every event is fanned out soon after the last commit (the worker started meanwhile)
    assert len(ids) == 40
    wait_for(lambda: not Event.objects.filter(pk__in=ids, dispatched_at__isnull=True).exists(), timeout_s=20)
    # and a lone event, once the worker is idle, within about a second: no sweep is involved
    lone = commit_event(partner.pk, 999)
    committed = time.monotonic()
    wait_for(lambda: Event.objects.filter(pk=lone.pk, dispatched_at__isnull=False).exists(), timeout_s=5)
    assert time.monotonic() - committed < 3


def test_a_fan_out_queues_each_subscriptions_deliveries_in_tasks_of_a_bounded_size(settings: Any) -> None:
    # given two partners with a subscription each and the operator's for every partner's events
    acme, other = PartnerFactory.create(), PartnerFactory.create()
    acme_hook, _ = webhook_subscription_create(partner=acme, url="http://127.0.0.1:9/a", event_types=["*"])
    other_hook, _ = webhook_subscription_create(partner=other, url="http://127.0.0.1:9/o", event_types=["*"])
    operator_hook, _ = webhook_subscription_create(partner=None, url="http://127.0.0.1:9/op", event_types=["*"])
    acme_events = [NewEvent(type="stock.changed", payload={"n": n}, partner_id=acme.pk) for n in range(23)]
    assert len(acme_events) == DELIVERIES_PER_TASK + 3
    events_record(events=[*acme_events, NewEvent(type="stock.changed", payload={"n": 0}, partner_id=other.pk)])
    broker().delete("celery")
    # when one fan-out takes them all
    assert events_fan_out_pending().events == DELIVERIES_PER_TASK + 4
    # then each subscription's deliveries are queued in tasks of at most DELIVERIES_PER_TASK,
    # never two subscriptions in one task, and a lone delivery as a task of its own
    ids = {
        hook.pk: set(WebhookDelivery.objects.filter(subscription=hook).values_list("pk", flat=True))
        for hook in (acme_hook, other_hook, operator_hook)
    }
    chunks = [set(args[0]) for args in queued("partners.tasks.webhook_deliver_many")]
    assert sorted(map(len, chunks)) == sorted([DELIVERIES_PER_TASK, 3, DELIVERIES_PER_TASK, 4])
    assert all(chunk <= ids[acme_hook.pk] or chunk <= ids[operator_hook.pk] for chunk in chunks)
    assert set().union(*chunks) == ids[acme_hook.pk] | ids[operator_hook.pk]
    assert queued("partners.tasks.webhook_deliver") == [[next(iter(ids[other_hook.pk]))]]
    # and a task of several makes each attempt once, a repeat of it none
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    with running_receiver([200]) as receiver:
        WebhookSubscription.objects.filter(pk=acme_hook.pk).update(url=receiver.url)
        [chunk] = [sorted(chunk) for chunk in chunks if len(chunk) == 3]
        assert webhook_deliver_many(chunk) == 3
        assert webhook_deliver_many(chunk) == 0
    assert sorted(json.loads(r.body)["data"]["n"] for r in receiver.successes) == sorted(
        WebhookDelivery.objects.filter(pk__in=chunk).values_list("event__payload__n", flat=True)
    )
