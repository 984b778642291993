"""Partners (organisations) and their OAuth clients."""

from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from oauth2_provider.models import AbstractApplication


class RateTier(models.TextChoices):
    STANDARD = "standard", "Standard"
    PREMIUM = "premium", "Premium"
    INTERNAL = "internal", "Internal"


class CallerKind(models.TextChoices):
    """Who is calling (docs/api-guide.md, Callers and scopes); decides what a client may see."""

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
        {
            "catalog:read",
            "inventory:read",
            "inventory:write",
            "orders:read",
            "webhooks:manage",
            "partners:manage",
            "loyalty:read",  # the analytics and reports of campaigns on their own products
        }
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
            "footfall:ingest",  # tills post sales; counts stay with the store's devices
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

    def may_introspect(self, token_client: "ApiClient") -> bool:
        """Whose tokens this (authenticated, confidential) client may learn
        about at /oauth/introspect/: the operator's systems check any
        caller's token; any other client only tokens issued to itself, so it
        never learns whether another client's token is live, its scopes or
        a shopper's username (gateway.api.oauth answers those as inactive)."""
        return self.kind == CallerKind.OPERATOR or token_client.pk == self.pk


class CurrentTransactionId(models.Func):
    """The id of the inserting transaction (xid8, as bigint). Orders the events
    feed by commit-safe position: see ``Event``."""

    template = "(pg_current_xact_id()::text::bigint)"
    output_field = models.BigIntegerField()


class Event(models.Model):
    """The outbox: a change partners may care about, written in the same
    transaction as the change. Webhook delivery and the events feed read it.

    ``partner`` is the audience: the partner whose object changed (it sees
    the event), or null for network events only operators see.

    ``txid`` is the writing transaction's id. Sequence ids are handed out at
    insert, not at commit, so a feed ordered by id alone would let a reader
    pass over an event whose transaction commits late. The feed orders by
    (txid, id) and shows only events of transactions older than every one
    still running, so a reader's position never jumps over an event.

    ``dispatched_at`` is set once the event was fanned out to webhook
    deliveries; events still null are picked up again by the sweep. Fan-out
    takes them oldest first in batches, by id: the partial index is on id so
    that a batch reads its own rows, not the whole backlog (a 5,000-line sync
    is 5,000 events to fan out, ten batches).

    Every index costs each of the thousands of rows a bulk write records, so
    there are only those a query needs: the feed's two, the fan-out's partial
    one. ``partner`` has no index of its own (the partner feed index leads
    with it, which also serves the cascade on partner deletion) and ``type``
    none (the feed filters types while walking its index; the admin filters
    by the listed types)."""

    type = models.CharField(max_length=64)
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    subject = models.CharField(max_length=120, blank=True, help_text="What changed, e.g. stock:PAR01:SKU-1.")
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    txid = models.BigIntegerField(db_default=CurrentTransactionId(), editable=False)
    dispatched_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        indexes = [
            models.Index(fields=["partner", "txid", "id"], name="event_partner_feed_idx"),
            models.Index(fields=["txid", "id"], name="event_feed_idx"),
            models.Index(fields=["id"], name="event_undispatched_id_idx", condition=Q(dispatched_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"

    @property
    def webhook_id(self) -> str:
        """The Standard Webhooks message id: the same on every attempt and redelivery."""
        return f"msg_{self.pk}"


class WebhookSubscription(models.Model):
    """An endpoint that receives events. A partner's subscription receives the
    events whose audience is that partner; an operator subscription (partner
    null) receives every event. ``event_types`` may hold "*" for all types.

    The signing secret is kept encrypted (partners.services.signing); during a
    rotation the previous secret keeps signing next to the new one until
    ``previous_secret_expires_at``. ``failing_since`` is the time of the first
    failed attempt since the last success."""

    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.CASCADE, related_name="webhook_subscriptions"
    )
    url = models.URLField(max_length=2000)
    event_types = ArrayField(models.CharField(max_length=64))
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    secret_encrypted = models.TextField(editable=False)
    previous_secret_encrypted = models.TextField(blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    secret_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["partner", "id"], name="webhooksub_partner_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(version__gte=1), name="webhooksub_version_positive"),
        ]

    def __str__(self) -> str:
        return f"webhook #{self.pk} {self.url}"

    def receives(self, event: Event) -> bool:
        audience_ok = self.partner_id is None or self.partner_id == event.partner_id
        return audience_ok and ("*" in self.event_types or event.type in self.event_types)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending (an attempt is scheduled)"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed (retries exhausted)"


class WebhookDelivery(models.Model):
    """One event for one subscription. ``scheduled_attempts`` counts the
    automatic attempts (they follow the retry schedule); manual redeliveries
    add attempts without moving the schedule. ``next_attempt_at`` is when the
    next attempt is due. A worker claims an attempt by setting ``leased_until``
    (one guarded UPDATE); a worker that dies mid-attempt leaves a lease that
    expires, and the sweep picks the delivery up again."""

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    scheduled_attempts = models.PositiveIntegerField(default=0)
    manual_requested = models.BooleanField(default=False)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="webhookdelivery_once_per_event"),
            models.CheckConstraint(
                condition=~Q(status="pending") | Q(next_attempt_at__isnull=False),
                name="webhookdelivery_pending_is_scheduled",
            ),
        ]
        indexes = [
            models.Index(fields=["subscription", "id"], name="webhookdelivery_sub_idx"),
            models.Index(fields=["next_attempt_at"], name="webhookdelivery_due_idx", condition=Q(status="pending")),
        ]

    def __str__(self) -> str:
        return f"delivery #{self.pk} of event #{self.event_id} to webhook #{self.subscription_id}"


class AttemptTrigger(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled (first try or automatic retry)"
    MANUAL = "manual", "Manual redelivery"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery, kept as the delivery log. ``error`` is
    a short machine-readable reason when there was no usable HTTP answer."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    trigger = models.CharField(max_length=16, choices=AttemptTrigger.choices)
    attempted_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    succeeded = models.BooleanField()
    error = models.CharField(max_length=200, blank=True)
    response_excerpt = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhookattempt_number_unique"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery #{self.delivery_id}"
