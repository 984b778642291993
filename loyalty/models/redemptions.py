"""Redemptions (a campaign used by one order or till ticket) with the
discount allocated to each line, and the till tickets themselves.

Life of a redemption: ``reserved`` (the code use and every budget counter
concerned taken, in the order's or ticket's transaction) then ``confirmed``
(collected, or a till ticket); or ``released`` (cancelled, no-show, hold or
reservation expired: the counters are given back); a confirmed one may be
``rolled_back`` (a return, in full or line by line)."""

from django.db import models
from django.db.models import F, Q

from inventory.models import Location
from loyalty.models.campaigns import Campaign, CouponCode
from loyalty.models.program import Member, Program


class RedemptionState(models.TextChoices):
    RESERVED = "reserved", "Reserved"
    CONFIRMED = "confirmed", "Confirmed"
    RELEASED = "released", "Released"
    ROLLED_BACK = "rolled_back", "Rolled back"


class SourceKind(models.TextChoices):
    ORDER = "order", "Click-and-collect order"
    TICKET = "ticket", "Till ticket"


class Redemption(models.Model):
    """One campaign applied to one order or till ticket. ``counter_ids``
    are the budget counters it took a unit of (in the order they were
    taken), so that releasing gives back exactly those. The source and the
    campaign make it idempotent: the same order or ticket redeems a campaign
    once."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="redemptions")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="redemptions")
    code = models.ForeignKey(CouponCode, null=True, blank=True, on_delete=models.PROTECT, related_name="redemptions")
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.PROTECT, related_name="redemptions")
    store = models.ForeignKey(Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    source_kind = models.CharField(max_length=8, choices=SourceKind.choices)
    source_reference = models.CharField(max_length=120)
    state = models.CharField(max_length=12, choices=RedemptionState.choices, default=RedemptionState.RESERVED)
    currency = models.CharField(max_length=3)
    discount_amount = models.DecimalField(max_digits=12, decimal_places=2)
    rolled_back_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    counter_ids = models.JSONField(default=list, blank=True)
    # The basket it applied to, before discounts, and the points that basket earned and burned:
    # what the analytics report as revenue and points per campaign (set by the order or ticket).
    basket_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    points_earned = models.BigIntegerField(default=0)
    points_burned = models.BigIntegerField(default=0)
    # When the shopper's till or app says it happened (a late ticket's till time), in UTC.
    occurred_at = models.DateTimeField()
    reserved_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="A reservation left alone is released then.")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="Released or fully rolled back.")
    close_reason = models.CharField(max_length=40, blank=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "source_kind", "source_reference"], name="loyalty_redemption_once_per_source"
            ),
            models.CheckConstraint(
                condition=Q(state__in=RedemptionState.values), name="loyalty_redemption_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(source_kind__in=SourceKind.values), name="loyalty_redemption_source_valid"
            ),
            models.CheckConstraint(
                condition=Q(discount_amount__gte=0, rolled_back_amount__gte=0)
                & Q(rolled_back_amount__lte=F("discount_amount")),
                name="loyalty_redemption_amounts_range",
            ),
            models.CheckConstraint(
                condition=Q(basket_amount__gte=0, points_earned__gte=0, points_burned__gte=0),
                name="loyalty_redemption_basket_points_range",
            ),
            models.CheckConstraint(
                condition=~Q(state="confirmed") | Q(confirmed_at__isnull=False),
                name="loyalty_redemption_confirmed_dated",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["released", "rolled_back"]) | Q(closed_at__isnull=False),
                name="loyalty_redemption_closed_dated",
            ),
        ]
        indexes = [
            models.Index(fields=["expires_at"], name="loyalty_redemption_due_idx", condition=Q(state="reserved")),
            models.Index(fields=["source_kind", "source_reference"], name="loyalty_redemption_source_idx"),
            models.Index(fields=["member", "id"], name="loyalty_redemption_member_idx"),
        ]

    def __str__(self) -> str:
        return f"redemption {self.pk} {self.state} {self.discount_amount} {self.currency}"


class RedemptionLine(models.Model):
    """The part of a redemption's discount that one line carries (largest
    remainder allocation: the lines sum exactly to the discount)."""

    redemption = models.ForeignKey(Redemption, on_delete=models.CASCADE, related_name="lines")
    line_key = models.CharField(max_length=64, help_text="The order line's or ticket line's own key.")
    product_id = models.BigIntegerField(null=True, blank=True)
    sku = models.CharField(max_length=64, blank=True)
    quantity = models.PositiveIntegerField()
    discount_amount = models.DecimalField(max_digits=12, decimal_places=2)
    rolled_back_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["redemption", "line_key"], name="loyalty_redemption_line_unique"),
            models.CheckConstraint(
                condition=Q(discount_amount__gte=0, rolled_back_amount__gte=0)
                & Q(rolled_back_amount__lte=F("discount_amount")),
                name="loyalty_redemption_line_amounts_range",
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="loyalty_redemption_line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.redemption_id}/{self.line_key}: {self.discount_amount}"


class TillTicket(models.Model):
    """A ticket a store's till sent: idempotent by (store, ticket id) with a
    fingerprint of its content (the same id with other lines is refused).
    ``till_time`` is when the till rang it up (campaign windows are judged
    at that instant, within the program's ``late_ticket_days``)."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="tickets")
    store = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    ticket_id = models.CharField(max_length=64)
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets")
    till_time = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    fingerprint = models.CharField(max_length=64)
    currency = models.CharField(max_length=3)
    subtotal_amount = models.DecimalField(max_digits=12, decimal_places=2)
    discount_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    points_earned = models.BigIntegerField(default=0)
    lines = models.JSONField(default=list)
    # The answer given, replayed as is when the same ticket is sent again.
    outcome = models.JSONField(default=dict)
    late = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "ticket_id"], name="loyalty_ticket_store_ticket_unique"),
            models.CheckConstraint(
                condition=Q(subtotal_amount__gte=0, discount_amount__gte=0, points_earned__gte=0)
                & Q(discount_amount__lte=F("subtotal_amount")),
                name="loyalty_ticket_amounts_range",
            ),
        ]

    def __str__(self) -> str:
        return f"ticket {self.store_id}/{self.ticket_id}"
