"""django-oauth-toolkit hooks: scopes come from each client, never from a
global list. DOT's default backend lets any client ask for any scope and
grants ``__all__`` when none is asked; this one does neither."""

from typing import Any

from django.conf import settings
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import BaseScopes


class ApiClientScopes(BaseScopes):
    def get_all_scopes(self) -> dict[str, str]:
        return dict(settings.SCOPES)

    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        return application.allowed_scope_list() if application is not None else []

    def get_default_scopes(self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any) -> list[str]:
        return application.default_scope_list() if application is not None else []


class GatewayOAuth2Validator(OAuth2Validator):
    def _load_application(self, client_id: str, request: Any) -> Any:
        application = super()._load_application(client_id, request)
        if application is not None and not application.is_usable(request):
            return None
        return application
