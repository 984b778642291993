"""The OAuth endpoints mounted under /oauth/: token, authorize, revoke and
introspect only. ``include(oauth2_provider.urls)`` would also mount the
application-registration views, which let any logged-in user create clients."""

import base64
import binascii
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider import views as oauth_views
from oauth2_provider.models import get_access_token_model

from gateway.api.problems import ProblemError
from gateway.api.ratelimit import check_token_rate


def _client_id(request: HttpRequest) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[0]
    return request.POST.get("client_id", "")[:100]


class GatewayTokenView(oauth_views.TokenView):
    """DOT's token view, minus a known 500: when two refreshes of one token
    race, reuse protection revokes the family, and DOT then looks up the
    access token it just issued and no longer finds it. That client gets the
    RFC 6749 answer it deserves instead: invalid_grant."""

    def authorization_flow_token_response(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().authorization_flow_token_response(request, *args, **kwargs)
        except get_access_token_model().DoesNotExist:
            return JsonResponse(
                {"error": "invalid_grant", "error_description": "The token was revoked by a concurrent refresh."},
                status=400,
            )


@csrf_exempt
def token_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """DOT's token endpoint behind a per-client limit that fails closed."""
    if request.method == "POST":
        try:
            headers = check_token_rate(request, _client_id(request) or "anonymous")
        except ProblemError as exc:
            # RFC 6749 error shape on OAuth endpoints.
            error = "slow_down" if exc.status_code == 429 else "temporarily_unavailable"
            response = JsonResponse({"error": error, "error_description": str(exc.detail)}, status=exc.status_code)
            for name, value in exc.headers.items():
                response[name] = value
            return response
    else:
        headers = {}
    token_response: HttpResponse = GatewayTokenView.as_view()(request, *args, **kwargs)
    for name, value in headers.items():
        token_response[name] = value
    return token_response


urlpatterns = [
    path("authorize/", oauth_views.AuthorizationView.as_view(), name="authorize"),
    path("token/", token_view, name="token"),
    path("revoke/", oauth_views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", oauth_views.IntrospectTokenView.as_view(), name="introspect"),
]
