"""End to end through a real Celery worker: a committed event is fanned out
after commit, delivered signed, retried after a failure with the same
webhook-id, and nothing leaves before the commit."""

import time

import pytest
from django.db import transaction

from partners.models import DeliveryStatus, WebhookDelivery
from partners.services import event_record
from partners.services.webhooks import webhook_subscription_create
from tests.factories import PartnerFactory
from tests.partners.test_webhook_support import running_receiver, verify_standard_webhook, wait_for


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_a_committed_event_reaches_the_receiver_through_a_real_worker(celery_worker: object) -> None:
    partner = PartnerFactory.create()
    with running_receiver([500, 200]) as receiver:
        _, secret = webhook_subscription_create(partner=partner, url=receiver.url, event_types=["stock.changed"])
        # when an event is recorded in a transaction that takes a while to commit
        with transaction.atomic():
            event = event_record(type="stock.changed", payload={"sku": "ACME-001"}, partner_id=partner.pk)
            time.sleep(1)
            # then nothing was sent before the commit
            assert receiver.requests == []
        # and after it the worker delivers; the 500 is retried about 5 s later
        wait_for(lambda: len(receiver.requests) >= 2, timeout_s=40)
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == f"msg_{event.pk}"
    assert all(verify_standard_webhook(secret=secret, headers=r.headers, body=r.body) for r in receiver.requests)
    assert 4 <= int(second.headers["webhook-timestamp"]) - int(first.headers["webhook-timestamp"]) <= 7
    delivery = WebhookDelivery.objects.get(event=event)
    assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.SUCCEEDED, 2)
