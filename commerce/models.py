"""Click-and-collect: slot schedules, pickup slots, holds, orders.

Counters (``PickupSlot.booked`` and ``held``) only move in guarded SQL in
commerce.services (one UPDATE whose WHERE mirrors the CHECK constraints
below); the constraints are the backstop if a code path ever forgets."""

import datetime as dt
import uuid
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.db.models.lookups import LessThanOrEqual

from inventory.models import Location, Product
from loyalty.models import Member, Program
from partners.models import ApiClient, Partner

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
    (not guessable); ``placed_by`` is the client that placed it.

    With a loyalty part: ``total_amount`` is what is paid in money, that is
    the lines' subtotal less ``discount_amount`` (the coupons and offers,
    allocated to the lines) less ``points_amount`` (what ``points_spent``
    pay); ``points_to_earn`` are earned when it is collected."""

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
    discount_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0, db_default=0)
    program = models.ForeignKey(
        Program, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="The loyalty program."
    )
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="The loyalty member."
    )
    points_spent = models.BigIntegerField(default=0, db_default=0)
    points_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0, db_default=0)
    points_to_earn = models.BigIntegerField(default=0, db_default=0)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now(), db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(total_amount__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(
                condition=Q(discount_amount__gte=0, points_amount__gte=0, points_spent__gte=0, points_to_earn__gte=0),
                name="order_loyalty_amounts_not_negative",
            ),
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

    @property
    def subtotal_amount(self) -> Decimal:
        """The lines at catalogue price, before discounts and points."""
        return order_subtotal(self.total_amount, self.discount_amount, self.points_amount)


def order_subtotal(total_amount: Decimal, discount_amount: Decimal, points_amount: Decimal) -> Decimal:
    """An order's lines at catalogue price (``Order.subtotal_amount``), from
    its columns: what it pays in money, plus its discount and its points."""
    return total_amount + discount_amount + points_amount


class OrderLine(models.Model):
    """A product and quantity of an order, with the price captured when placed."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=64)
    name_fr = models.CharField(max_length=255)
    name_en = models.CharField(max_length=255, blank=True)
    quantity = models.PositiveIntegerField()
    unit_price_amount = models.DecimalField(max_digits=12, decimal_places=2)
    line_total_amount = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="Quantity times the unit price, before the discount."
    )
    discount_amount = models.DecimalField(
        max_digits=12, decimal_places=2, default=0, db_default=0, help_text="This line's share of the discounts."
    )
    # The recommendation answer the product was taken from, when the app said
    # so, with the offer's kind and source copied (the analytics group by them).
    recommendation = models.ForeignKey(
        "RecommendationImpression", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recommendation_kind = models.CharField(max_length=10, blank=True, default="", db_default="")
    recommendation_source = models.CharField(max_length=12, blank=True, default="", db_default="")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orderline_quantity_positive"),
            models.CheckConstraint(
                condition=Q(discount_amount__gte=0, discount_amount__lte=F("line_total_amount")),
                name="orderline_discount_within_line",
            ),
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


# ---------------------------------------------------------------- cross-sell and upsell
# What a shopper is offered beside a product or a basket (commerce.recommendations):
# relations curated by the operator or a partner, and the co-purchase model mined
# from baskets. The model is rebuilt into a new version and switched in one UPDATE
# of CoPurchaseActive, so a read sees one whole version or the previous one.


class RelationKind(models.TextChoices):
    CROSS_SELL = "cross_sell", "Cross-sell (complement)"
    UPSELL = "upsell", "Upsell (better or bigger alternative)"


class RelationSource(models.TextChoices):
    CURATED = "curated", "Curated"
    MINED = "mined", "Mined from baskets"


class ProductRelation(models.Model):
    """``to_product`` offered beside ``from_product``. Curated relations are
    written through the curation API by the operator (``curated_by`` null) or
    a partner between two of its own products; they win over mined scores.
    ``weight`` orders the curated offers of one product (higher first);
    outside ``valid_from``/``valid_until`` the relation is not offered."""

    from_product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    to_product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=RelationKind.choices)
    source = models.CharField(max_length=8, choices=RelationSource.choices, default=RelationSource.CURATED)
    weight = models.DecimalField(max_digits=6, decimal_places=3, default=1)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    curated_by = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.CASCADE, related_name="+", help_text="Null: the operator."
    )
    created_by = models.ForeignKey(ApiClient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now(), db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["from_product", "to_product", "kind"], name="relation_unique_pair_kind"),
            models.CheckConstraint(condition=~Q(from_product=F("to_product")), name="relation_not_to_itself"),
            models.CheckConstraint(condition=Q(weight__gte=0), name="relation_weight_not_negative"),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")),
                name="relation_window_ordered",
            ),
        ]
        indexes = [models.Index(fields=["from_product", "kind"], name="relation_from_kind_idx")]

    def __str__(self) -> str:
        return f"{self.from_product_id} -{self.kind}-> {self.to_product_id} ({self.source})"


class ModelPurpose(models.TextChoices):
    LIVE = "live", "Serves recommendations"
    SCRATCH = "scratch", "Evaluation (never served)"


class ModelState(models.TextChoices):
    BUILDING = "building", "Building"
    READY = "ready", "Built"
    FAILED = "failed", "Failed"


class CoPurchaseModel(models.Model):
    """One build of the co-purchase model: its scores and item counts are
    keyed by this row. ``progress`` (0-100) is what the rebuild endpoint
    shows; ``method`` and ``parameters`` say how the scores were mined."""

    purpose = models.CharField(max_length=8, choices=ModelPurpose.choices, default=ModelPurpose.LIVE)
    method = models.CharField(max_length=20)
    parameters = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=8, choices=ModelState.choices, default=ModelState.BUILDING)
    progress = models.PositiveSmallIntegerField(default=0)
    basket_count = models.PositiveIntegerField(default=0)
    item_count = models.PositiveIntegerField(default=0)
    score_count = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(ApiClient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(db_default=Now())
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="copurchasemodel_progress_max"),
            # One live build at a time: a second request is told the first one's id.
            models.UniqueConstraint(
                fields=["purpose"], condition=Q(state="building", purpose="live"), name="copurchasemodel_one_live_build"
            ),
        ]

    def __str__(self) -> str:
        return f"co-purchase model {self.pk} ({self.purpose}, {self.method}, {self.state})"


class CoPurchaseActive(models.Model):
    """Which built model serves a purpose: one row per purpose, switched by
    one UPDATE, so readers never wait for a rebuild nor see half of one."""

    purpose = models.CharField(max_length=8, choices=ModelPurpose.choices, unique=True)
    model = models.ForeignKey(CoPurchaseModel, on_delete=models.PROTECT, related_name="+")
    switched_at = models.DateTimeField(db_default=Now())

    def __str__(self) -> str:
        return f"{self.purpose} -> {self.model_id}"


class CoPurchaseScore(models.Model):
    """How strongly a basket holding ``product`` calls for ``other``
    (``score``), and in how many baskets the two were bought together
    (``baskets``, the readable reason). Only the best few per product are
    kept. No foreign-key constraints: a build writes millions of rows by COPY
    and old versions are dropped whole; products are read through inventory."""

    pk = models.CompositePrimaryKey("model_id", "product_id", "other_id")
    # The primary key (model, product, other) is the only index: reads go by model and product.
    model = models.ForeignKey(
        CoPurchaseModel, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    product = models.ForeignKey(
        Product, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    other = models.ForeignKey(
        Product, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    score = models.FloatField()
    baskets = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.product_id} -> {self.other_id}: {self.score:.4f} ({self.baskets} baskets)"


class CoPurchaseItem(models.Model):
    """How many baskets of a build held ``product``: network-wide
    (``store`` null, imported till baskets included) or at one store
    (collected orders). ``prior`` is the share of baskets, the popularity
    prior blended into every score; ``category`` is copied from the catalogue
    at build time so cold-start best sellers are read from this table alone."""

    model = models.ForeignKey(
        CoPurchaseModel, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    store = models.ForeignKey(
        Location,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    product = models.ForeignKey(
        Product, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    category = models.CharField(max_length=120, blank=True)
    baskets = models.PositiveIntegerField()
    prior = models.FloatField()

    class Meta:
        # The network rows (store null) are read on every request: their own partial indexes, so
        # that the per-store rows (up to one per store and product) are never scanned for them.
        # Measured at 2,000 products and 1,800 stores: the scoring statement 4.5 -> 0.6 ms.
        indexes = [
            models.Index(
                "model", F("baskets").desc(), "product", condition=Q(store__isnull=True), name="copurchaseitem_best_idx"
            ),
            models.Index(
                fields=["model", "product"], condition=Q(store__isnull=True), name="copurchaseitem_product_idx"
            ),
            models.Index(fields=["model", "store", "category", "baskets"], name="copurchaseitem_category_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.store_id or 'network'}: {self.baskets} baskets"


class ImportedBasket(models.Model):
    """A till basket imported from a file (``manage.py import_baskets``), as
    the ids of the products it held; mined with collected orders."""

    source = models.CharField(max_length=200, help_text="The file it came from.")
    position = models.PositiveIntegerField(help_text="Its line in that file (1-based).")
    product_ids = ArrayField(models.BigIntegerField())
    imported_at = models.DateTimeField(db_default=Now())

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "position"], name="importedbasket_line_once")]

    def __str__(self) -> str:
        return f"{self.source}:{self.position} ({len(self.product_ids)} products)"


class RecommendationImpression(models.Model):
    """One recommendations answer as shown: its id is the ``recommendation_id``
    an app passes back on the order lines it led to, and ``items`` the offers
    it held (``[product id, kind, source]`` each), counted as impressions by
    the analytics. Written by one statement per answer."""

    id = models.UUIDField(primary_key=True)
    store = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(ApiClient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    items = models.JSONField()
    shown_at = models.DateTimeField(db_default=Now())

    class Meta:
        indexes = [models.Index(fields=["shown_at"], name="reco_impression_shown_idx")]

    def __str__(self) -> str:
        return f"recommendation {self.id} at {self.store_id}"
