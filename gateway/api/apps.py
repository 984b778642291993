from django.apps import AppConfig


class GatewayApiConfig(AppConfig):
    name = "gateway.api"
    label = "gateway_api"
    verbose_name = "Gateway API machinery"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from gateway.api import schema  # noqa: F401  registers the OpenAPI auth extension
        from gateway.api.auth import connect_signals

        connect_signals()  # token cache evictions, in every process that may revoke a token
