"""RFC 7662 token introspection (/oauth/introspect/, gateway/api/oauth.py):
only confidential clients may ask, an operator client about any token,
any other client about its own tokens only, and everyone else gets a
JSON 401 ``invalid_client``, never an HTML page."""

import base64
from typing import Any

import pytest
from django.test import Client

from partners.models import ApiClient, CallerKind
from tests.factories import PartnerFactory, UserFactory, make_client, token_for

pytestmark = pytest.mark.django_db

URL = "/oauth/introspect/"
SECRET = "introspection-secret"


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def introspect(token: str, client: ApiClient, secret: str = SECRET) -> Any:
    return Client().post(URL, {"token": token}, headers={"Authorization": basic(client.client_id, secret)})


def confidential(kind: str, **kwargs: Any) -> ApiClient:
    return make_client(kind, secret=SECRET, **kwargs)


def shopper_token() -> tuple[ApiClient, str]:
    app = make_client(CallerKind.SHOPPER)
    user = UserFactory.create(username="ada")
    return app, token_for(app, user=user, scopes=["orders:read"])


def assert_invalid_client(response: Any) -> None:
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "invalid_client"
    assert response["WWW-Authenticate"] == 'Basic realm="oauth"'


def test_an_operator_client_learns_about_any_token_and_the_answer_is_not_cached() -> None:
    operator = confidential(CallerKind.OPERATOR)
    app, raw = shopper_token()
    response = introspect(raw, operator)
    assert response.status_code == 200
    body = response.json()
    assert body["active"] is True
    assert body["client_id"] == app.client_id
    assert body["scope"] == "orders:read"
    assert body["username"] == "ada"
    assert isinstance(body["exp"], int)
    assert response["Cache-Control"] == "no-store"


def test_a_partner_client_learns_about_its_own_tokens_only() -> None:
    acme = confidential(CallerKind.PARTNER)
    other = make_client(CallerKind.PARTNER)
    _app, shopper = shopper_token()
    assert introspect(token_for(acme), acme).json()["active"] is True
    # a live token of someone else reads exactly like an unknown one: nothing leaks
    assert introspect(token_for(other), acme).json() == {"active": False}
    assert introspect(shopper, acme).json() == {"active": False}
    assert introspect("no-such-token", acme).json() == {"active": False}


def test_a_sibling_client_of_the_same_partner_is_someone_else() -> None:
    partner = PartnerFactory.create()
    sync = confidential(CallerKind.PARTNER, partner=partner)
    reporting = make_client(CallerKind.PARTNER, partner=partner)
    assert introspect(token_for(reporting), sync).json() == {"active": False}


def test_client_credentials_in_the_form_body_are_accepted_with_the_same_rule() -> None:
    till = confidential(CallerKind.STORE)
    other_till = make_client(CallerKind.STORE)
    own = Client().post(URL, {"token": token_for(till), "client_id": till.client_id, "client_secret": SECRET})
    theirs = Client().post(URL, {"token": token_for(other_till), "client_id": till.client_id, "client_secret": SECRET})
    assert own.json()["active"] is True
    assert theirs.json() == {"active": False}


def test_a_public_shopper_app_is_refused_even_about_its_own_tokens() -> None:
    app, raw = shopper_token()
    assert_invalid_client(Client().post(URL, {"token": raw, "client_id": app.client_id}))
    assert_invalid_client(Client().post(URL, {"token": raw, "client_id": app.client_id, "client_secret": ""}))
    assert_invalid_client(introspect(raw, app, secret=""))


@pytest.mark.parametrize(
    "authorization",
    ["", "wrong secret", "unknown client", "not base64", "bearer token of an operator"],
)
def test_no_or_bad_credentials_get_a_json_401_invalid_client(authorization: str) -> None:
    operator = confidential(CallerKind.OPERATOR)
    _app, raw = shopper_token()
    header = {
        "": None,
        "wrong secret": basic(operator.client_id, "wrong"),
        "unknown client": basic("nobody", SECRET),
        "not base64": "Basic %%%",
        "bearer token of an operator": f"Bearer {token_for(operator)}",
    }[authorization]
    response = Client().post(URL, {"token": raw}, headers={"Authorization": header} if header else {})
    assert_invalid_client(response)
    assert "active" not in response.json()


def test_a_client_of_a_deactivated_partner_may_not_introspect() -> None:
    partner = PartnerFactory.create()
    acme = confidential(CallerKind.PARTNER, partner=partner)
    raw = token_for(acme)
    partner.is_active = False
    partner.save(update_fields=["is_active"])
    assert_invalid_client(introspect(raw, acme))


def test_a_token_the_api_refuses_is_inactive() -> None:
    operator = confidential(CallerKind.OPERATOR)
    partner = PartnerFactory.create()
    acme = make_client(CallerKind.PARTNER, partner=partner)
    expired, live = token_for(acme, ttl_seconds=-1), token_for(acme)
    assert introspect(expired, operator).json() == {"active": False}
    # the partner is switched off: its clients' tokens no longer open the API, so they are not active
    partner.is_active = False
    partner.save(update_fields=["is_active"])
    assert introspect(live, operator).json() == {"active": False}


def test_the_token_travels_in_a_post_body_only() -> None:
    operator = confidential(CallerKind.OPERATOR)
    raw = token_for(operator)
    in_query = Client().get(URL, {"token": raw}, HTTP_AUTHORIZATION=basic(operator.client_id, SECRET))
    assert in_query.status_code == 405
    assert in_query.json()["error"] == "invalid_request"
    assert in_query["Allow"] == "POST"
    missing = Client().post(URL, {}, HTTP_AUTHORIZATION=basic(operator.client_id, SECRET))
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"
