"""Writes on API clients: creation and secret rotation."""

import secrets

from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import AbstractApplication

from partners.errors import ClientNotConfidential, ScopeNotAllowed
from partners.models import SCOPES_BY_KIND, ApiClient, CallerKind, Partner

_GRANT_BY_KIND: dict[str, str] = {
    CallerKind.SHOPPER: AbstractApplication.GRANT_AUTHORIZATION_CODE,
}


def new_client_secret() -> str:
    # 48 bytes of randomness, URL-safe: 64 characters.
    return secrets.token_urlsafe(48)


def api_client_create(
    *,
    name: str,
    kind: str,
    partner: Partner | None,
    scopes: list[str],
    default_scopes: list[str] | None = None,
    redirect_uris: str = "",
    client_id: str | None = None,
    client_secret: str | None = None,
    rate_limit_tier: str = "",
) -> tuple[ApiClient, str]:
    """Create a client; returns it with its secret in clear, shown only once
    (the database keeps a hash). Shopper clients use the authorization-code
    grant with PKCE and are public (no secret); all others use client credentials."""
    not_allowed = sorted(set(scopes) - SCOPES_BY_KIND[kind])
    if not_allowed:
        raise ScopeNotAllowed(f"A {kind} client may not be granted: {' '.join(not_allowed)}.")
    grant = _GRANT_BY_KIND.get(kind, AbstractApplication.GRANT_CLIENT_CREDENTIALS)
    public = kind == CallerKind.SHOPPER
    secret = "" if public else (client_secret or new_client_secret())
    client = ApiClient(
        name=name,
        kind=kind,
        partner=partner,
        allowed_scopes=" ".join(sorted(set(scopes))),
        default_scopes=" ".join(sorted(set(default_scopes if default_scopes is not None else scopes))),
        authorization_grant_type=grant,
        client_type=AbstractApplication.CLIENT_PUBLIC if public else AbstractApplication.CLIENT_CONFIDENTIAL,
        redirect_uris=redirect_uris,
        rate_limit_tier=rate_limit_tier,
        # Shopper apps are the retailer's own first-party apps: no consent screen.
        skip_authorization=public,
        algorithm="",
    )
    if client_id:
        client.client_id = client_id
    client.client_secret = secret
    client.full_clean(exclude=["client_secret", "user"])
    client.save()
    return client, secret


def api_client_rotate_secret(*, client: ApiClient) -> str:
    """Give a confidential client a new secret; the old one stops working at
    once. Tokens already issued stay valid until they expire (15 minutes)."""
    if client.client_type != AbstractApplication.CLIENT_CONFIDENTIAL:
        raise ClientNotConfidential("This client is public and authenticates with PKCE, not a secret.")
    secret = new_client_secret()
    with transaction.atomic():
        client.client_secret = secret
        client.secret_rotated_at = timezone.now()
        client.save(update_fields=["client_secret", "secret_rotated_at", "updated_at"])
    return secret
