"""Admin of click-and-collect. Counters (booked, held) and order statuses
are read-only here: they only move through commerce.services."""

from django.contrib import admin

from commerce.models import (
    Order,
    OrderLine,
    OrderStatusChange,
    PickupSlot,
    SlotException,
    SlotHold,
    SlotRelease,
    SlotSchedule,
    SlotWindow,
)


class SlotWindowInline(admin.TabularInline[SlotWindow, SlotSchedule]):
    model = SlotWindow
    extra = 0


class SlotExceptionInline(admin.TabularInline[SlotException, SlotSchedule]):
    model = SlotException
    extra = 0


@admin.register(SlotSchedule)
class SlotScheduleAdmin(admin.ModelAdmin[SlotSchedule]):
    list_display = ("store", "days_ahead", "release_time", "hold_minutes", "is_active", "updated_at")
    list_filter = ("is_active",)
    inlines = [SlotWindowInline, SlotExceptionInline]
    readonly_fields = ("version",)


@admin.register(PickupSlot)
class PickupSlotAdmin(admin.ModelAdmin[PickupSlot]):
    list_display = ("store", "local_date", "starts_at", "ends_at", "capacity", "booked", "held", "is_closed")
    list_filter = ("store", "is_closed")
    date_hierarchy = "starts_at"
    readonly_fields = ("store", "local_date", "starts_at", "ends_at", "release_at", "booked", "held", "version")


@admin.register(SlotRelease)
class SlotReleaseAdmin(admin.ModelAdmin[SlotRelease]):
    list_display = ("store", "local_date", "release_at", "slot_count", "released_at")
    readonly_fields = ("store", "local_date", "release_at", "slot_count", "released_at")


@admin.register(SlotHold)
class SlotHoldAdmin(admin.ModelAdmin[SlotHold]):
    list_display = ("public_id", "slot", "client", "user", "state", "expires_at")
    list_filter = ("state",)
    readonly_fields = ("public_id", "slot", "client", "user", "state", "expires_at", "created_at", "ended_at")


class OrderLineInline(admin.TabularInline[OrderLine, Order]):
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = ("product", "sku", "name_fr", "quantity", "unit_price_amount", "line_total_amount")
    exclude = ("name_en",)


class OrderStatusChangeInline(admin.TabularInline[OrderStatusChange, Order]):
    model = OrderStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ("from_status", "to_status", "at", "actor_client", "actor_user", "reason")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin[Order]):
    list_display = ("public_id", "store", "slot", "customer", "status", "total_amount", "currency", "created_at")
    list_filter = ("status", "store")
    search_fields = ("public_id",)
    inlines = [OrderLineInline, OrderStatusChangeInline]
    readonly_fields = (
        "public_id",
        "store",
        "slot",
        "customer",
        "placed_by",
        "status",
        "currency",
        "total_amount",
        "item_count",
        "idempotency_key",
        "version",
        "created_at",
        "updated_at",
    )
