"""Deleting a webhook subscription while its deliveries are in flight, with
real threads on their own database connections: workers recording attempts
and the fan-out creating deliveries, racing ``DELETE /api/v1/webhooks/{id}``.

Each test repeats the race for many rounds: a single round may miss the
window (it is milliseconds wide), the whole loop does not."""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from partners.models import CallerKind, Event, WebhookAttempt, WebhookDelivery, WebhookSubscription
from partners.services import event_record, events_fan_out
from partners.services.delivery import webhook_delivery_attempt
from tests.factories import PartnerFactory, api_as, make_client
from tests.partners.test_webhook_support import running_receiver

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

ROUNDS = 12
WORKERS = 4


@pytest.fixture
def acme() -> Any:
    return make_client(CallerKind.PARTNER, partner=PartnerFactory.create())


def subscribe(api: APIClient, url: str) -> int:
    response = api.post("/api/v1/webhooks", {"url": url, "event_types": ["stock.changed"]}, format="json")
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def delete(api: APIClient, subscription_id: int) -> str:
    """The answer's status, or the exception the request raised (the test
    client re-raises what a view let escape, such as an IntegrityError)."""
    try:
        return str(api.delete(f"/api/v1/webhooks/{subscription_id}").status_code)
    except Exception as exc:
        return type(exc).__name__


def run_workers(work: Callable[[], None], count: int) -> tuple[list[threading.Thread], list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # reported to the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads, errors


def attempts_racing_a_delete(api: APIClient, partner_id: int, url: str) -> tuple[str, list[object], int]:
    """Workers attempt a burst of 60 deliveries of a new subscription; once
    they have recorded a few, the subscription is deleted through the API.
    Returns the delete's answer, what the workers' attempts returned, and
    the subscription's id."""
    subscription_id = subscribe(api, url)
    events = [event_record(type="stock.changed", payload={"n": n}, partner_id=partner_id) for n in range(60)]
    queue = events_fan_out(event_ids=[e.pk for e in events]).delivery_ids
    lock, started = threading.Lock(), threading.Event()
    results: list[object] = []

    def attempt_until_empty() -> None:
        while True:
            with lock:
                if not queue:
                    return
                delivery_id = queue.pop(0)
            results.append(webhook_delivery_attempt(delivery_id=delivery_id))
            if len(results) >= WORKERS:
                started.set()

    threads, errors = run_workers(attempt_until_empty, WORKERS)
    started.wait(timeout=10)
    status = delete(api, subscription_id)
    for thread in threads:
        thread.join()
    assert errors == []
    return status, results, subscription_id


def test_a_subscription_deleted_while_attempts_are_being_recorded_answers_204_and_leaves_nothing(acme: Any) -> None:
    api = api_as(acme)
    with running_receiver([200]) as receiver:
        for round_number in range(ROUNDS):
            # given workers attempting a burst of deliveries, when the partner deletes the subscription meanwhile
            status, results, subscription_id = attempts_racing_a_delete(api, acme.partner_id, receiver.url)
            # then the delete succeeded (the workers saw no error either) and nothing is left recorded against it
            assert status == "204", f"round {round_number}"
            assert not WebhookSubscription.objects.filter(pk=subscription_id).exists()
            assert not WebhookDelivery.objects.filter(subscription_id=subscription_id).exists()
            assert not WebhookAttempt.objects.filter(delivery__subscription_id=subscription_id).exists()
            assert any(r is not None for r in results), "the delete came before any attempt: no race"


def fan_outs_racing_a_delete(api: APIClient, partner_id: int) -> tuple[str, int]:
    """Workers record and fan out events for a new subscription until it has
    been deleted through the API. Returns the delete's answer and the id."""
    subscription_id = subscribe(api, "http://127.0.0.1:9/hooks")
    stop, started = threading.Event(), threading.Event()

    def fan_out_until_stopped() -> None:
        while not stop.is_set():
            event = event_record(type="stock.changed", payload={}, partner_id=partner_id)
            events_fan_out(event_ids=[event.pk])
            started.set()

    threads, errors = run_workers(fan_out_until_stopped, WORKERS)
    started.wait(timeout=10)
    status = delete(api, subscription_id)
    stop.set()
    for thread in threads:
        thread.join()
    assert errors == []
    return status, subscription_id


def test_a_subscription_deleted_while_events_are_fanned_out_answers_204_and_gets_no_delivery(acme: Any) -> None:
    api = api_as(acme)
    for round_number in range(ROUNDS):
        # given workers fanning out events it receives, when the partner deletes the subscription meanwhile
        status, subscription_id = fan_outs_racing_a_delete(api, acme.partner_id)
        # then the delete succeeded, no fan-out failed, each event was fanned out and none to it
        assert status == "204", f"round {round_number}"
        assert not WebhookDelivery.objects.filter(subscription_id=subscription_id).exists()
        assert not Event.objects.filter(dispatched_at__isnull=True).exists()
