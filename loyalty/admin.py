"""The back office's view of loyalty. Points, counters, codes and
redemptions are read only here: they move only through the services (guarded
statements, each points change with a movement), never by a form's save."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from loyalty.models import (
    BudgetCounter,
    Campaign,
    CampaignBudget,
    CodeGenerationJob,
    CouponCode,
    Member,
    PointsBucket,
    PointsMovement,
    Program,
    Redemption,
    RedemptionLine,
    TillTicket,
)


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin[Program]):
    list_display = ("code", "name", "currency", "time_zone", "earn_rate", "pending_days", "expiry_months")
    readonly_fields = ("version", "nightly_done_on", "created_at", "updated_at")


@admin.register(Member)
class MemberAdmin(ReadOnlyAdmin):
    list_display = ("card_number", "program", "user", "home_store", "points_pending", "points_active", "points_debt")
    search_fields = ("card_number",)
    list_filter = ("program",)


class BudgetInline(admin.TabularInline[CampaignBudget, Campaign]):
    model = CampaignBudget
    extra = 0

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ("id", "name_fr", "program", "state", "benefit", "starts_at", "ends_at", "priority")
    list_filter = ("state", "benefit", "program")
    search_fields = ("name_fr", "name_en")
    inlines = [BudgetInline]


for model, fields in (
    (BudgetCounter, ("budget", "key", "limit_count", "used_count", "limit_amount", "used_amount", "refused_late")),
    (CouponCode, ("code", "campaign", "kind", "usage_limit", "used_count", "member")),
    (CodeGenerationJob, ("id", "campaign", "requested", "generated", "state", "created_at", "finished_at")),
    (PointsBucket, ("id", "member", "amount", "remaining", "state", "activates_at", "expires_at", "source")),
    (PointsMovement, ("id", "member", "kind", "delta_pending", "delta_active", "delta_debt", "reference")),
    (Redemption, ("id", "campaign", "code", "member", "state", "discount_amount", "source_reference")),
    (RedemptionLine, ("redemption", "line_key", "sku", "quantity", "discount_amount", "rolled_back_amount")),
    (TillTicket, ("store", "ticket_id", "member", "till_time", "subtotal_amount", "discount_amount", "late")),
):
    admin.site.register(model, type(f"{model.__name__}Admin", (ReadOnlyAdmin,), {"list_display": fields}))
