"""Demo partners, API clients and a shopper account. The demo secrets are
fixed so the README's examples work; they exist only in demo databases."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import OutputWrapper

from partners.models import SCOPES_BY_KIND, ApiClient, CallerKind, Partner, RateTier
from partners.services import api_client_create

DEMO_PARTNERS = [
    ("acme-foods", "Acme Foods", RateTier.STANDARD),
    ("fresh-farm", "Fresh Farm Cooperative", RateTier.PREMIUM),
]

# client_id, kind, partner slug, scopes (None = all a kind may have)
DEMO_CLIENTS: list[tuple[str, str, str | None, list[str] | None]] = [
    ("demo-operator", CallerKind.OPERATOR, None, None),
    ("demo-acme", CallerKind.PARTNER, "acme-foods", None),
    ("demo-freshfarm", CallerKind.PARTNER, "fresh-farm", None),
    ("demo-store-par01", CallerKind.STORE, None, None),
    ("demo-device-par01", CallerKind.DEVICE, None, None),
    ("demo-shopper-app", CallerKind.SHOPPER, None, None),
]

SHOPPER_REDIRECT_URI = "http://127.0.0.1:8765/callback"


def demo_secret(client_id: str) -> str:
    return f"{client_id}-secret"


def load(*, stdout: OutputWrapper, options: dict[str, Any]) -> None:
    for slug, name, tier in DEMO_PARTNERS:
        Partner.objects.update_or_create(slug=slug, defaults={"name": name, "tier": tier})
    stdout.write("\nDemo OAuth clients (token URL: {}/oauth/token/):".format(options["base_url"]))
    for client_id, kind, partner_slug, scopes in DEMO_CLIENTS:
        partner = Partner.objects.get(slug=partner_slug) if partner_slug else None
        wanted = sorted(scopes if scopes is not None else SCOPES_BY_KIND[kind])
        secret = "" if kind == CallerKind.SHOPPER else demo_secret(client_id)
        ApiClient.objects.filter(client_id=client_id).delete()
        api_client_create(
            name=client_id.replace("-", " ").title(),
            kind=kind,
            partner=partner,
            scopes=wanted,
            client_id=client_id,
            client_secret=secret or None,
            redirect_uris=SHOPPER_REDIRECT_URI if kind == CallerKind.SHOPPER else "",
            rate_limit_tier=RateTier.INTERNAL if kind in (CallerKind.OPERATOR, CallerKind.SHOPPER) else "",
        )
        shown = secret or "(public client: authorization code + PKCE)"
        stdout.write(f"  {kind:9} client_id={client_id:20} client_secret={shown}")
    user_model = get_user_model()
    shopper, _ = user_model.objects.get_or_create(username="shopper", defaults={"email": "shopper@example.com"})
    shopper.set_password("shopper-demo-password")
    shopper.save(update_fields=["password"])
    stdout.write("  shopper login for the browser flow: shopper / shopper-demo-password")
