"""Bearer-token authentication against django-oauth-toolkit's tokens.

DOT's own DRF class runs every request through oauthlib; this one reads the
``Authorization`` header only (tokens in query strings are refused, RFC 9700
section 4.3.2), looks the token up by its checksum in one query with its client
and partner, and leaves scope checks to ``HasRequiredScopes``."""

import hashlib
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import get_access_token_model
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from gateway.api.logs import client_id_var

AccessToken = get_access_token_model()


class BearerTokenAuthentication(BaseAuthentication):
    www_authenticate_realm = "api"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _sep, token = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        token = token.strip()
        if not token or len(token) > 512:
            raise AuthenticationFailed(_("The access token is invalid or expired."))
        checksum = hashlib.sha256(token.encode()).hexdigest()
        access_token = (
            AccessToken.objects.select_related("application", "application__partner", "user")
            .filter(token_checksum=checksum)
            .first()
        )
        if access_token is None or access_token.expires <= timezone.now() or access_token.application is None:
            request._request.oauth2_error = {"error": "invalid_token"}  # type: ignore[attr-defined]  # read by authenticate_header
            raise AuthenticationFailed(_("The access token is invalid or expired."))
        if not access_token.application.is_usable(request):
            raise AuthenticationFailed(_("The access token is invalid or expired."))
        client_id_var.set(access_token.application.client_id)
        return access_token.user, access_token

    def authenticate_header(self, request: Request) -> str:
        error = getattr(request._request, "oauth2_error", None)
        suffix = f', error="{error["error"]}"' if error else ""
        return f'Bearer realm="{self.www_authenticate_realm}"{suffix}'
