"""Admin for partners and their clients, the events outbox and webhooks.
Client secrets are hashed in the database and never shown here; partners
rotate theirs through the API and operators with ``manage.py
create_api_client --rotate``. Webhook signing secrets are encrypted and not
shown either; subscriptions are created through the API (URL check, secret
shown once), and the admin changes only their description and active flag."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)

from partners.event_types import event_type_names
from partners.models import ApiClient, Event, Partner, WebhookAttempt, WebhookDelivery, WebhookSubscription
from partners.services.webhooks import webhook_delivery_redeliver, webhook_subscription_update

# DOT's admin would show tokens and the raw application form; ours replaces it.
for model in (
    get_application_model(),
    get_access_token_model(),
    get_refresh_token_model(),
    get_grant_model(),
    get_id_token_model(),
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class ApiClientInline(admin.TabularInline[ApiClient, Partner]):
    model = ApiClient
    fields = ("name", "client_id", "kind", "allowed_scopes", "is_active")
    readonly_fields = ("client_id",)
    extra = 0
    show_change_link = True


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin[Partner]):
    list_display = ("name", "slug", "tier", "is_active", "updated_at")
    list_filter = ("tier", "is_active")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [ApiClientInline]


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin[ApiClient]):
    list_display = ("name", "client_id", "kind", "partner", "is_active", "secret_rotated_at")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "client_id", "partner__name")
    exclude = ("client_secret", "user", "hash_client_secret", "algorithm", "post_logout_redirect_uris")
    readonly_fields = ("client_id", "secret_rotated_at", "created", "updated")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EventTypeFilter(admin.SimpleListFilter):
    """The types from the catalogue (partners.event_types): a filter on the
    column itself would run SELECT DISTINCT type over the whole outbox."""

    title = "type"
    parameter_name = "type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(name, name) for name in event_type_names()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(type=self.value()) if self.value() else queryset


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("id", "type", "partner", "subject", "created_at", "dispatched_at")
    list_filter = (EventTypeFilter,)
    search_fields = ("subject",)
    list_select_related = ("partner",)


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin[WebhookSubscription]):
    list_display = ("id", "url", "partner", "is_active", "failing_since", "disabled_at", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("url", "description", "partner__name")
    list_select_related = ("partner",)
    fields = (
        "partner",
        "url",
        "event_types",
        "description",
        "is_active",
        "failing_since",
        "disabled_at",
        "disabled_reason",
        "secret_rotated_at",
        "previous_secret_expires_at",
        "version",
        "created_at",
        "updated_at",
    )
    readonly_fields = tuple(f for f in fields if f not in ("description", "is_active"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: WebhookSubscription, form: ModelForm[Any], change: bool) -> None:
        # Through the service: one versioned UPDATE, re-enabling clears the disable state.
        changes = {name: getattr(obj, name) for name in form.changed_data}
        if changes:
            webhook_subscription_update(subscription=obj, expected_version=obj.version, changes=changes)


class WebhookAttemptInline(admin.TabularInline[WebhookAttempt, WebhookDelivery]):
    model = WebhookAttempt
    fields = ("number", "trigger", "attempted_at", "duration_ms", "status_code", "succeeded", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("number",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("id", "subscription", "event", "status", "attempt_count", "next_attempt_at", "last_status_code")
    list_filter = ("status",)
    list_select_related = ("subscription", "event")
    search_fields = ("subscription__url", "event__subject")
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]

    @admin.action(description="Send the selected deliveries again now")
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        sent = 0
        for delivery in queryset.filter(subscription__is_active=True):
            webhook_delivery_redeliver(delivery=delivery)
            sent += 1
        self.message_user(request, f"{sent} deliveries queued (those of disabled subscriptions were skipped).")
        if sent < queryset.count():
            self.message_user(request, "Re-enable a subscription before redelivering to it.", messages.WARNING)
