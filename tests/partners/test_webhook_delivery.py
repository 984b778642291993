"""Signed delivery to a real HTTP receiver on loopback: signatures, retries
with the same webhook-id, exactly one send per success, disabling.

Retries are driven without sleeping: each attempt runs at the time the
previous one scheduled (``now=delivery.next_attempt_at``)."""

import datetime as dt
import itertools
import threading
import time
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gateway.api.instants import instant_text
from partners.models import DeliveryStatus, Event, WebhookDelivery, WebhookSubscription
from partners.services import event_record, events_fan_out
from partners.services.delivery import MAX_SCHEDULED_ATTEMPTS, RETRY_DELAYS, webhook_delivery_attempt
from partners.services.webhooks import webhook_subscription_create, webhook_subscription_rotate_secret
from tests.factories import LocationFactory, PartnerFactory
from tests.partners.test_webhook_support import running_receiver, verify_standard_webhook

PAYLOAD = {"sku": "ACME-001", "location": "PAR01", "on_hand": 12, "reserved": 2, "available": 10, "reason": "sale"}


def subscribe(url: str, partner: Any, types: tuple[str, ...] = ("stock.changed",)) -> tuple[WebhookSubscription, str]:
    return webhook_subscription_create(partner=partner, url=url, event_types=list(types))


def record_and_fan_out(partner: Any, payload: dict[str, Any] | None = None) -> WebhookDelivery:
    event = event_record(
        type="stock.changed", payload=payload or PAYLOAD, partner_id=partner.pk, subject="stock:PAR01:ACME-001"
    )
    (delivery_id,) = events_fan_out(event_ids=[event.pk]).delivery_ids
    return WebhookDelivery.objects.get(pk=delivery_id)


def attempt_when_due(delivery: WebhookDelivery) -> Any:
    delivery.refresh_from_db()
    assert delivery.next_attempt_at is not None
    return webhook_delivery_attempt(delivery_id=delivery.pk, now=delivery.next_attempt_at)


@pytest.mark.django_db
def test_a_receiver_failing_three_times_gets_the_event_once_per_success_with_the_same_webhook_id() -> None:
    # given a partner's endpoint that fails three times, then accepts
    partner = PartnerFactory.create()
    with running_receiver([500, 503, 502, 200]) as receiver:
        subscription, secret = subscribe(receiver.url, partner)
        delivery = record_and_fan_out(partner)
        # when each attempt runs at the time the previous one scheduled
        due_times: list[dt.datetime] = []
        for _ in range(4):
            delivery.refresh_from_db()
            assert delivery.next_attempt_at is not None
            due_times.append(delivery.next_attempt_at)
            assert attempt_when_due(delivery) is not None
        # and a duplicate task comes later
        late = due_times[-1] + dt.timedelta(days=1)
        assert webhook_delivery_attempt(delivery_id=delivery.pk, now=late) is None
    # then the receiver saw four requests, one success, all with one webhook-id, all signed
    assert len(receiver.requests) == 4
    assert len(receiver.successes) == 1
    assert {r.headers["webhook-id"] for r in receiver.requests} == {f"msg_{delivery.event_id}"}
    assert all(verify_standard_webhook(secret=secret, headers=r.headers, body=r.body) for r in receiver.requests)
    assert len({r.headers["webhook-timestamp"] for r in receiver.requests}) == 4  # re-signed per attempt
    event = Event.objects.get(pk=delivery.event_id)
    assert receiver.requests[0].json == {
        "type": "stock.changed",
        "timestamp": instant_text(event.created_at),
        "data": PAYLOAD,
    }
    # and the retries followed the schedule (5 s, 5 min, 30 min) within the +/-10 % jitter
    gaps = [later - earlier for earlier, later in itertools.pairwise(due_times)]
    for gap, expected in zip(gaps, RETRY_DELAYS, strict=False):
        assert expected * 0.9 <= gap <= expected * 1.1
    # and every attempt is logged
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempt_count == 4
    assert [(a.number, a.status_code, a.succeeded) for a in delivery.attempts.order_by("number")] == [
        (1, 500, False),
        (2, 503, False),
        (3, 502, False),
        (4, 200, True),
    ]
    subscription.refresh_from_db()
    assert subscription.failing_since is None


@pytest.mark.django_db
def test_the_independent_verifier_rejects_a_wrong_secret_or_an_altered_body() -> None:
    # given a delivered, signed event
    partner = PartnerFactory.create()
    with running_receiver([204]) as receiver:
        _, secret = subscribe(receiver.url, partner)
        attempt_when_due(record_and_fan_out(partner))
    received = receiver.requests[0]
    _, other_secret = subscribe(receiver.url, partner)
    # then only the subscription's own secret and the exact body verify
    assert verify_standard_webhook(secret=secret, headers=received.headers, body=received.body)
    assert not verify_standard_webhook(secret=other_secret, headers=received.headers, body=received.body)
    assert not verify_standard_webhook(secret=secret, headers=received.headers, body=received.body + b" ")


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_two_workers_running_the_same_delivery_at_once_send_it_once() -> None:
    # given a due delivery and a receiver slow enough for the two tasks to overlap
    partner = PartnerFactory.create()
    with running_receiver([200], delay_s=0.5) as receiver:
        subscribe(receiver.url, partner)
        delivery = record_and_fan_out(partner)
        results: list[Any] = []
        barrier = threading.Barrier(2)

        def run() -> None:
            barrier.wait()
            try:
                results.append(webhook_delivery_attempt(delivery_id=delivery.pk))
            finally:
                connection.close()

        # when two workers run it at the same moment
        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    # then one request was sent and one attempt logged
    assert len(receiver.requests) == 1
    assert sum(1 for r in results if r is not None) == 1
    assert WebhookDelivery.objects.get(pk=delivery.pk).attempts.count() == 1


@pytest.mark.django_db
def test_a_redirect_is_not_followed_and_counts_as_a_failure() -> None:
    # given an endpoint answering 302 to another address
    partner = PartnerFactory.create()
    with running_receiver([302], extra_headers={302: {"Location": "http://127.0.0.1:9/elsewhere"}}) as receiver:
        subscribe(receiver.url, partner)
        delivery = record_and_fan_out(partner)
        # when the attempt runs
        attempt = attempt_when_due(delivery)
    # then one request, a failed attempt, and a retry scheduled
    assert len(receiver.requests) == 1
    assert (attempt.status_code, attempt.succeeded, attempt.error) == (302, False, "redirect_not_followed")
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.scheduled_attempts == 1


@pytest.mark.django_db
def test_retry_after_on_429_pushes_the_next_attempt_later() -> None:
    partner = PartnerFactory.create()
    with running_receiver([429], extra_headers={429: {"Retry-After": "120"}}) as receiver:
        subscribe(receiver.url, partner)
        delivery = record_and_fan_out(partner)
        attempt = attempt_when_due(delivery)
    delivery.refresh_from_db()
    assert delivery.next_attempt_at is not None
    assert delivery.next_attempt_at - attempt.attempted_at >= dt.timedelta(seconds=120)


@pytest.mark.django_db
def test_a_receiver_that_hangs_times_out_and_is_retried() -> None:
    # given an endpoint that answers after 6 s (the read timeout is 5 s)
    partner = PartnerFactory.create()
    with running_receiver([200], delay_s=6) as receiver:
        subscribe(receiver.url, partner)
        delivery = record_and_fan_out(partner)
        attempt = attempt_when_due(delivery)
    # then the attempt failed on the read timeout, and another one is scheduled
    assert (attempt.status_code, attempt.error) == (None, "read_timeout")
    assert 5000 <= attempt.duration_ms < 9000
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING


@pytest.mark.django_db
def test_a_410_gone_disables_the_subscription_and_the_partner_is_told(django_capture_on_commit_callbacks) -> None:
    partner = PartnerFactory.create(contact_email="ops@acme.example")
    with running_receiver([410]) as receiver:
        subscription, _ = subscribe(receiver.url, partner)
        delivery = record_and_fan_out(partner)
        with django_capture_on_commit_callbacks(execute=True):
            attempt_when_due(delivery)
    subscription.refresh_from_db()
    assert not subscription.is_active
    assert "410" in subscription.disabled_reason
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ops@acme.example"]
    assert Event.objects.filter(type="webhook.disabled", partner=partner).count() == 1


@pytest.mark.django_db
def test_an_endpoint_failing_for_a_day_is_disabled_when_a_delivery_exhausts_its_retries(
    django_capture_on_commit_callbacks,
) -> None:
    # given an endpoint that always fails
    partner = PartnerFactory.create(contact_email="ops@acme.example")
    with running_receiver([500]) as receiver:
        subscription, _ = subscribe(receiver.url, partner)
        delivery = record_and_fan_out(partner)
        # when every scheduled attempt runs (about 27 h of retries)
        for _ in range(MAX_SCHEDULED_ATTEMPTS - 1):
            attempt_when_due(delivery)
        subscription.refresh_from_db()
        assert subscription.is_active
        with django_capture_on_commit_callbacks(execute=True):
            attempt_when_due(delivery)
    # then the delivery failed, the subscription is disabled, the partner was told twice over
    assert len(receiver.requests) == MAX_SCHEDULED_ATTEMPTS
    delivery.refresh_from_db()
    assert (delivery.status, delivery.next_attempt_at) == (DeliveryStatus.FAILED, None)
    subscription.refresh_from_db()
    assert not subscription.is_active
    assert subscription.disabled_at is not None
    assert [m.to for m in mail.outbox] == [["ops@acme.example"]]
    assert f"/api/v1/webhooks/{subscription.pk}" in mail.outbox[0].body
    disabled = Event.objects.get(type="webhook.disabled")
    assert disabled.partner_id == partner.pk
    assert disabled.payload["webhook"] == subscription.pk


@pytest.mark.django_db
def test_one_event_the_receiver_rejects_does_not_disable_a_healthy_endpoint() -> None:
    # given an endpoint that rejects one event for good but accepts another one in between
    partner = PartnerFactory.create()
    script = [500] * (MAX_SCHEDULED_ATTEMPTS - 1) + [200, 500]
    with running_receiver(script) as receiver:
        subscription, _ = subscribe(receiver.url, partner)
        poison = record_and_fan_out(partner)
        for _ in range(MAX_SCHEDULED_ATTEMPTS - 1):
            attempt_when_due(poison)
        healthy = record_and_fan_out(partner)
        poison.refresh_from_db()
        assert webhook_delivery_attempt(delivery_id=healthy.pk, now=poison.next_attempt_at) is not None
        # when the rejected event's last try fails
        attempt_when_due(poison)
    # then that delivery failed but the subscription stays active
    assert receiver.answered == script
    poison.refresh_from_db()
    assert poison.status == DeliveryStatus.FAILED
    subscription.refresh_from_db()
    assert subscription.is_active


@pytest.mark.django_db
def test_during_a_rotation_both_secrets_sign_then_only_the_new_one() -> None:
    partner = PartnerFactory.create()
    with running_receiver([200]) as receiver:
        subscription, old_secret = subscribe(receiver.url, partner)
        subscription, new_secret = webhook_subscription_rotate_secret(subscription=subscription)
        attempt_when_due(record_and_fan_out(partner))
        subscription, newest_secret = webhook_subscription_rotate_secret(
            subscription=subscription, keep_previous_seconds=0
        )
        attempt_when_due(record_and_fan_out(partner))
    overlapping, after = receiver.requests
    assert len(overlapping.headers["webhook-signature"].split(" ")) == 2
    assert verify_standard_webhook(secret=old_secret, headers=overlapping.headers, body=overlapping.body)
    assert verify_standard_webhook(secret=new_secret, headers=overlapping.headers, body=overlapping.body)
    assert verify_standard_webhook(secret=newest_secret, headers=after.headers, body=after.body)
    assert not verify_standard_webhook(secret=new_secret, headers=after.headers, body=after.body)


@pytest.mark.django_db
def test_a_disabled_subscription_is_not_called_and_resumes_when_enabled_again() -> None:
    partner = PartnerFactory.create()
    with running_receiver([200]) as receiver:
        subscription, _ = subscribe(receiver.url, partner)
        delivery = record_and_fan_out(partner)
        WebhookSubscription.objects.filter(pk=subscription.pk).update(is_active=False)
        assert attempt_when_due(delivery) is None
        assert receiver.requests == []
        WebhookSubscription.objects.filter(pk=subscription.pk).update(is_active=True)
        assert attempt_when_due(delivery) is not None
    assert len(receiver.requests) == 1


@pytest.mark.django_db
def test_fan_out_matches_audience_and_types_and_happens_once() -> None:
    # given subscriptions of two partners and of the operator
    acme, other = PartnerFactory.create(), PartnerFactory.create()
    url = "http://127.0.0.1:9/unused"
    acme_stock, _ = subscribe(url, acme)
    acme_orders, _ = subscribe(url, acme, types=("order.created",))
    other_all, _ = subscribe(url, other, types=("*",))
    operator_all, _ = webhook_subscription_create(partner=None, url=url, event_types=["*"])
    event = event_record(type="stock.changed", payload=PAYLOAD, partner_id=acme.pk)
    # when the event is fanned out, twice
    first = events_fan_out(event_ids=[event.pk])
    second = events_fan_out(event_ids=[event.pk])
    # then acme's stock subscription and the operator's get it, once
    receivers = set(WebhookDelivery.objects.filter(event=event).values_list("subscription_id", flat=True))
    assert receivers == {acme_stock.pk, operator_all.pk}
    assert (first.events, len(first.delivery_ids)) == (1, 2)
    assert (second.events, second.delivery_ids) == (0, [])
    assert acme_orders.pk not in receivers
    assert other_all.pk not in receivers


@pytest.mark.django_db
def test_fan_out_statements_do_not_grow_with_the_batch_nor_read_payloads() -> None:
    # given a partner subscribed to stock events at a store, and batches of 1 and 30 stock events
    # (after a first one: the store's kind is read once per process, inventory.selectors.locations)
    partner = PartnerFactory.create()
    LocationFactory.create(code=PAYLOAD["location"])
    subscribe("http://127.0.0.1:9/unused", partner)

    def fan_out_statements(count: int) -> list[str]:
        ids = [event_record(type="stock.changed", payload=PAYLOAD, partner_id=partner.pk).pk for _ in range(count)]
        with CaptureQueriesContext(connection) as queries:
            assert len(events_fan_out(event_ids=ids).delivery_ids) == count
        return [query["sql"] for query in queries.captured_queries]

    fan_out_statements(1)
    one, thirty = fan_out_statements(1), fan_out_statements(30)
    # then both cost the same statements, and none reads the events' payloads
    # whole: the read cache's backstop (gateway/api/readcache.py) reads back
    # only the few fields that name its version keys, extracted by PostgreSQL
    assert len(one) == len(thirty), "\n".join(thirty)
    backstop = [sql for sql in thirty if "jsonb_object_agg(k, e.payload -> k)" in sql]
    assert len(backstop) == 1, "\n".join(thirty)
    assert not [sql for sql in thirty if "payload" in sql and sql not in backstop], "\n".join(thirty)


@pytest.mark.django_db
def test_an_attempt_claims_and_reads_in_one_statement_and_records_in_one() -> None:
    # given a due delivery to a receiver that accepts
    partner = PartnerFactory.create()
    with running_receiver([200]) as receiver:
        _subscription, secret = subscribe(receiver.url, partner)
        delivery = record_and_fan_out(partner)
        # when its attempt runs
        with CaptureQueriesContext(connection) as queries:
            attempt = webhook_delivery_attempt(delivery_id=delivery.pk)
    statements = [query["sql"] for query in queries.captured_queries if "SAVEPOINT" not in query["sql"]]
    # then the claim reads the delivery, its subscription and its event at once, and the
    # record is the subscription's KEY SHARE, the delivery's lock and one write (every attempt of
    # a Black Friday's hundreds a second paid for nine statements, most compiled by the ORM)
    assert len(statements) == 4, "\n".join(statements)
    assert attempt is not None
    assert (attempt.number, attempt.succeeded, attempt.status_code) == (1, True, 200)
    assert attempt.pk == delivery.attempts.get().pk
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count, delivery.leased_until) == (DeliveryStatus.SUCCEEDED, 1, None)
    assert delivery.delivered_at == attempt.attempted_at
    [received] = receiver.successes
    assert verify_standard_webhook(secret=secret, headers=received.headers, body=received.body)
    assert received.json["data"] == PAYLOAD


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_a_subscription_deleted_while_its_attempt_is_in_flight_ends_the_attempt_quietly() -> None:
    partner = PartnerFactory.create()
    with running_receiver([200], delay_s=1.0) as receiver:
        subscription, _ = subscribe(receiver.url, partner)
        delivery = record_and_fan_out(partner)

        def delete_meanwhile() -> None:
            try:
                time.sleep(0.3)
                WebhookSubscription.objects.filter(pk=subscription.pk).delete()
            finally:
                connection.close()

        deleter = threading.Thread(target=delete_meanwhile)
        deleter.start()
        result = webhook_delivery_attempt(delivery_id=delivery.pk)
        deleter.join()
    assert result is None
    assert len(receiver.requests) == 1
    assert not WebhookDelivery.objects.exists()
