"""Partners (organisations) and their OAuth clients."""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from oauth2_provider.models import AbstractApplication


class RateTier(models.TextChoices):
    STANDARD = "standard", "Standard"
    PREMIUM = "premium", "Premium"
    INTERNAL = "internal", "Internal"


class CallerKind(models.TextChoices):
    """Who is calling (CONVENTIONS section 2); decides what a client may see."""

    OPERATOR = "operator", "Operator (the retailer's own systems)"
    PARTNER = "partner", "Business partner system"
    STORE = "store", "Store staff app or till"
    DEVICE = "device", "In-store sensor box"
    SHOPPER = "shopper", "Shopper app (mobile, web shop)"


# Scopes a client of each kind may ever be granted; an application's own
# allowed set is a subset of this (checked in ApiClient.clean and services).
SCOPES_BY_KIND: dict[str, frozenset[str]] = {
    CallerKind.OPERATOR: frozenset(settings.SCOPES),
    CallerKind.PARTNER: frozenset(
        {"catalog:read", "inventory:read", "inventory:write", "orders:read", "webhooks:manage", "partners:manage"}
    ),
    CallerKind.STORE: frozenset(
        {
            "catalog:read",
            "inventory:read",
            "inventory:write",
            "orders:read",
            "orders:write",
            "orders:fulfil",
            "loyalty:read",
            "loyalty:redeem",
            "footfall:read",
        }
    ),
    CallerKind.DEVICE: frozenset({"footfall:ingest"}),
    CallerKind.SHOPPER: frozenset(
        {"catalog:read", "inventory:read", "orders:read", "orders:write", "loyalty:read", "loyalty:redeem"}
    ),
}


class Partner(models.Model):  # type: ignore[django-manager-missing]  # ApiClient extends untyped DOT base
    """A business partner organisation. Its clients act only on what it owns."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    tier = models.CharField(max_length=16, choices=RateTier.choices, default=RateTier.STANDARD)
    contact_email = models.EmailField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    def __str__(self) -> str:
        return self.name


class ApiClient(AbstractApplication):
    """The OAuth application: one per integration. ``kind`` says who calls,
    ``allowed_scopes`` is the most a token of it may carry, and
    ``default_scopes`` what a token request without ``scope`` gets."""

    kind: "models.CharField[str, str]" = models.CharField(max_length=16, choices=CallerKind.choices)
    partner: "models.ForeignKey[Partner | None, Partner | None]" = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="clients"
    )
    allowed_scopes: "models.TextField[str, str]" = models.TextField(
        blank=True, help_text="Space-separated scopes this client may be granted."
    )
    default_scopes: "models.TextField[str, str]" = models.TextField(
        blank=True, help_text="Space-separated scopes granted when none are asked."
    )
    rate_limit_tier: "models.CharField[str, str]" = models.CharField(
        max_length=16, choices=RateTier.choices, blank=True
    )
    is_active: "models.BooleanField[bool, bool]" = models.BooleanField(default=True)
    secret_rotated_at: "models.DateTimeField[Any, Any]" = models.DateTimeField(null=True, blank=True)
    updated_at: "models.DateTimeField[Any, Any]" = models.DateTimeField(auto_now=True)

    class Meta(AbstractApplication.Meta):
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="partner") | Q(partner__isnull=False), name="apiclient_partner_kind_has_partner"
            ),
        ]

    def allowed_scope_list(self) -> list[str]:
        return sorted(set(self.allowed_scopes.split()) & SCOPES_BY_KIND.get(self.kind, frozenset()))

    def default_scope_list(self) -> list[str]:
        return sorted(set(self.default_scopes.split()) & set(self.allowed_scope_list()))

    def is_usable(self, request: Any) -> bool:
        if not self.is_active:
            return False
        partner = self.partner
        return partner is None or partner.is_active


class Event(models.Model):
    """The outbox: a change partners may care about, written in the same
    transaction as the change. Webhook delivery and the events feed read it.

    ``partner`` is the audience: the partner whose object changed (it sees
    the event), or null for network events only operators see."""

    type = models.CharField(max_length=64, db_index=True)
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    subject = models.CharField(max_length=120, blank=True, help_text="What changed, e.g. stock:PAR01:SKU-1.")
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["partner", "id"], name="event_partner_id_idx")]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"
