"""Factories shared by every app's tests: partners, clients, locations, tokens."""

import datetime as dt
import secrets
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, set_token_value
from rest_framework.test import APIClient

from inventory.models import Location, LocationKind
from inventory.services import client_location_bind
from partners.models import SCOPES_BY_KIND, ApiClient, CallerKind, Partner
from partners.services import api_client_create

AccessToken = get_access_token_model()


class PartnerFactory(factory.django.DjangoModelFactory[Partner]):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partner {n}")
    slug = factory.Sequence(lambda n: f"partner-{n}")


class UserFactory(factory.django.DjangoModelFactory[Any]):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"shopper{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")


class LocationFactory(factory.django.DjangoModelFactory[Location]):
    class Meta:
        model = Location

    code = factory.Sequence(lambda n: f"LOC{n:04d}")
    name = factory.Sequence(lambda n: f"Store {n}")
    kind = LocationKind.STORE
    latitude = Decimal("48.856600")
    longitude = Decimal("2.352200")
    time_zone = "Europe/Paris"
    click_and_collect = True


def make_client(
    kind: str = CallerKind.PARTNER,
    *,
    partner: Partner | None = None,
    scopes: list[str] | None = None,
    store: Location | None = None,
    secret: str | None = None,
    **kwargs: Any,
) -> ApiClient:
    """An API client of ``kind`` (a partner one gets its own partner unless given)."""
    if kind == CallerKind.PARTNER and partner is None:
        partner = PartnerFactory.create()
    client, _ = api_client_create(
        name=f"{kind} client {secrets.token_hex(3)}",
        kind=kind,
        partner=partner,
        scopes=scopes if scopes is not None else sorted(SCOPES_BY_KIND[kind]),
        client_secret=secret,
        redirect_uris="http://127.0.0.1:8765/callback" if kind == CallerKind.SHOPPER else "",
        **kwargs,
    )
    if store is not None:
        client_location_bind(client=client, location=store)
    return client


def token_for(client: ApiClient, *, scopes: list[str] | None = None, user: Any = None, ttl_seconds: int = 900) -> str:
    """An access token issued straight into the database (the OAuth flows
    themselves are tested in tests/partners/test_oauth.py)."""
    raw = secrets.token_urlsafe(24)
    token = AccessToken(
        application=client,
        user=user,
        scope=" ".join(scopes if scopes is not None else client.allowed_scope_list()),
        expires=timezone.now() + dt.timedelta(seconds=ttl_seconds),
    )
    set_token_value(token, raw)
    token.save()
    return raw


def api_as(client: ApiClient, *, scopes: list[str] | None = None, user: Any = None) -> APIClient:
    """A DRF test client that calls with a bearer token of ``client``."""
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(client, scopes=scopes, user=user)}")
    return api


def prepared_statements() -> set[str]:
    """The statements this connection's session has prepared (PostgreSQL's view)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


def api_with_token(token: str) -> APIClient:
    """A test client sending ``token`` as its bearer (a token minted elsewhere)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client
