"""Strict types in webhook bodies: numbers are JSON integers, flags JSON
booleans, text free of control characters; an unknown field is refused
before any other check, its name sanitised."""

import json
from typing import Any

import pytest

from partners.models import CallerKind, WebhookSubscription
from tests.factories import api_as, make_client
from tests.inventory.factories import problem

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/hooks"  # test settings allow loopback targets


def errors(response: Any) -> list[tuple[str, str]]:
    assert response.status_code == 422, response.content[:300]
    return [(e["field"], e["code"]) for e in problem(response)["errors"]]


@pytest.fixture
def api() -> Any:
    return api_as(make_client(CallerKind.PARTNER))


@pytest.mark.parametrize("value", ["60", 60.0, True])
def test_keep_previous_seconds_is_a_json_integer(api, value: Any) -> None:
    created = api.post("/api/v1/webhooks", {"url": URL, "event_types": ["*"]}, format="json").json()

    response = api.post(
        f"/api/v1/webhooks/{created['id']}/rotate-secret", {"keep_previous_seconds": value}, format="json"
    )

    assert errors(response) == [("keep_previous_seconds", "invalid")]
    assert WebhookSubscription.objects.get(pk=created["id"]).secret_rotated_at is None


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"url": URL, "event_types": ["*"], "is_active": "true"}, "is_active", "invalid"),
        ({"url": URL, "event_types": ["stock.changed\x00"]}, "event_types.0", "invalid_characters"),
        ({"url": URL, "event_types": [5]}, "event_types.0", "invalid"),
        ({"url": URL + "\x00", "event_types": ["*"]}, "url", "invalid_characters"),
        ({"url": URL, "event_types": ["*"], "description": "\x1b[31m"}, "description", "invalid_characters"),
        ({"url": 5, "event_types": ["*"], "sec\x00ret": "whsec_mine"}, "sec\ufffdret", "unknown_field"),
    ],
)
def test_a_lax_or_unclean_webhook_body_is_a_422(api, body: dict[str, Any], field: str, code: str) -> None:
    response = api.post("/api/v1/webhooks", json.dumps(body), content_type="application/json")

    assert errors(response) == [(field, code)]
    assert not WebhookSubscription.objects.exists()
