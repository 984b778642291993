"""The points ledger: one bucket per earning, one movement per change.

A bucket's ``remaining`` is what is left of it in its current state; the
member's counters are the sums of the movements, and also the sums of the
buckets' ``remaining`` per state (pending and active): the ledger check
(``check_points_ledger``) proves both."""

from django.db import models
from django.db.models import F, Q

from loyalty.models.program import Member


class BucketState(models.TextChoices):
    PENDING = "pending", "Pending"
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    SPENT = "spent", "Spent"
    # Taken back by a return before it was spent (the bucket's points left the ledger).
    REVERSED = "reversed", "Reversed"


class PointsBucket(models.Model):
    """The points of one earning (an order, a till ticket, an adjustment):
    ``amount`` earned, ``remaining`` not yet spent, expired or reversed.
    Spending burns the active buckets that expire first (FIFO by expiry)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="buckets")
    amount = models.BigIntegerField()
    remaining = models.BigIntegerField()
    state = models.CharField(max_length=10, choices=BucketState.choices, default=BucketState.PENDING)
    earned_at = models.DateTimeField()
    activates_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    # What earned it, e.g. "order:<uuid>" or "ticket:PAR01:T-1234"; unique per member so
    # that an earning replayed by a retried task or a resent ticket is one bucket.
    source = models.CharField(max_length=160)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="loyalty_bucket_amount_positive"),
            models.CheckConstraint(
                condition=Q(remaining__gte=0, remaining__lte=F("amount")), name="loyalty_bucket_remaining_range"
            ),
            models.CheckConstraint(condition=Q(state__in=BucketState.values), name="loyalty_bucket_state_valid"),
            # Expired, spent and reversed buckets hold nothing any more.
            models.CheckConstraint(
                condition=Q(state__in=[BucketState.PENDING, BucketState.ACTIVE]) | Q(remaining=0),
                name="loyalty_bucket_closed_is_empty",
            ),
            models.CheckConstraint(
                condition=Q(earned_at__lte=F("activates_at"), activates_at__lte=F("expires_at")),
                name="loyalty_bucket_dates_ordered",
            ),
            models.UniqueConstraint(fields=["member", "source"], name="loyalty_bucket_member_source_unique"),
        ]
        indexes = [
            # FIFO burn (active buckets of a member by expiry) and the nightly sweeps.
            models.Index(
                fields=["member", "expires_at", "id"],
                name="loyalty_bucket_open_fifo_idx",
                condition=Q(state__in=["pending", "active"]),
            ),
            models.Index(fields=["activates_at"], name="loyalty_bucket_pending_idx", condition=Q(state="pending")),
            models.Index(fields=["expires_at"], name="loyalty_bucket_active_idx", condition=Q(state="active")),
        ]

    def __str__(self) -> str:
        return f"bucket {self.pk} {self.remaining}/{self.amount} {self.state}"


class MovementKind(models.TextChoices):
    EARN = "earn", "Earned (pending)"
    ACTIVATE = "activate", "Activated"
    EXPIRE = "expire", "Expired"
    SPEND = "spend", "Spent"
    REFUND = "refund", "Spending given back"
    REVERSE = "reverse", "Taken back by a return"
    DEBT = "debt", "Debt from a return"
    SETTLE = "settle", "Debt paid off"
    ADJUST = "adjust", "Adjustment"


class PointsMovement(models.Model):
    """One change of a member's points. The deltas summed per member give
    its counters; the ``*_after`` figures record the counters right after."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="movements")
    bucket = models.ForeignKey(PointsBucket, null=True, blank=True, on_delete=models.CASCADE, related_name="movements")
    kind = models.CharField(max_length=10, choices=MovementKind.choices)
    delta_pending = models.BigIntegerField(default=0)
    delta_active = models.BigIntegerField(default=0)
    delta_debt = models.BigIntegerField(default=0)
    pending_after = models.BigIntegerField()
    active_after = models.BigIntegerField()
    debt_after = models.BigIntegerField()
    reference = models.CharField(max_length=160, blank=True, help_text="What caused it, e.g. order:<uuid>.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=MovementKind.values), name="loyalty_movement_kind_valid"),
            models.CheckConstraint(
                condition=~Q(delta_pending=0, delta_active=0, delta_debt=0), name="loyalty_movement_changes_something"
            ),
            models.CheckConstraint(
                condition=Q(pending_after__gte=0, active_after__gte=0, debt_after__gte=0),
                name="loyalty_movement_after_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["member", "id"], name="loyalty_movement_member_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.delta_pending:+d}/{self.delta_active:+d}/{self.delta_debt:+d} on {self.member_id}"
