"""Locations (stores, warehouses, partner stores) and which store a store or
device client acts for."""

import functools
import re
import zoneinfo

import holidays
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from partners.models import ApiClient, Partner


@functools.cache
def iana_time_zones() -> frozenset[str]:
    """Every IANA zone name this machine knows (read from disk once: the scan takes tens of ms)."""
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in iana_time_zones():
        raise ValidationError(f"{value!r} is not an IANA time zone.")


def holiday_subdivisions(country: str) -> frozenset[str]:
    """The regions of ``country`` that the public holiday calendar (the
    ``holidays`` package) knows; empty for a country it does not know."""
    return frozenset(holidays.list_supported_countries().get(country.upper(), []))


_GTIN_SHAPE = re.compile(r"[0-9]{8}|[0-9]{12,14}")


def gtin_check_digit(body: str) -> int:
    """GS1 check digit of the digits before it: weights 3, 1, 3... from the right."""
    total = sum(int(digit) * (3 if position % 2 == 0 else 1) for position, digit in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def validate_gtin(value: str) -> None:
    """GTIN-8, -12 (UPC-A), -13 (EAN) or -14 with a correct check digit."""
    if not _GTIN_SHAPE.fullmatch(value):
        raise ValidationError("A GTIN has 8, 12, 13 or 14 digits.", code="invalid_gtin")
    if gtin_check_digit(value[:-1]) != int(value[-1]):
        raise ValidationError("The GTIN check digit is wrong.", code="invalid_gtin_check_digit")


_CLOCK = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]|24:00")
MAX_INTERVALS_PER_DAY = 4


def validate_opening_hours(value: object) -> None:
    """``{"1": [["08:30", "12:30"], ["14:00", "19:00"]], ...}``: ISO weekdays
    1 (Monday) to 7, each a list of increasing, non-overlapping local
    intervals ("24:00" may end a day). A day left out is a closed day."""
    if not isinstance(value, dict):
        raise ValidationError("Opening hours are an object keyed by ISO weekday 1-7.", code="invalid_opening_hours")
    for day, intervals in value.items():
        if day not in {"1", "2", "3", "4", "5", "6", "7"}:
            raise ValidationError(f"{day!r} is not an ISO weekday (1-7).", code="invalid_opening_hours")
        if not isinstance(intervals, list) or len(intervals) > MAX_INTERVALS_PER_DAY:
            raise ValidationError(
                f"Day {day}: a list of at most {MAX_INTERVALS_PER_DAY} intervals.", code="invalid_opening_hours"
            )
        previous_end = ""
        for interval in intervals:
            if (
                not isinstance(interval, list)
                or len(interval) != 2
                or not all(isinstance(t, str) and _CLOCK.fullmatch(t) for t in interval)
            ):
                raise ValidationError(
                    f'Day {day}: intervals look like ["08:30", "20:00"].', code="invalid_opening_hours"
                )
            start, end = interval
            if not previous_end <= start < end or start == "24:00":
                raise ValidationError(
                    f"Day {day}: intervals must increase and not overlap.", code="invalid_opening_hours"
                )
            previous_end = end


class LocationKind(models.TextChoices):
    STORE = "store", "Store"
    WAREHOUSE = "warehouse", "Warehouse"
    PARTNER_STORE = "partner_store", "Partner store"


class Location(models.Model):
    """A place that holds stock. A store is a location of kind ``store``;
    ``owner`` is null for the retailer's own locations and the partner otherwise."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=LocationKind.choices)
    owner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="locations")
    address = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=120, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, default="FR")
    subdivision = models.CharField(
        max_length=10,
        blank=True,
        default="",
        db_default="",
        help_text="Region within the country as the public holiday calendar names it (the ISO 3166-2 code "
        'after the dash: "CA" for California, "57" for Moselle); blank: the national holidays only.',
    )
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    time_zone = models.CharField(max_length=64, default="Europe/Paris", validators=[validate_time_zone])
    opening_hours = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_opening_hours],
        help_text='Per ISO weekday 1-7: [["08:30", "20:00"]] in store-local time.',
    )
    click_and_collect = models.BooleanField(default=False)
    lead_time_days = models.PositiveSmallIntegerField(
        default=0, help_text="For partner locations: days to deliver into a store."
    )
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="location_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="location_longitude_range",
            ),
        ]
        indexes = [
            # The bounding-box prefilter of "stores near a point" (inventory.selectors.availability).
            models.Index(fields=["latitude", "longitude"], name="location_lat_lng_idx"),
            # The supply locations (warehouses, partner stores) availability at a store
            # looks through: a few among thousands of stores, found without reading
            # every location (inventory.sql AVAILABILITY_AT_STORE).
            models.Index(
                fields=["id"],
                condition=~Q(kind=LocationKind.STORE) & Q(is_active=True),
                name="location_supply_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ClientLocation(models.Model):
    """The store a store or device client acts for (one store per client)."""

    client = models.OneToOneField(ApiClient, on_delete=models.CASCADE, related_name="location_binding")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="client_bindings")

    def __str__(self) -> str:
        return f"{self.client_id} -> {self.location_id}"


class Product(models.Model):
    """A sellable item. ``owner`` is null for the retailer's catalogue and the
    partner for products a partner publishes. SKUs are unique per owner."""

    owner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="products")
    sku = models.CharField(max_length=64)
    gtin = models.CharField(
        max_length=14, blank=True, validators=[validate_gtin], help_text="GTIN-8/12/13/14 with a valid check digit."
    )
    brand = models.CharField(max_length=120, blank=True)
    category = models.CharField(max_length=120, blank=True, db_index=True)
    price_amount = models.DecimalField(max_digits=12, decimal_places=2)
    price_currency = models.CharField(max_length=3, default="EUR")
    name_fr = models.CharField(max_length=255)
    name_en = models.CharField(max_length=255, blank=True)
    description_fr = models.TextField(blank=True)
    description_en = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "sku"], name="product_owner_sku_unique", nulls_distinct=False),
            models.CheckConstraint(condition=Q(price_amount__gte=0), name="product_price_not_negative"),
            models.CheckConstraint(condition=Q(gtin__regex=r"^([0-9]{8}|[0-9]{12,14})?$"), name="product_gtin_digits"),
        ]
        indexes = [
            # Bulk sync and availability resolve SKUs across owners; the unique index leads with owner.
            models.Index(fields=["sku"], name="product_sku_idx"),
            models.Index(fields=["gtin"], name="product_gtin_idx"),
            # ``q`` (icontains on the names) is served by trigram indexes created in migration 0003
            # with RunSQL: Django's OpClass renders the UPPER() expression without the parentheses
            # PostgreSQL needs.
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name_fr}"


class StockLevel(models.Model):
    """Stock of one product at one location. ``available`` = on hand -
    reserved, computed by PostgreSQL; constraints keep it from going negative.
    Counters only move through inventory.services (guarded SQL), each change
    with a StockMovement."""

    # No single-column indexes: the unique (product, location) and the (location, product)
    # indexes serve both foreign keys, and leaving every column an update touches unindexed
    # lets PostgreSQL update levels in place (HOT, with the table's fillfactor 80), so a bulk
    # sync of 5,000 levels writes no index entry at all.
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stock_levels", db_index=False)
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="stock_levels", db_index=False)
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    available = models.GeneratedField(
        expression=models.F("on_hand") - models.F("reserved"), output_field=models.IntegerField(), db_persist=True
    )
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "location"], name="stock_product_location_unique"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_not_negative"),
            models.CheckConstraint(
                condition=Q(reserved__lte=models.F("on_hand")), name="stock_reserved_within_on_hand"
            ),
        ]
        indexes = [models.Index(fields=["location", "product"], name="stock_location_product_idx")]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.location_id}: {self.on_hand}/{self.reserved}"


class MovementReason(models.TextChoices):
    SYNC = "sync", "Sync"
    ADJUSTMENT = "adjustment", "Adjustment"
    RESERVATION = "reservation", "Reservation"
    RELEASE = "release", "Release"
    SALE = "sale", "Sale"
    RETURN = "return", "Return"


class StockMovement(models.Model):
    """The ledger: one row per change of a stock level. Summing
    ``delta_on_hand`` and ``delta_reserved`` per level gives the level."""

    stock_level = models.ForeignKey(StockLevel, on_delete=models.CASCADE, related_name="movements")
    reason = models.CharField(max_length=16, choices=MovementReason.choices)
    delta_on_hand = models.IntegerField(default=0)
    delta_reserved = models.IntegerField(default=0)
    on_hand_after = models.IntegerField()
    reserved_after = models.IntegerField()
    # Who made the change, for the audit trail. No database constraint: checking it cost a
    # lookup per movement at commit (35 ms per 5,000-line sync measured); the writers set it
    # from the authenticated client, and deleting a client still nulls it (Django's SET_NULL).
    actor = models.ForeignKey(
        ApiClient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    idempotency_key = models.CharField(max_length=255, blank=True)
    reference = models.CharField(max_length=120, blank=True, help_text="What caused it, e.g. order:42.")
    # Not indexed: nothing reads the ledger by time, and every sync line inserts a movement.
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.reason} {self.delta_on_hand:+d}/{self.delta_reserved:+d} on {self.stock_level_id}"
