"""Locations (stores, warehouses, partner stores) and which store a store or
device client acts for."""

import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from partners.models import ApiClient, Partner


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone.")


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
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    time_zone = models.CharField(max_length=64, default="Europe/Paris", validators=[validate_time_zone])
    opening_hours = models.JSONField(
        default=dict, blank=True, help_text='Per ISO weekday 1-7: [["08:30", "20:00"]] in store-local time.'
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

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ClientLocation(models.Model):
    """The store a store or device client acts for (one store per client)."""

    client = models.OneToOneField(ApiClient, on_delete=models.CASCADE, related_name="location_binding")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="client_bindings")

    def __str__(self) -> str:
        return f"{self.client_id} -> {self.location_id}"
