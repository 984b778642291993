"""The back office's view of inventory. Stock levels and the ledger are read
only here (counters move only through the services, each with a movement);
locations and products save through the services too, so versions, ETags
and product events stay right."""

from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from inventory import services
from inventory.models import ClientLocation, Location, Product, StockLevel, StockMovement

_VERSIONED_READONLY = ("version", "created_at", "updated_at")


def _changed_fields(form: ModelForm[Any]) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin[Location]):
    list_display = ("code", "name", "kind", "owner", "city", "time_zone", "click_and_collect", "is_active")
    list_filter = ("kind", "click_and_collect", "is_active")
    search_fields = ("code", "name", "city")
    readonly_fields = _VERSIONED_READONLY

    def get_readonly_fields(self, request: HttpRequest, obj: Location | None = None) -> Any:
        # A location's code, kind and owner are set when it is created, as
        # through the API: orders, stock and the read cache's keys rely on it
        # (inventory.selectors.locations.location_is_store).
        if obj is None:
            return self.readonly_fields
        return (*self.readonly_fields, "code", "kind", "owner")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A location is closed (is_active off), never deleted: its code could
        # otherwise come back as another kind of place.
        return False

    def save_model(self, request: HttpRequest, obj: Location, form: ModelForm[Any], change: bool) -> None:
        fields = _changed_fields(form)
        if change:
            for fixed in ("code", "kind", "owner"):
                fields.pop(fixed, None)
            services.location_update(location=obj, expected_version=obj.version, fields=fields)
        else:
            owner = fields.pop("owner", None)
            obj.pk = services.location_create(owner=owner, fields=fields).pk


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin[Product]):
    list_display = ("sku", "name_fr", "owner", "category", "price_amount", "price_currency", "is_active")
    list_filter = ("is_active", "category")
    search_fields = ("sku", "gtin", "name_fr", "name_en")
    readonly_fields = _VERSIONED_READONLY

    def get_readonly_fields(self, request: HttpRequest, obj: Product | None = None) -> tuple[str, ...]:
        return (*_VERSIONED_READONLY, "sku", "owner") if obj is not None else _VERSIONED_READONLY

    def save_model(self, request: HttpRequest, obj: Product, form: ModelForm[Any], change: bool) -> None:
        fields = _changed_fields(form)
        if change:
            services.product_update(product=obj, expected_version=obj.version, fields=fields)
        else:
            owner = fields.pop("owner", None)
            obj.pk = services.product_create(owner=owner, fields=fields).pk


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdmin):
    list_display = ("product", "location", "on_hand", "reserved", "available", "version", "updated_at")
    list_select_related = ("product", "location")
    search_fields = ("product__sku", "location__code")


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ("stock_level", "reason", "delta_on_hand", "delta_reserved", "on_hand_after", "actor", "created_at")
    list_select_related = ("stock_level", "actor")
    list_filter = ("reason",)
    search_fields = ("reference", "idempotency_key")


@admin.register(ClientLocation)
class ClientLocationAdmin(admin.ModelAdmin[ClientLocation]):
    list_display = ("client", "location")
