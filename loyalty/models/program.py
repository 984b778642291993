"""A loyalty program (its currency, time zone and points rules) and its
members, each with a card for the till and the points counters that the
ledger (``loyalty.models.points``) must always add up to."""

import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from inventory.models import Location, validate_time_zone


class ReturnPolicy(models.TextChoices):
    """What a return does to points already earned on the returned goods."""

    # Only points still pending are taken back; active points stay with the member.
    ONLY_PENDING = "only_pending", "Only pending points"
    # Pending points first, then active points up to the member's balance; never below zero.
    WITHIN_BALANCE = "within_balance", "Within the balance"
    # Everything earned is taken back; what the balance lacks becomes a debt
    # that the next points earned pay off first.
    ALLOW_NEGATIVE = "allow_negative", "Allow a negative balance"


_CURRENCY = r"^[A-Z]{3}$"


class Program(models.Model):
    """The rules every date and amount of a loyalty program follows. All
    dates (pending periods, month-end expiry, campaign hours, the nightly
    job) are computed in ``time_zone``, so they stay right across DST."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, default="EUR")
    time_zone = models.CharField(max_length=64, default="Europe/Paris", validators=[validate_time_zone])
    earn_rate = models.DecimalField(
        max_digits=8, decimal_places=3, default=Decimal(1), help_text="Points per currency unit paid."
    )
    pending_days = models.PositiveSmallIntegerField(
        default=30, help_text="Days of the return window: points activate at the first local midnight after it."
    )
    expiry_months = models.PositiveSmallIntegerField(
        default=12, help_text="Points expire at the end of the month N months after the month they were earned."
    )
    burn_rate = models.DecimalField(
        max_digits=10, decimal_places=4, default=Decimal("0.01"), help_text="Money one point pays."
    )
    return_policy = models.CharField(max_length=16, choices=ReturnPolicy.choices, default=ReturnPolicy.ONLY_PENDING)
    reservation_minutes = models.PositiveIntegerField(
        default=30, help_text="How long a coupon reservation holds before the nightly job may release it."
    )
    late_ticket_days = models.PositiveSmallIntegerField(
        default=7, help_text="How late a till ticket may arrive and still count in its campaign window."
    )
    # The last local date whose nightly job completed: the next run catches up from the day after.
    nightly_done_on = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(currency__regex=_CURRENCY), name="loyalty_program_currency_iso"),
            models.CheckConstraint(condition=Q(earn_rate__gte=0), name="loyalty_program_earn_rate_not_negative"),
            models.CheckConstraint(condition=Q(burn_rate__gt=0), name="loyalty_program_burn_rate_positive"),
            models.CheckConstraint(
                condition=Q(expiry_months__gte=1, expiry_months__lte=120), name="loyalty_program_expiry_months_range"
            ),
            models.CheckConstraint(condition=Q(pending_days__lte=365), name="loyalty_program_pending_days_range"),
            models.CheckConstraint(
                condition=Q(return_policy__in=ReturnPolicy.values), name="loyalty_program_return_policy_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


_EAN13 = re.compile(r"[0-9]{13}")


def ean13_check_digit(body: str) -> int:
    """GS1 check digit of the first twelve digits (weights 1, 3 from the left)."""
    total = sum(int(digit) * (3 if position % 2 else 1) for position, digit in enumerate(body))
    return (10 - total % 10) % 10


def is_valid_card_number(value: str) -> bool:
    return bool(_EAN13.fullmatch(value)) and ean13_check_digit(value[:12]) == int(value[12])


def validate_card_number(value: str) -> None:
    if not _EAN13.fullmatch(value):
        raise ValidationError("A card number is an EAN-13: thirteen digits.", code="invalid_card_number")
    if ean13_check_digit(value[:12]) != int(value[12]):
        raise ValidationError("The card number's check digit is wrong.", code="invalid_card_check_digit")


class Member(models.Model):
    """A member of a program: a card at the till, optionally a shopper's
    account in the apps. The three points counters move only with a
    ``PointsMovement`` (the ledger check proves they equal its sums):
    ``points_pending`` (earned, inside the return window), ``points_active``
    (spendable) and ``points_debt`` (taken back by a return beyond the
    balance, under ``allow_negative``; paid off first by the next points).
    The balance a member sees is ``points_active - points_debt``."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="loyalty_members"
    )
    card_number = models.CharField(max_length=13, unique=True, validators=[validate_card_number])
    home_store = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="loyalty_members"
    )
    consent_targeted_offers = models.BooleanField(default=False)
    points_pending = models.BigIntegerField(default=0)
    points_active = models.BigIntegerField(default=0)
    points_debt = models.BigIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "user"], name="loyalty_member_one_per_user_and_program"),
            models.CheckConstraint(condition=Q(card_number__regex=r"^[0-9]{13}$"), name="loyalty_member_card_ean13"),
            models.CheckConstraint(condition=Q(points_pending__gte=0), name="loyalty_member_pending_not_negative"),
            models.CheckConstraint(condition=Q(points_active__gte=0), name="loyalty_member_active_not_negative"),
            models.CheckConstraint(condition=Q(points_debt__gte=0), name="loyalty_member_debt_not_negative"),
        ]

    def __str__(self) -> str:
        return f"member {self.card_number}"

    @property
    def points_balance(self) -> int:
        return self.points_active - self.points_debt


class MemberPurchase(models.Model):
    """The last local date a member bought a category at a store: what the
    audience "members who bought category C in the last N days (at stores S)"
    reads. Written when points are earned on a collected order or a till
    ticket, one row per (member, store, category)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="purchases")
    store = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=120)
    last_bought_on = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member", "store", "category"], name="loyalty_purchase_member_store_category_unique"
            ),
        ]
        indexes = [models.Index(fields=["category", "last_bought_on"], name="loyalty_purchase_category_idx")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.category}@{self.store_id} {self.last_bought_on}"
