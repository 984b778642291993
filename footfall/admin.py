"""Admin for footfall: sensors, stores' calendar days and report recipients are configured here;
anomalies and sent reports are shown read-only. Count and sales intervals
(keyed by composite primary keys, millions of rows) are read through the API."""

from django.contrib import admin
from django.http import HttpRequest

from footfall.models import Anomaly, ReportDispatch, ReportRecipient, Sensor, StoreCalendarDay


@admin.register(Sensor)
class SensorAdmin(admin.ModelAdmin[Sensor]):
    list_display = ("code", "name", "kind", "store", "device_serial", "channel", "is_active", "updated_at")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name", "device_serial", "store__code")
    raw_id_fields = ("store", "device")


@admin.register(Anomaly)
class AnomalyAdmin(admin.ModelAdmin[Anomaly]):
    list_display = ("sensor", "kind", "status", "period_start", "period_end", "actual", "expected", "detected_at")
    list_filter = ("kind", "status")
    search_fields = ("sensor__code", "sensor__store__code")
    date_hierarchy = "period_start"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Anomaly | None = None) -> bool:
        return False


@admin.register(StoreCalendarDay)
class StoreCalendarDayAdmin(admin.ModelAdmin[StoreCalendarDay]):
    list_display = ("store", "day", "kind", "label", "updated_at")
    list_filter = ("kind",)
    search_fields = ("store__code", "label")
    raw_id_fields = ("store",)
    date_hierarchy = "day"


@admin.register(ReportRecipient)
class ReportRecipientAdmin(admin.ModelAdmin[ReportRecipient]):
    list_display = ("email", "store", "language", "weekly", "monthly", "created_at")
    list_filter = ("language", "weekly", "monthly")
    search_fields = ("email", "store__code")
    raw_id_fields = ("store",)


@admin.register(ReportDispatch)
class ReportDispatchAdmin(admin.ModelAdmin[ReportDispatch]):
    list_display = ("store", "frequency", "period_start", "period_end", "sent_at")
    list_filter = ("frequency",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ReportDispatch | None = None) -> bool:
        return False
