"""Click-and-collect: slot schedules, pickup slots, holds, orders.

Counters (``PickupSlot.booked`` and ``held``) only move in guarded SQL in
commerce.services (one UPDATE whose WHERE mirrors the CHECK constraints
below); the constraints are the backstop if a code path ever forgets."""

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.db.models.lookups import LessThanOrEqual

from inventory.models import Location, Product
from partners.models import ApiClient

DEFAULT_DAYS_AHEAD = 7
DEFAULT_HOLD_MINUTES = 10
# A grocer's drive needs about two hours to pick a basket; cancelling later
# than that leaves prepared goods on the shelf.
DEFAULT_CANCEL_CUTOFF_MINUTES = 120
DEFAULT_NO_SHOW_GRACE_MINUTES = 60


class SlotSchedule(models.Model):
    """How a store opens pickup slots: its weekly windows, how many days ahead
    a day opens (``days_ahead``) and at which store-local time of day
    (``release_time``): the slots of day D open at ``release_time`` on D - days_ahead."""

    store = models.OneToOneField(Location, on_delete=models.CASCADE, related_name="slot_schedule")
    days_ahead = models.PositiveSmallIntegerField(default=DEFAULT_DAYS_AHEAD)
    release_time = models.TimeField(default=dt.time(0, 0))
    hold_minutes = models.PositiveSmallIntegerField(default=DEFAULT_HOLD_MINUTES)
    cancel_cutoff_minutes = models.PositiveIntegerField(default=DEFAULT_CANCEL_CUTOFF_MINUTES)
    no_show_grace_minutes = models.PositiveIntegerField(default=DEFAULT_NO_SHOW_GRACE_MINUTES)
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(days_ahead__lte=60), name="slotschedule_days_ahead_max"),
            models.CheckConstraint(
                condition=Q(hold_minutes__gte=1, hold_minutes__lte=120), name="slotschedule_hold_minutes_range"
            ),
        ]

    def __str__(self) -> str:
        return f"schedule of {self.store_id}"


class SlotWindow(models.Model):
    """One window of the weekly template: on ISO ``weekday`` (1 = Monday),
    slots of ``slot_minutes`` from ``opens`` to ``closes`` store-local, each
    for ``capacity`` orders. ``closes`` 00:00 is midnight at the end of the
    day; windows end by then, so every slot starts on its window's date."""

    schedule = models.ForeignKey(SlotSchedule, on_delete=models.CASCADE, related_name="windows")
    weekday = models.PositiveSmallIntegerField()
    opens = models.TimeField()
    closes = models.TimeField()
    slot_minutes = models.PositiveSmallIntegerField()
    capacity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["schedule", "weekday", "opens"], name="slotwindow_unique_start"),
            models.CheckConstraint(condition=Q(weekday__gte=1, weekday__lte=7), name="slotwindow_weekday_iso"),
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=5, slot_minutes__lte=24 * 60), name="slotwindow_slot_minutes_range"
            ),
        ]
        ordering = ["weekday", "opens"]

    def __str__(self) -> str:
        return f"{self.weekday} {self.opens}-{self.closes}/{self.slot_minutes}min x{self.capacity}"


class SlotException(models.Model):
    """A change of the template for one store-local date: the whole day
    (``slot_start`` null) or the slot starting at ``slot_start``; either
    closed or with another capacity. Read when the day's slots are created."""

    schedule = models.ForeignKey(SlotSchedule, on_delete=models.CASCADE, related_name="exceptions")
    date = models.DateField()
    slot_start = models.TimeField(null=True, blank=True)
    closed = models.BooleanField(default=False)
    capacity = models.PositiveIntegerField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "date", "slot_start"], name="slotexception_unique", nulls_distinct=False
            ),
            models.CheckConstraint(
                condition=Q(closed=True) | Q(capacity__isnull=False), name="slotexception_closed_or_capacity"
            ),
        ]
        ordering = ["date", "slot_start"]

    def __str__(self) -> str:
        return f"{self.date} {self.slot_start or 'all day'}: {'closed' if self.closed else self.capacity}"


class PickupSlot(models.Model):
    """A time window in which customers collect orders at a store.
    ``booked`` counts orders, ``held`` unexpired-or-not-yet-swept holds;
    together they never exceed ``capacity``. Not bookable before ``release_at``
    (checked against the database clock in the booking statement)."""

    store = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="pickup_slots")
    local_date = models.DateField(help_text="Store-local date of the start.")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    release_at = models.DateTimeField()
    capacity = models.PositiveIntegerField()
    booked = models.IntegerField(default=0)
    held = models.IntegerField(default=0)
    is_closed = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "starts_at"], name="pickupslot_store_start_unique"),
            models.CheckConstraint(condition=Q(booked__gte=0), name="pickupslot_booked_not_negative"),
            models.CheckConstraint(condition=Q(held__gte=0), name="pickupslot_held_not_negative"),
            models.CheckConstraint(
                condition=LessThanOrEqual(F("booked") + F("held"), F("capacity")), name="pickupslot_within_capacity"
            ),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="pickupslot_ends_after_start"),
        ]
        indexes = [models.Index(fields=["store", "local_date"], name="pickupslot_store_date_idx")]

    def __str__(self) -> str:
        return f"{self.store_id}@{self.starts_at:%Y-%m-%d %H:%M}Z {self.booked}+{self.held}/{self.capacity}"


class SlotRelease(models.Model):
    """A store-local day whose slots were released. Its unique key is what
    makes ``slots.released`` go out once per store and day, however many
    release runs overlap."""

    store = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="slot_releases")
    local_date = models.DateField()
    release_at = models.DateTimeField()
    slot_count = models.PositiveIntegerField()
    released_at = models.DateTimeField(db_default=Now())

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "local_date"], name="slotrelease_store_date_unique")]

    def __str__(self) -> str:
        return f"{self.store_id} {self.local_date}"


class HoldState(models.TextChoices):
    ACTIVE = "active", "Active"
    CONSUMED = "consumed", "Consumed by an order"
    RELEASED = "released", "Released by its owner"
    EXPIRED = "expired", "Expired"


class SlotHold(models.Model):
    """A temporary claim on one unit of a slot while a customer checks out.
    It belongs to the client that took it and, for shopper tokens, to the
    user; a user has at most one active hold."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slot = models.ForeignKey(PickupSlot, on_delete=models.CASCADE, related_name="holds")
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    state = models.CharField(max_length=10, choices=HoldState.choices, default=HoldState.ACTIVE)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(db_default=Now())
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(state="active", user__isnull=False),
                name="slothold_one_active_per_user",
            ),
        ]
        indexes = [
            models.Index(fields=["slot"], condition=Q(state="active"), name="slothold_active_slot_idx"),
            models.Index(fields=["expires_at"], condition=Q(state="active"), name="slothold_active_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"hold {self.public_id} on {self.slot_id} ({self.state})"


class OrderStatus(models.TextChoices):
    PLACED = "placed", "Placed"
    PREPARING = "preparing", "Preparing"
    READY = "ready", "Ready for pickup"
    COLLECTED = "collected", "Collected"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "Not collected"


OPEN_STATUSES = (OrderStatus.PLACED, OrderStatus.PREPARING, OrderStatus.READY)


class Order(models.Model):
    """A click-and-collect order: one store, one pickup slot, lines priced
    from the catalogue when placed. ``public_id`` is the id the API shows
    (not guessable); ``placed_by`` is the client that placed it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    store = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="orders")
    slot = models.ForeignKey(PickupSlot, on_delete=models.PROTECT, related_name="orders")
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pickup_orders")
    placed_by = models.ForeignKey(ApiClient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=OrderStatus.choices, default=OrderStatus.PLACED)
    currency = models.CharField(max_length=3, default="EUR")
    total_amount = models.DecimalField(max_digits=12, decimal_places=2)
    item_count = models.PositiveIntegerField()
    idempotency_key = models.CharField(max_length=255, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now(), db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(total_amount__gte=0), name="order_total_not_negative"),
        ]
        indexes = [
            models.Index(fields=["customer", "created_at"], name="order_customer_created_idx"),
            models.Index(fields=["store", "created_at"], name="order_store_created_idx"),
            models.Index(fields=["slot", "status"], name="order_slot_status_idx"),
            models.Index(fields=["created_at"], name="order_created_idx"),
            # The no-show sweep reads only open orders: few, whatever the history.
            models.Index(
                fields=["slot"], condition=Q(status__in=["placed", "preparing", "ready"]), name="order_open_slot_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"order {self.public_id} ({self.status})"


class OrderLine(models.Model):
    """A product and quantity of an order, with the price captured when placed."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=64)
    name_fr = models.CharField(max_length=255)
    name_en = models.CharField(max_length=255, blank=True)
    quantity = models.PositiveIntegerField()
    unit_price_amount = models.DecimalField(max_digits=12, decimal_places=2)
    line_total_amount = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orderline_quantity_positive"),
            models.UniqueConstraint(fields=["order", "product"], name="orderline_product_once"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class OrderStatusChange(models.Model):
    """The status history: who moved the order where, and when (database
    clock). ``actor_client`` null means the system (the no-show task)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=10, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=OrderStatus.choices)
    at = models.DateTimeField(db_default=Now())
    actor_client = models.ForeignKey(ApiClient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["order", "at"], name="orderstatus_order_at_idx")]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status or '-'} -> {self.to_status}"
