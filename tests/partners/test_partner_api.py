"""Partner self-service: profile, clients without secrets, secret rotation, isolation."""

import json

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.test import Client

from gateway.api.models import IdempotencyRecord
from partners.models import ApiClient, CallerKind
from tests.factories import PartnerFactory, api_as, make_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner():
    return PartnerFactory.create(name="Acme Foods", slug="acme")


@pytest.fixture
def acme(partner):
    return make_client(CallerKind.PARTNER, partner=partner, secret="acme-initial-secret")


def token_request(client_id: str, secret: str):
    return Client().post(
        "/oauth/token/", {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    )


def test_partner_reads_its_own_profile(acme) -> None:
    body = api_as(acme).get("/api/v1/partners/me").json()
    assert body["slug"] == "acme"
    assert body["name"] == "Acme Foods"


def test_operator_has_no_partner_profile() -> None:
    assert api_as(make_client(CallerKind.OPERATOR)).get("/api/v1/partners/me").status_code == 404


def test_client_list_shows_own_clients_without_secrets(acme, partner) -> None:
    second = make_client(CallerKind.PARTNER, partner=partner)
    make_client(CallerKind.PARTNER)  # another partner's
    response = api_as(acme).get("/api/v1/partners/me/clients")
    ids = [item["client_id"] for item in response.json()["results"]]
    assert sorted(ids) == sorted([acme.client_id, second.client_id])
    assert all("client_secret" not in item for item in response.json()["results"])
    stored = ApiClient.objects.get(pk=acme.pk).client_secret
    assert stored not in response.content.decode()


def test_client_list_runs_constant_queries(acme, partner, django_assert_num_queries) -> None:
    for _ in range(5):
        make_client(CallerKind.PARTNER, partner=partner)
    api = api_as(acme)
    with django_assert_num_queries(2):  # token + page
        api.get("/api/v1/partners/me/clients?page_size=2")
    with django_assert_num_queries(2):
        api.get("/api/v1/partners/me/clients?page_size=50")


def test_another_partners_client_is_404(acme) -> None:
    other = make_client(CallerKind.PARTNER)
    api = api_as(acme)
    assert api.get(f"/api/v1/partners/me/clients/{other.client_id}").status_code == 404
    assert api.post(f"/api/v1/partners/me/clients/{other.client_id}/rotate-secret").status_code == 404


def test_secrets_are_stored_hashed(acme) -> None:
    stored = ApiClient.objects.get(pk=acme.pk).client_secret
    assert stored != "acme-initial-secret"
    assert identify_hasher(stored)


def test_rotation_gives_a_new_secret_and_retires_the_old(acme) -> None:
    response = api_as(acme).post(f"/api/v1/partners/me/clients/{acme.client_id}/rotate-secret")
    assert response.status_code == 200
    new_secret = response.json()["client_secret"]
    assert len(new_secret) >= 48
    assert token_request(acme.client_id, "acme-initial-secret").status_code == 401
    assert token_request(acme.client_id, new_secret).status_code == 200


def test_a_lost_rotation_answer_is_replayed_with_the_secret_in_force_stored_sealed(acme) -> None:
    # given a rotation whose answer the partner never received
    api = api_as(acme)
    url = f"/api/v1/partners/me/clients/{acme.client_id}/rotate-secret"
    lost = api.post(url, HTTP_IDEMPOTENCY_KEY="rotate-1").json()["client_secret"]
    assert token_request(acme.client_id, "acme-initial-secret").status_code == 401

    # when it retries with the same key
    replay = api.post(url, HTTP_IDEMPOTENCY_KEY="rotate-1")

    # then it gets the secret now in force, rotated once, and the stored answer holds it sealed
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json()["client_secret"] == lost
    assert token_request(acme.client_id, replay.json()["client_secret"]).status_code == 200
    stored = IdempotencyRecord.objects.get(key="rotate-1").response_body
    assert stored is not None
    assert lost not in json.dumps(stored)
    assert set(stored["client_secret"]) == {"sealed"}


def test_rotation_needs_partners_manage(acme) -> None:
    api = api_as(acme, scopes=["inventory:read"])
    response = api.post(f"/api/v1/partners/me/clients/{acme.client_id}/rotate-secret")
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


@pytest.mark.parametrize("kind", [CallerKind.STORE, CallerKind.DEVICE, CallerKind.SHOPPER])
def test_other_caller_kinds_cannot_reach_partner_self_service(kind) -> None:
    api = api_as(make_client(kind), scopes=["partners:manage"])
    assert api.get("/api/v1/partners/me").status_code == 404
    assert api.get("/api/v1/partners/me/clients").json()["results"] == []
