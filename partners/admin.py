"""Admin for partners and their clients. Secrets are hashed in the database
and never shown here; partners rotate theirs through the API and operators
with ``manage.py create_api_client --rotate``."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)

from partners.models import ApiClient, Partner

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
