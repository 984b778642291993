"""The webhook subscription API: secrets shown once, tenant isolation, scopes,
ETag preconditions, bad inputs, the delivery log and redelivery."""

import base64
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partners.models import CallerKind, DeliveryStatus, WebhookDelivery, WebhookSubscription
from partners.services import event_record, events_fan_out
from partners.services.delivery import webhook_delivery_attempt
from partners.services.webhooks import MAX_SUBSCRIPTIONS_PER_OWNER
from tests.factories import PartnerFactory, api_as, make_client
from tests.partners.test_webhook_support import running_receiver, verify_standard_webhook

URL = "http://127.0.0.1:9/hooks"  # test settings allow loopback targets


def new_subscription(api: Any, **fields: Any) -> dict[str, Any]:
    response = api.post("/api/v1/webhooks", {"url": URL, "event_types": ["stock.changed"], **fields}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def acme() -> Any:
    return make_client(CallerKind.PARTNER, partner=PartnerFactory.create(contact_email="ops@acme.example"))


@pytest.mark.django_db
def test_create_shows_the_secret_once_and_never_again(acme: Any) -> None:
    api = api_as(acme)
    response = api.post(
        "/api/v1/webhooks",
        {"url": URL, "event_types": ["stock.changed", "order.created"], "description": "Stock sync"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert len(base64.b64decode(body["secret"].removeprefix("whsec_"))) >= 24
    assert response["Location"] == f"/api/v1/webhooks/{body['id']}"
    assert response["ETag"] == f'"webhook-{body["id"]}-v1"'
    assert body["event_types"] == ["order.created", "stock.changed"]
    assert body["partner_id"] == acme.partner_id
    detail = api.get(f"/api/v1/webhooks/{body['id']}")
    listing = api.get("/api/v1/webhooks")
    assert "secret" not in detail.json()
    assert body["secret"] not in detail.content.decode() + listing.content.decode()
    stored = WebhookSubscription.objects.get(pk=body["id"])
    assert body["secret"] not in stored.secret_encrypted


@pytest.mark.django_db
def test_a_replayed_create_returns_the_same_subscription_and_secret(acme: Any) -> None:
    api = api_as(acme)
    payload = {"url": URL, "event_types": ["*"]}
    first = api.post("/api/v1/webhooks", payload, format="json", HTTP_IDEMPOTENCY_KEY="create-1")
    again = api.post("/api/v1/webhooks", payload, format="json", HTTP_IDEMPOTENCY_KEY="create-1")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["secret"] == first.json()["secret"]
    assert WebhookSubscription.objects.count() == 1


@pytest.mark.django_db
def test_a_partner_cannot_see_or_touch_another_partners_subscription(acme: Any) -> None:
    theirs = new_subscription(api_as(make_client(CallerKind.PARTNER)))
    api = api_as(acme)
    base = f"/api/v1/webhooks/{theirs['id']}"
    assert api.get("/api/v1/webhooks").json()["results"] == []
    assert api.get(base).status_code == 404
    assert api.patch(base, {"description": "x"}, format="json", HTTP_IF_MATCH="*").status_code == 404
    assert api.delete(base).status_code == 404
    assert api.post(f"{base}/rotate-secret", {}, format="json").status_code == 404
    assert api.get(f"{base}/deliveries").status_code == 404
    assert WebhookSubscription.objects.filter(pk=theirs["id"], description="").exists()


@pytest.mark.django_db
def test_the_operator_sees_every_subscription_and_owns_its_own(acme: Any) -> None:
    partners = new_subscription(api_as(acme))
    operator = api_as(make_client(CallerKind.OPERATOR))
    own = new_subscription(operator, event_types=["*"])
    assert own["partner_id"] is None
    assert {s["id"] for s in operator.get("/api/v1/webhooks").json()["results"]} == {partners["id"], own["id"]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/webhooks"),
        ("post", "/api/v1/webhooks"),
        ("get", "/api/v1/events"),
        ("get", "/api/v1/events/types"),
    ],
)
def test_a_token_without_webhooks_manage_gets_403(method: str, path: str) -> None:
    partner_without_scope = api_as(make_client(CallerKind.PARTNER), scopes=["catalog:read"])
    store = api_as(make_client(CallerKind.STORE))
    for api in (partner_without_scope, store):
        response = getattr(api, method)(path, {}, format="json")
        assert response.status_code == 403
        assert response.json()["code"] == "insufficient_scope"


@pytest.mark.django_db
def test_no_token_gets_401() -> None:
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v1/webhooks")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        ({"url": URL, "event_types": ["stock.exploded"]}, "event_types", "unknown_event_type"),
        ({"url": URL, "event_types": []}, "event_types", "min_length"),
        ({"url": URL, "event_types": "stock.changed"}, "event_types", "not_a_list"),
        ({"event_types": ["stock.changed"]}, "url", "required"),
        ({"url": 42, "event_types": ["*"]}, "url", "invalid"),  # text, not a number made text
        ({"url": "ftp://example.com/hooks", "event_types": ["*"]}, "url", "url_scheme_not_allowed"),
        ({"url": URL, "event_types": ["*"], "secret": "whsec_mine"}, "secret", "unknown_field"),
        ({"url": "x" * 2001, "event_types": ["*"]}, "url", "max_length"),
    ],
)
def test_bad_subscriptions_are_422_with_the_field(acme: Any, payload: dict[str, Any], field: str, code: str) -> None:
    response = api_as(acme).post("/api/v1/webhooks", payload, format="json")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert {(e["field"], e["code"]) for e in response.json()["errors"]} == {(field, code)}


@pytest.mark.django_db
def test_malformed_json_is_400(acme: Any) -> None:
    response = api_as(acme).post("/api/v1/webhooks", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


@pytest.mark.django_db
def test_a_partner_has_at_most_twenty_subscriptions(acme: Any) -> None:
    api = api_as(acme)
    for _ in range(MAX_SUBSCRIPTIONS_PER_OWNER):
        new_subscription(api)
    response = api.post("/api/v1/webhooks", {"url": URL, "event_types": ["*"]}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "webhook_limit_reached"


@pytest.mark.django_db
def test_updates_need_the_current_etag(acme: Any) -> None:
    api = api_as(acme)
    created = new_subscription(api)
    path = f"/api/v1/webhooks/{created['id']}"
    etag = api.get(path)["ETag"]
    # without If-Match: 428; with a stale one: 412; an empty change: 422
    assert api.patch(path, {"description": "a"}, format="json").status_code == 428
    assert api.patch(path, {"description": "a"}, format="json", HTTP_IF_MATCH='"webhook-1-v9"').status_code == 412
    assert api.patch(path, {}, format="json", HTTP_IF_MATCH=etag).status_code == 422
    # with the current one: applied, and the ETag moves on
    response = api.patch(path, {"event_types": ["*"], "description": "all"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200
    assert (response.json()["event_types"], response.json()["version"]) == (["*"], 2)
    assert response["ETag"] != etag
    assert api.patch(path, {"description": "b"}, format="json", HTTP_IF_MATCH=etag).status_code == 412
    assert api.get(path, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


@pytest.mark.django_db
def test_a_patch_to_a_private_url_is_refused_in_production(acme: Any, settings: Any) -> None:
    api = api_as(acme)
    created = new_subscription(api)
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    path = f"/api/v1/webhooks/{created['id']}"
    response = api.patch(path, {"url": "https://10.0.0.1/"}, format="json", HTTP_IF_MATCH="*")
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "address_not_public"


@pytest.mark.django_db
def test_re_enabling_clears_the_disable_reason_and_the_failure_clock(acme: Any) -> None:
    api = api_as(acme)
    created = new_subscription(api)
    WebhookSubscription.objects.filter(pk=created["id"]).update(
        is_active=False, disabled_reason="the endpoint answered 410 Gone", failing_since="2026-11-20T00:00:00Z"
    )
    response = api.patch(f"/api/v1/webhooks/{created['id']}", {"is_active": True}, format="json", HTTP_IF_MATCH="*")
    body = response.json()
    assert (body["is_active"], body["disabled_reason"], body["disabled_at"], body["failing_since"]) == (
        True,
        "",
        None,
        None,
    )


@pytest.mark.django_db
def test_delete_removes_the_subscription(acme: Any) -> None:
    api = api_as(acme)
    created = new_subscription(api)
    path = f"/api/v1/webhooks/{created['id']}"
    assert api.delete(path, HTTP_IF_MATCH='"webhook-0-v7"').status_code == 412
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404


@pytest.mark.django_db
def test_rotate_secret_returns_a_new_secret_and_keeps_the_old_one_for_the_overlap(acme: Any) -> None:
    api = api_as(acme)
    created = new_subscription(api)
    path = f"/api/v1/webhooks/{created['id']}/rotate-secret"
    response = api.post(path, {"keep_previous_seconds": 3600}, format="json")
    assert response.status_code == 200
    assert response.json()["secret"].startswith("whsec_")
    assert response.json()["secret"] != created["secret"]
    assert response.json()["previous_secret_expires_at"] is not None
    assert api.post(path, {"keep_previous_seconds": -1}, format="json").status_code == 422
    immediate = api.post(path, {"keep_previous_seconds": 0}, format="json").json()
    assert immediate["previous_secret_expires_at"] is None


@pytest.mark.django_db
def test_event_types_are_listed_with_examples(acme: Any) -> None:
    results = api_as(acme).get("/api/v1/events/types").json()["results"]
    by_type = {r["type"]: r for r in results}
    assert {"stock.changed", "product.changed", "webhook.disabled"} <= set(by_type)
    assert by_type["stock.changed"]["example"]["sku"]


def deliver_events(partner_id: int, count: int) -> list[int]:
    events = [event_record(type="stock.changed", payload={"n": n}, partner_id=partner_id) for n in range(count)]
    return events_fan_out(event_ids=[e.pk for e in events]).delivery_ids


@pytest.mark.django_db
def test_the_delivery_log_lists_newest_first_in_constant_queries(acme: Any) -> None:
    api = api_as(acme)
    created = new_subscription(api)
    path = f"/api/v1/webhooks/{created['id']}/deliveries"
    deliver_events(acme.partner_id, 3)
    api.get(path)  # warm the token
    with CaptureQueriesContext(connection) as few:
        small = api.get(path).json()
    deliver_events(acme.partner_id, 20)
    with CaptureQueriesContext(connection) as many:
        large = api.get(path).json()
    assert len(small["results"]) == 3
    assert len(large["results"]) == 23
    assert len(few.captured_queries) == len(many.captured_queries)
    ids = [d["id"] for d in large["results"]]
    assert ids == sorted(ids, reverse=True)
    assert large["results"][0]["webhook_id"] == f"msg_{large['results'][0]['event']['id']}"
    assert api.get(path, {"status": "pending"}).json()["results"] != []
    assert api.get(path, {"status": "succeeded"}).json()["results"] == []
    bad = api.get(path, {"status": "lost"})
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_query_parameter"
    assert api.get(path, {"updated_since": "yesterday"}).status_code == 400


@pytest.mark.django_db
def test_redelivery_sends_again_with_the_same_webhook_id_and_is_logged(acme: Any) -> None:
    api = api_as(acme)
    with running_receiver([200]) as receiver:
        created = new_subscription(api, url=receiver.url)
        (delivery_id,) = deliver_events(acme.partner_id, 1)
        webhook_delivery_attempt(delivery_id=delivery_id)
        path = f"/api/v1/webhooks/{created['id']}/deliveries/{delivery_id}"
        # when the partner asks for a redelivery (twice with one key)
        response = api.post(f"{path}/redeliver", HTTP_IDEMPOTENCY_KEY="again-1")
        replay = api.post(f"{path}/redeliver", HTTP_IDEMPOTENCY_KEY="again-1")
        assert response.status_code == 202
        assert response.json()["status"] == DeliveryStatus.PENDING
        assert replay["Idempotent-Replayed"] == "true"
        # and the queued task runs
        webhook_delivery_attempt(delivery_id=delivery_id)
        assert webhook_delivery_attempt(delivery_id=delivery_id) is None
    # then the receiver got it twice with one webhook-id, and the log shows both attempts
    assert len(receiver.requests) == 2
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert all(
        verify_standard_webhook(secret=created["secret"], headers=r.headers, body=r.body) for r in receiver.requests
    )
    detail = api.get(path).json()
    assert detail["status"] == DeliveryStatus.SUCCEEDED
    assert [(a["number"], a["trigger"], a["status_code"]) for a in detail["attempts"]] == [
        (1, "scheduled", 200),
        (2, "manual", 200),
    ]
    assert detail["data"] == {"n": 0}


@pytest.mark.django_db
def test_redelivery_of_a_disabled_subscription_is_a_409(acme: Any) -> None:
    api = api_as(acme)
    created = new_subscription(api)
    (delivery_id,) = deliver_events(acme.partner_id, 1)
    WebhookSubscription.objects.filter(pk=created["id"]).update(is_active=False)
    response = api.post(f"/api/v1/webhooks/{created['id']}/deliveries/{delivery_id}/redeliver")
    assert response.status_code == 409
    assert response.json()["code"] == "webhook_disabled"
    assert WebhookDelivery.objects.get(pk=delivery_id).manual_requested is False


@pytest.mark.django_db
def test_a_delivery_of_another_subscription_is_404(acme: Any) -> None:
    api = api_as(acme)
    mine = new_subscription(api)
    other = api_as(make_client(CallerKind.PARTNER))
    theirs = new_subscription(other)
    partner_id = WebhookSubscription.objects.get(pk=theirs["id"]).partner_id
    assert partner_id is not None
    (their_delivery,) = deliver_events(partner_id, 1)
    assert api.get(f"/api/v1/webhooks/{mine['id']}/deliveries/{their_delivery}").status_code == 404
    assert api.post(f"/api/v1/webhooks/{mine['id']}/deliveries/{their_delivery}/redeliver").status_code == 404


@pytest.mark.django_db
def test_disabling_through_the_api_records_when_and_stops_deliveries(acme: Any) -> None:
    api = api_as(acme)
    created = new_subscription(api)
    path = f"/api/v1/webhooks/{created['id']}"
    body = api.patch(path, {"is_active": False}, format="json", HTTP_IF_MATCH="*").json()
    assert (body["is_active"], body["disabled_reason"]) == (False, "disabled through the API")
    assert body["disabled_at"] is not None
    again = api.patch(path, {"is_active": False}, format="json", HTTP_IF_MATCH="*").json()
    assert again["disabled_at"] == body["disabled_at"]
    assert deliver_events(acme.partner_id, 1) == []
