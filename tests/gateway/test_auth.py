"""Bearer tokens: the one-statement lookup, and the per-process token cache
with its revocation semantics (gateway/api/auth.py)."""

import base64
import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
import redis
import requests
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from oauth2_provider.models import get_access_token_model

from gateway.api import auth
from gateway.api.auth import TOKEN_CACHE, publish_eviction, token_checksum
from partners.models import CallerKind
from tests.conftest import GatewayServer
from tests.factories import PartnerFactory, UserFactory, make_client, token_for

AccessToken = get_access_token_model()
ME = "/api/v1/partners/me"


def get_me(raw: str) -> int:
    return Client().get(ME, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code


def token_queries(queries: CaptureQueriesContext) -> int:
    return sum(1 for query in queries.captured_queries if "oauth2_provider_accesstoken" in query["sql"])


def eventually(condition: Callable[[], bool], seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def delete_behind_the_cache(raw: str) -> None:
    """Delete a token the way another process or a raw script would: no signal here."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM oauth2_provider_accesstoken WHERE token_checksum = %s", [token_checksum(raw)])


@pytest.mark.django_db
def test_the_lookup_builds_what_the_orm_would() -> None:
    partner = PartnerFactory.create()
    client = make_client(CallerKind.PARTNER, partner=partner)
    raw = token_for(client)
    rows = auth._lookup(token_checksum(raw))
    assert rows is not None
    token = auth._instances(*rows)
    expected = AccessToken.objects.select_related("application__partner").get(token_checksum=token_checksum(raw))
    pairs = [(token, expected), (token.application, expected.application), (token.application.partner, partner)]
    for mine, theirs in pairs:
        assert [getattr(mine, f.attname) for f in mine._meta.concrete_fields] == [
            getattr(theirs, f.attname) for f in theirs._meta.concrete_fields
        ]
    with CaptureQueriesContext(connection) as queries:
        assert token.application.partner.pk == partner.pk
    assert not queries.captured_queries, "client and partner come with the token"


@pytest.mark.django_db
def test_a_shoppers_user_is_loaded_only_when_asked_for() -> None:
    user = UserFactory.create()
    raw = token_for(make_client(CallerKind.SHOPPER), user=user)
    request = type("R", (), {"META": {"HTTP_AUTHORIZATION": f"Bearer {raw}"}, "_request": object()})()
    with CaptureQueriesContext(connection) as queries:
        authenticated = auth.BearerTokenAuthentication().authenticate(request)
    assert authenticated is not None
    lazy_user, token = authenticated
    assert len(queries.captured_queries) == 1
    assert token.user_id == user.pk
    assert lazy_user.username == user.username


@pytest.mark.django_db
def test_a_cached_token_is_read_once(token_cache) -> None:
    raw = token_for(make_client(CallerKind.PARTNER))
    with CaptureQueriesContext(connection) as first:
        assert get_me(raw) == 200
    with CaptureQueriesContext(connection) as second:
        assert get_me(raw) == 200
    assert (token_queries(first), token_queries(second)) == (1, 0)


@pytest.mark.django_db
def test_without_the_cache_every_request_reads_the_token() -> None:
    raw = token_for(make_client(CallerKind.PARTNER))
    get_me(raw)
    with CaptureQueriesContext(connection) as again:
        assert get_me(raw) == 200
    assert token_queries(again) == 1


@pytest.mark.django_db
def test_a_revoked_cached_token_stops_working_at_once(token_cache) -> None:
    client = make_client(CallerKind.PARTNER, secret="s")
    raw = Client().post("/oauth/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic(client, "s"))
    token = raw.json()["access_token"]
    assert get_me(token) == 200
    assert token_checksum(token) in TOKEN_CACHE._entries
    revoke = Client().post("/oauth/revoke/", {"token": token}, HTTP_AUTHORIZATION=basic(client, "s"))
    assert revoke.status_code == 200
    assert get_me(token) == 401


@pytest.mark.django_db
def test_a_cached_token_expires_on_time(token_cache, monkeypatch) -> None:
    raw = token_for(make_client(CallerKind.PARTNER), ttl_seconds=60)
    assert get_me(raw) == 200
    later = auth.timezone.now() + dt.timedelta(seconds=61)
    monkeypatch.setattr(auth.timezone, "now", lambda: later)
    assert get_me(raw) == 401


@pytest.mark.django_db
def test_deactivating_the_partner_drops_its_cached_tokens(token_cache) -> None:
    partner = PartnerFactory.create()
    raw = token_for(make_client(CallerKind.PARTNER, partner=partner))
    assert get_me(raw) == 200
    partner.is_active = False
    partner.save(update_fields=["is_active"])
    assert get_me(raw) == 401


@pytest.mark.django_db
def test_another_process_revoking_reaches_this_one_through_redis(token_cache) -> None:
    # given a cached token deleted behind this process's back (as by another process)
    raw = token_for(make_client(CallerKind.PARTNER))
    assert get_me(raw) == 200
    delete_behind_the_cache(raw)
    assert get_me(raw) == 200, "served from the cache until told"
    # when that process publishes the eviction after its commit
    publish_eviction(token_checksum(raw))
    # then this one refuses the token within moments
    assert eventually(lambda: get_me(raw) == 401, seconds=2.0)


@pytest.mark.django_db
def test_an_entry_is_trusted_for_the_cache_lifetime_only(token_cache, settings) -> None:
    settings.AUTH_TOKEN_CACHE_SECONDS = 0.2
    raw = token_for(make_client(CallerKind.PARTNER))
    assert get_me(raw) == 200
    delete_behind_the_cache(raw)  # a write that bypasses the signals
    time.sleep(0.25)
    assert get_me(raw) == 401


@pytest.mark.django_db
def test_without_news_from_redis_the_cache_is_not_used(token_cache, monkeypatch) -> None:
    raw = token_for(make_client(CallerKind.PARTNER))
    assert get_me(raw) == 200
    monkeypatch.setattr(auth, "_LIVENESS_S", 0.0)  # the listener has not heard from Redis lately
    delete_behind_the_cache(raw)
    assert get_me(raw) == 401


def basic(client: Any, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()


@pytest.mark.concurrency
def test_revoking_over_http_reaches_every_server_process(transactional_db) -> None:
    # given the real server (2 worker processes) with the cache on, and 8 keep-alive
    # connections spread over both workers
    client = make_client(CallerKind.PARTNER, secret="s")
    server = GatewayServer(env={"AUTH_TOKEN_CACHE_SECONDS": "30"})
    try:
        auth_header = {"Authorization": basic(client, "s")}
        sessions = [requests.Session() for _ in range(8)]
        db = connection.settings_dict

        def new_token() -> str:
            answer = requests.post(
                f"{server.url}/oauth/token/", data={"grant_type": "client_credentials"}, headers=auth_header
            )
            return str(answer.json()["access_token"])

        def statuses(token: str) -> set[int]:
            headers = {"Authorization": f"Bearer {token}"}
            return {session.get(f"{server.url}{ME}", headers=headers).status_code for session in sessions}

        def delete_goes_unnoticed() -> bool:
            token = new_token()
            assert statuses(token) == {200}
            with psycopg.connect(
                host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"], dbname=db["NAME"]
            ) as conn:
                conn.execute(
                    "DELETE FROM oauth2_provider_accesstoken WHERE token_checksum = %s", [token_checksum(token)]
                )
            return statuses(token) == {200}

        # the server serves from its cache: once each worker's listener has subscribed
        # (a fresh token per try: a token read before that was not kept), a delete
        # behind its back goes unnoticed on every connection
        assert eventually(delete_goes_unnoticed, seconds=5.0)
        revoked = new_token()
        assert statuses(revoked) == {200}
        # when a token is revoked through the OAuth endpoint
        revoke = requests.post(f"{server.url}/oauth/revoke/", data={"token": revoked}, headers=auth_header)
        assert revoke.status_code == 200
        # then every connection, whichever worker serves it, refuses it within moments
        started = time.monotonic()
        assert eventually(lambda: statuses(revoked) == {401}, seconds=2.0)
        assert time.monotonic() - started < 2.0
    finally:
        server.stop()


def test_an_eviction_waits_for_every_listener_to_act_on_it_and_no_longer(settings) -> None:
    """publish_eviction returns once each receiver acknowledged; one that never does (a
    stalled process) costs the publisher AUTH_EVICTION_WAIT_S, not more."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    silent = client.pubsub()
    silent.subscribe(auth.channel())
    assert silent.get_message(timeout=1) is not None  # subscribed, and will never acknowledge
    settings.AUTH_EVICTION_WAIT_S = 0.3
    try:
        started = time.monotonic()
        publish_eviction("no-such-checksum")
        waited = time.monotonic() - started
        message = silent.get_message(timeout=1)
    finally:
        silent.close()
    assert 0.3 <= waited < 1.5
    assert message is not None
    key, _sep, ack = message["data"].decode().partition("|")
    assert key == "no-such-checksum"
    assert ack

    # A listener that acknowledges lets the publisher go at once.
    acking = client.pubsub()
    acking.subscribe(auth.channel())
    assert acking.get_message(timeout=1) is not None

    def listen() -> None:
        while (message := acking.get_message(timeout=2)) is not None:
            if message["type"] == "message":
                auth._acknowledge(message["data"].decode().partition("|")[2])
                return

    thread = threading.Thread(target=listen)
    thread.start()
    try:
        started = time.monotonic()
        publish_eviction("another-checksum")
        waited = time.monotonic() - started
    finally:
        thread.join(timeout=5)
        acking.close()
    assert waited < 0.3
