"""OAuth 2.0 flows end to end, and the django-oauth-toolkit traps closed on purpose."""

import base64
import hashlib
import re
import secrets
import threading
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.test import Client
from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from requests_oauthlib import OAuth2Session

from gateway.api import ratelimit
from partners.models import CallerKind
from tests.factories import PartnerFactory, UserFactory, make_client

AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()
REDIRECT = "http://127.0.0.1:8765/callback"


def client_credentials(client_id: str, secret: str, **extra: str):
    return Client().post(
        "/oauth/token/", {"grant_type": "client_credentials", **extra}, HTTP_AUTHORIZATION=basic(client_id, secret)
    )


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


# ---------------------------------------------------------------- client credentials


@pytest.mark.django_db
def test_client_credentials_token_reaches_the_api() -> None:
    client = make_client(CallerKind.PARTNER, secret="s3cret-value")
    response = client_credentials(client.client_id, "s3cret-value")
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert 0 < body["expires_in"] <= 900, "access tokens are short-lived"
    api = Client().get("/api/v1/partners/me", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert api.status_code == 200


@pytest.mark.django_db
def test_no_scope_asked_gives_the_clients_defaults_not_everything() -> None:
    client = make_client(CallerKind.PARTNER, secret="s", scopes=["inventory:read", "inventory:write"])
    client.default_scopes = "inventory:read"
    client.save(update_fields=["default_scopes"])
    body = client_credentials(client.client_id, "s").json()
    assert body["scope"] == "inventory:read"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "scope", ["orders:fulfil", "inventory:read partners:manage footfall:ingest", "__all__", "read"]
)
def test_scope_escalation_is_refused(scope: str) -> None:
    client = make_client(CallerKind.PARTNER, secret="s", scopes=["inventory:read", "partners:manage"])
    response = client_credentials(client.client_id, "s", scope=scope)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert not AccessToken.objects.filter(application=client).exists()


@pytest.mark.django_db
def test_a_subset_of_allowed_scopes_is_granted() -> None:
    client = make_client(CallerKind.PARTNER, secret="s", scopes=["inventory:read", "partners:manage"])
    assert client_credentials(client.client_id, "s", scope="inventory:read").json()["scope"] == "inventory:read"


@pytest.mark.django_db
def test_wrong_secret_is_invalid_client() -> None:
    client = make_client(CallerKind.PARTNER, secret="right")
    response = client_credentials(client.client_id, "wrong")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.django_db
def test_clients_of_a_deactivated_partner_get_no_token_and_lose_access() -> None:
    partner = PartnerFactory.create()
    client = make_client(CallerKind.PARTNER, partner=partner, secret="s")
    token = client_credentials(client.client_id, "s").json()["access_token"]
    partner.is_active = False
    partner.save(update_fields=["is_active"])
    assert client_credentials(client.client_id, "s").status_code == 401
    assert Client().get("/api/v1/partners/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


@pytest.mark.django_db
def test_tokens_are_stored_hashed_not_in_clear() -> None:
    client = make_client(CallerKind.PARTNER, secret="s")
    raw = client_credentials(client.client_id, "s").json()["access_token"]
    stored = AccessToken.objects.get(application=client)
    assert stored.token == ""
    assert stored.token_checksum == hashlib.sha256(raw.encode()).hexdigest()


@pytest.mark.django_db
def test_token_in_query_string_is_not_accepted() -> None:
    client = make_client(CallerKind.PARTNER, secret="s")
    raw = client_credentials(client.client_id, "s").json()["access_token"]
    assert Client().get(f"/api/v1/partners/me?access_token={raw}").status_code == 401


@pytest.mark.django_db
def test_expired_token_is_refused() -> None:
    from tests.factories import token_for

    client = make_client(CallerKind.PARTNER)
    raw = token_for(client, ttl_seconds=-1)
    response = Client().get("/api/v1/partners/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


@pytest.mark.django_db
def test_revoked_token_stops_working() -> None:
    client = make_client(CallerKind.PARTNER, secret="s")
    raw = client_credentials(client.client_id, "s").json()["access_token"]
    revoke = Client().post("/oauth/revoke/", {"token": raw}, HTTP_AUTHORIZATION=basic(client.client_id, "s"))
    assert revoke.status_code == 200
    assert Client().get("/api/v1/partners/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


@pytest.mark.django_db
def test_introspection_reports_active_tokens_to_authenticated_clients() -> None:
    client = make_client(CallerKind.OPERATOR, secret="s")
    raw = client_credentials(client.client_id, "s").json()["access_token"]
    response = Client().post("/oauth/introspect/", {"token": raw}, HTTP_AUTHORIZATION=basic(client.client_id, "s"))
    assert response.status_code == 200
    assert response.json()["active"] is True
    anonymous = Client().post("/oauth/introspect/", {"token": raw})
    assert anonymous.status_code == 401  # the rules: tests/gateway/test_introspection.py


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/oauth/applications/", "/oauth/applications/register/", "/oauth/authorized-tokens/"])
def test_application_registration_views_are_not_mounted(path: str) -> None:
    user = UserFactory.create()
    browser = Client()
    browser.force_login(user)
    assert browser.get(path).status_code == 404


@pytest.mark.django_db
def test_token_endpoint_is_rate_limited_per_client(settings) -> None:
    settings.RATE_LIMIT_TOKEN_REQUESTS = 2
    client = make_client(CallerKind.PARTNER, secret="s")
    statuses = [client_credentials(client.client_id, "s").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = client_credentials(client.client_id, "s")
    assert limited.json()["error"] == "slow_down"
    assert int(limited["Retry-After"]) > 0


@pytest.mark.django_db
def test_token_endpoint_fails_closed_without_redis(settings) -> None:
    client = make_client(CallerKind.PARTNER, secret="s")
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    ratelimit._client = None
    try:
        response = client_credentials(client.client_id, "s")
    finally:
        ratelimit._client = None
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
    assert not AccessToken.objects.filter(application=client).exists()


# ---------------------------------------------------------------- authorization code + PKCE


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def logged_in_session(base_url: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base_url}/accounts/login/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert csrf is not None
    done = session.post(
        f"{base_url}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": csrf.group(1), "next": "/health/live"},
        headers={"Referer": f"{base_url}/accounts/login/"},
    )
    assert done.status_code == 200, done.text
    return session


@pytest.fixture
def shopper_app(transactional_db):
    client = make_client(CallerKind.SHOPPER, scopes=["catalog:read", "orders:read", "orders:write"])
    user = UserFactory.create(username="alice")
    user.set_password("correct horse battery")
    user.save()
    return client, user


@pytest.fixture
def insecure_transport(monkeypatch):
    # oauthlib refuses http:// unless told; the live test server is plain http on loopback.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


def authorize(session: requests.Session, base_url: str, oauth: OAuth2Session) -> str:
    url, _state = oauth.authorization_url(f"{base_url}/oauth/authorize/")
    response = session.get(url, allow_redirects=False)
    assert response.status_code == 302, response.text[:500]
    return response.headers["Location"]


def test_authorization_code_with_pkce_and_refresh_rotation(live_server, shopper_app, insecure_transport) -> None:
    client, _user = shopper_app
    session = logged_in_session(live_server.url, "alice", "correct horse battery")
    oauth = OAuth2Session(client.client_id, redirect_uri=REDIRECT, scope=["orders:read"], pkce="S256")
    callback = authorize(session, live_server.url, oauth)
    assert callback.startswith(REDIRECT)
    token = oauth.fetch_token(
        f"{live_server.url}/oauth/token/", authorization_response=callback, include_client_id=True
    )
    assert token["scope"] == ["orders:read"]
    assert "refresh_token" in token

    me = requests.get(f"{live_server.url}/health/live", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.status_code == 200

    first_refresh = token["refresh_token"]
    refreshed = oauth.refresh_token(f"{live_server.url}/oauth/token/", client_id=client.client_id)
    assert refreshed["refresh_token"] != first_refresh, "refresh tokens rotate"

    # Reusing the rotated-out refresh token is refused and revokes the family (RFC 9700 4.14.2).
    reuse = requests.post(
        f"{live_server.url}/oauth/token/",
        data={"grant_type": "refresh_token", "refresh_token": first_refresh, "client_id": client.client_id},
    )
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    latest = requests.post(
        f"{live_server.url}/oauth/token/",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refreshed["refresh_token"],
            "client_id": client.client_id,
        },
    )
    assert latest.status_code == 400, "the whole token family is revoked after reuse"


def test_authorization_without_pkce_is_refused(live_server, shopper_app) -> None:
    client, _user = shopper_app
    session = logged_in_session(live_server.url, "alice", "correct horse battery")
    response = session.get(
        f"{live_server.url}/oauth/authorize/",
        params={
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": REDIRECT,
            "scope": "orders:read",
        },
        allow_redirects=False,
    )
    location = response.headers.get("Location", "")
    assert "code=" not in location
    assert response.status_code == 400 or parse_qs(urlparse(location).query).get("error") == ["invalid_request"]


def test_plain_pkce_is_refused(live_server, shopper_app) -> None:
    client, _user = shopper_app
    session = logged_in_session(live_server.url, "alice", "correct horse battery")
    verifier = secrets.token_urlsafe(48)
    response = session.get(
        f"{live_server.url}/oauth/authorize/",
        params={
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": REDIRECT,
            "scope": "orders:read",
            "code_challenge": verifier,
            "code_challenge_method": "plain",
        },
        allow_redirects=False,
    )
    location = response.headers.get("Location", "")
    assert "code=" not in location
    assert response.status_code == 400 or "error=" in location


def test_shopper_cannot_ask_for_scopes_beyond_its_app(live_server, shopper_app, insecure_transport) -> None:
    client, _user = shopper_app
    session = logged_in_session(live_server.url, "alice", "correct horse battery")
    oauth = OAuth2Session(client.client_id, redirect_uri=REDIRECT, scope=["orders:fulfil"], pkce="S256")
    url, _ = oauth.authorization_url(f"{live_server.url}/oauth/authorize/")
    response = session.get(url, allow_redirects=False)
    location = response.headers.get("Location", "")
    assert "code=" not in location
    assert "invalid_scope" in location or response.status_code == 400


def test_unregistered_redirect_uri_is_refused(live_server, shopper_app) -> None:
    client, _user = shopper_app
    session = logged_in_session(live_server.url, "alice", "correct horse battery")
    _verifier, challenge = pkce_pair()
    response = session.get(
        f"{live_server.url}/oauth/authorize/",
        params={
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": "https://evil.example/cb",
            "scope": "orders:read",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
    )
    assert response.status_code == 400
    assert "evil.example" not in response.headers.get("Location", "")


def test_concurrent_refreshes_of_one_token_never_500(live_server, shopper_app, insecure_transport) -> None:
    client, _user = shopper_app
    session = logged_in_session(live_server.url, "alice", "correct horse battery")
    oauth = OAuth2Session(client.client_id, redirect_uri=REDIRECT, scope=["orders:read"], pkce="S256")
    token = oauth.fetch_token(
        f"{live_server.url}/oauth/token/",
        authorization_response=authorize(session, live_server.url, oauth),
        include_client_id=True,
    )
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def refresh() -> None:
        barrier.wait()
        response = requests.post(
            f"{live_server.url}/oauth/token/",
            data={
                "grant_type": "refresh_token",
                "refresh_token": token["refresh_token"],
                "client_id": client.client_id,
            },
            timeout=30,
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=refresh) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(statuses) == 6
    assert all(status in (200, 400) for status in statuses), statuses
    assert statuses.count(200) >= 1


@pytest.mark.django_db
def test_https_only_redirect_uris_outside_local_development(settings) -> None:
    from django.core.exceptions import ValidationError

    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "ALLOWED_REDIRECT_URI_SCHEMES": ["https"]}
    with pytest.raises(ValidationError):
        make_client(CallerKind.SHOPPER)  # registers an http:// redirect URI


@pytest.mark.django_db
def test_token_responses_are_not_cached() -> None:
    client = make_client(CallerKind.PARTNER, secret="s")
    response = client_credentials(client.client_id, "s")
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_public_shopper_app_cannot_use_client_credentials() -> None:
    client = make_client(CallerKind.SHOPPER)
    response = Client().post("/oauth/token/", {"grant_type": "client_credentials", "client_id": client.client_id})
    assert response.status_code in (400, 401)
    assert response.json()["error"] in ("unauthorized_client", "invalid_client")


@pytest.mark.django_db
def test_device_authorization_endpoints_are_not_mounted() -> None:
    assert Client().post("/oauth/device-authorization/").status_code == 404
    assert Client().get("/oauth/device/").status_code == 404


def test_code_exchange_rules(live_server, shopper_app, insecure_transport) -> None:
    """Wrong verifier, reused code and PKCE downgrade are all invalid_grant."""
    client, _user = shopper_app
    session = logged_in_session(live_server.url, "alice", "correct horse battery")
    oauth = OAuth2Session(client.client_id, redirect_uri=REDIRECT, scope=["orders:read"], pkce="S256")
    callback = authorize(session, live_server.url, oauth)
    code = parse_qs(urlparse(callback).query)["code"][0]
    token_url = f"{live_server.url}/oauth/token/"
    base = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": client.client_id}
    wrong = requests.post(token_url, data={**base, "code_verifier": secrets.token_urlsafe(48)})
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    missing = requests.post(token_url, data=base)
    assert missing.status_code == 400
    right = requests.post(token_url, data={**base, "code_verifier": oauth._code_verifier})
    reused = requests.post(token_url, data={**base, "code_verifier": oauth._code_verifier})
    assert right.status_code in (200, 400)  # the failed attempts above may already have burnt the code
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "redirect_uri",
    [
        REDIRECT + "?x=1",
        REDIRECT + "/",
        REDIRECT + "#frag",
        "http://evil@127.0.0.1:8765/callback",
        "http://127.0.0.1:8765/Callback",
        "https://127.0.0.1:8765/callback",
    ],
)
def test_redirect_uris_must_match_exactly(live_server, shopper_app, redirect_uri: str) -> None:
    client, _user = shopper_app
    session = logged_in_session(live_server.url, "alice", "correct horse battery")
    _verifier, challenge = pkce_pair()
    response = session.get(
        f"{live_server.url}/oauth/authorize/",
        params={
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": redirect_uri,
            "scope": "orders:read",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
    )
    assert "code=" not in response.headers.get("Location", "")


@pytest.mark.parametrize(
    "redirect_uri", ["https://app.example:8443/cb", "https://app.example/cb/", "http://app.example/cb"]
)
def test_registered_https_redirect_is_matched_exactly(live_server, shopper_app, redirect_uri: str) -> None:
    # Only IP-literal loopback URIs may vary their port (RFC 8252 section 7.3); real apps register https.
    client, _user = shopper_app
    client.redirect_uris = "https://app.example/cb"
    client.save(update_fields=["redirect_uris"])
    session = logged_in_session(live_server.url, "alice", "correct horse battery")
    _verifier, challenge = pkce_pair()
    response = session.get(
        f"{live_server.url}/oauth/authorize/",
        params={
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": redirect_uri,
            "scope": "orders:read",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
    )
    assert response.status_code == 400
    assert "code=" not in response.headers.get("Location", "")


def test_implicit_grant_is_refused(live_server, shopper_app) -> None:
    client, _user = shopper_app
    session = logged_in_session(live_server.url, "alice", "correct horse battery")
    response = session.get(
        f"{live_server.url}/oauth/authorize/",
        params={
            "response_type": "token",
            "client_id": client.client_id,
            "redirect_uri": REDIRECT,
            "scope": "orders:read",
        },
        allow_redirects=False,
    )
    assert "access_token=" not in response.headers.get("Location", "")
