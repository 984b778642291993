"""Partners' selectors answer "absent or not yours" with a domain error
(partners.errors.ObjectNotFound) instead of Django's Http404, and the answer
clients get is exactly the one Http404 gave: 404 ``not_found`` with DRF's
"Not found." detail, translated."""

from typing import Any

import pytest
from django.utils import translation
from rest_framework.exceptions import NotFound

from partners import selectors
from partners.callers import Caller
from partners.errors import ObjectNotFound
from partners.models import CallerKind
from tests.factories import api_as, make_client

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/hooks"  # test settings allow loopback targets


def _subscription_of_another_partner() -> int:
    response = api_as(make_client(CallerKind.PARTNER)).post(
        "/api/v1/webhooks", {"url": URL, "event_types": ["stock.changed"]}, format="json"
    )
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def _what_http404_answered(language: str) -> dict[str, Any]:
    """The members of the body Http404 produced (DRF's NotFound), request id and path aside."""
    with translation.override(language):
        detail = str(NotFound().detail)
    return {"type": "/problems/not-found", "status": 404, "code": "not_found", "detail": detail}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_another_partners_objects_answer_as_http404_did(language: str) -> None:
    # Given a partner, another partner's client and subscription, and the operator
    acme = make_client(CallerKind.PARTNER)
    other = make_client(CallerKind.PARTNER)
    theirs = _subscription_of_another_partner()
    paths = [
        (acme, f"/api/v1/partners/me/clients/{other.client_id}"),
        (acme, f"/api/v1/webhooks/{theirs}"),
        (acme, f"/api/v1/webhooks/{theirs}/deliveries"),
        (make_client(CallerKind.OPERATOR), "/api/v1/partners/me"),
    ]
    expected = _what_http404_answered(language)
    for client, path in paths:
        # When the partner (or the operator, who has no partner) asks for it
        response = api_as(client).get(path, HTTP_ACCEPT_LANGUAGE=language)
        # Then the answer is the one Http404 gave, in the asked language
        body = response.json()
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/problem+json"
        assert {key: body[key] for key in expected} == expected, path
        assert body["instance"] == path


def test_the_french_detail_is_translated() -> None:
    # The comparison above must be able to fail on language: DRF's catalogue says it in French.
    assert _what_http404_answered("fr")["detail"] != _what_http404_answered("en")["detail"]


def test_selectors_raise_the_domain_error_not_http404() -> None:
    # Given a client without a partner and one with
    operator = Caller(client=make_client(CallerKind.OPERATOR), scopes=frozenset())
    acme = Caller(client=make_client(CallerKind.PARTNER), scopes=frozenset())
    # When they ask for what is absent or not theirs, then the domain error is raised
    with pytest.raises(ObjectNotFound):
        selectors.partner_of_caller(caller=operator)
    with pytest.raises(ObjectNotFound):
        selectors.api_client_get(caller=acme, client_id="no-such-client")
    with pytest.raises(ObjectNotFound):
        selectors.webhook_subscription_get(caller=acme, subscription_id=_subscription_of_another_partner())
