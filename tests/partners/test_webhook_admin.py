"""The admin shows subscriptions and the delivery log, never a signing secret."""

from typing import Any

import pytest

from partners.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from partners.services import event_record, events_fan_out
from partners.services.webhooks import webhook_subscription_create
from tests.factories import PartnerFactory, UserFactory


@pytest.fixture
def admin_client(client: Any) -> Any:
    client.force_login(UserFactory.create(is_staff=True, is_superuser=True))
    return client


@pytest.mark.django_db
def test_pages_render_without_the_secret_in_clear_or_encrypted(admin_client: Any) -> None:
    partner = PartnerFactory.create()
    subscription, secret = webhook_subscription_create(partner=partner, url="http://127.0.0.1:9/h", event_types=["*"])
    event = event_record(type="stock.changed", payload={"sku": "A"}, partner_id=partner.pk)
    (delivery_id,) = events_fan_out(event_ids=[event.pk]).delivery_ids
    pages = [
        "/admin/partners/webhooksubscription/",
        f"/admin/partners/webhooksubscription/{subscription.pk}/change/",
        "/admin/partners/webhookdelivery/",
        f"/admin/partners/webhookdelivery/{delivery_id}/change/",
        "/admin/partners/event/",
    ]
    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        assert secret not in html
        assert secret.removeprefix("whsec_") not in html
        assert subscription.secret_encrypted not in html


@pytest.mark.django_db
def test_disabling_in_the_admin_goes_through_the_versioned_update(admin_client: Any) -> None:
    subscription, _ = webhook_subscription_create(partner=None, url="http://127.0.0.1:9/h", event_types=["*"])
    response = admin_client.post(
        f"/admin/partners/webhooksubscription/{subscription.pk}/change/", {"description": "paused by ops"}
    )
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.is_active, subscription.description, subscription.version) == (False, "paused by ops", 2)
    assert subscription.disabled_at is not None


@pytest.mark.django_db
def test_the_redeliver_action_queues_deliveries_of_active_subscriptions(admin_client: Any) -> None:
    partner = PartnerFactory.create()
    active, _ = webhook_subscription_create(partner=partner, url="http://127.0.0.1:9/a", event_types=["*"])
    disabled, _ = webhook_subscription_create(partner=partner, url="http://127.0.0.1:9/b", event_types=["*"])
    event = event_record(type="stock.changed", payload={"sku": "A"}, partner_id=partner.pk)
    events_fan_out(event_ids=[event.pk])
    WebhookDelivery.objects.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
    WebhookSubscription.objects.filter(pk=disabled.pk).update(is_active=False)
    admin_client.post(
        "/admin/partners/webhookdelivery/",
        {"action": "redeliver", "_selected_action": list(WebhookDelivery.objects.values_list("pk", flat=True))},
    )
    statuses = dict(WebhookDelivery.objects.values_list("subscription_id", "status"))
    assert statuses == {active.pk: DeliveryStatus.PENDING, disabled.pk: DeliveryStatus.FAILED}
