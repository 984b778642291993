from typing import Any

from rest_framework import serializers

from partners.models import ApiClient, Partner


class PartnerOutput(serializers.ModelSerializer[Partner]):
    class Meta:
        model = Partner
        fields = ["id", "name", "slug", "tier", "contact_email", "is_active", "created_at", "updated_at"]


class ApiClientOutput(serializers.ModelSerializer[ApiClient]):
    allowed_scopes = serializers.SerializerMethodField()
    default_scopes = serializers.SerializerMethodField()
    grant_type = serializers.CharField(source="authorization_grant_type")
    created_at = serializers.DateTimeField(source="created")

    class Meta:
        model = ApiClient
        fields = [
            "client_id",
            "name",
            "kind",
            "grant_type",
            "allowed_scopes",
            "default_scopes",
            "is_active",
            "created_at",
            "secret_rotated_at",
        ]

    def get_allowed_scopes(self, obj: ApiClient) -> list[str]:
        return obj.allowed_scope_list()

    def get_default_scopes(self, obj: ApiClient) -> list[str]:
        return obj.default_scope_list()


class ClientSecretOutput(serializers.Serializer[Any]):
    client_id = serializers.CharField()
    client_secret = serializers.CharField(
        allow_null=True,
        help_text="The new secret, shown in this answer only (and in its replay, with the same Idempotency-Key "
        "within 24 hours). Null only in a replay after SECRET_KEY was changed without a fallback.",
    )
    secret_rotated_at = serializers.DateTimeField()
