"""The OAuth endpoints mounted under /oauth/: token, authorize, revoke and
introspect only. ``include(oauth2_provider.urls)`` would also mount the
application-registration views, which let any logged-in user create clients.
Introspection is ours (``IntrospectTokenView``): DOT's answers any client,
public ones included, about any token."""

import base64
import binascii
import hashlib
from typing import Any
from urllib.parse import unquote_plus

from django.contrib.auth.hashers import check_password, identify_hasher
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.utils.crypto import constant_time_compare
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider import views as oauth_views
from oauth2_provider.models import AbstractApplication, get_access_token_model, get_application_model

from gateway.api.logs import client_id_var
from gateway.api.problems import ProblemError
from gateway.api.ratelimit import check_token_rate

AccessToken = get_access_token_model()
# The client model (partners.ApiClient), reached through DOT's setting: gateway sits below partners.
Application = get_application_model()


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
        except AccessToken.DoesNotExist:
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


def _oauth_error(status: int, error: str, description: str, **headers: str) -> JsonResponse:
    """An RFC 6749 section 5.2 error answer (JSON, never cached)."""
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response[name] = value
    return response


def _client_credentials(request: HttpRequest) -> tuple[str, str] | None:
    """client_id and secret from HTTP Basic (form-encoded, RFC 6749 section
    2.3.1) or else from the form body; None when the request carries none
    (a bearer token is no client authentication)."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, colon, secret = decoded.partition(":")
        return (unquote_plus(client_id), unquote_plus(secret)) if colon else None
    if header:
        return None
    client_id, secret = request.POST.get("client_id", ""), request.POST.get("client_secret", "")
    return (client_id, secret) if client_id else None


def _secret_matches(provided: str, stored: str) -> bool:
    # As DOT checks secrets: hashed ones (the default) with the hasher, any stored in clear in constant time.
    try:
        identify_hasher(stored)
    except ValueError:
        return constant_time_compare(provided, stored)
    return check_password(provided, stored)


def _confidential_client(request: HttpRequest) -> Any:
    """The usable confidential client that authenticated itself, or None."""
    credentials = _client_credentials(request)
    if credentials is None:
        return None
    client_id, secret = credentials
    client = Application.objects.filter(client_id=client_id[:100]).first()
    if client is None or client.client_type != AbstractApplication.CLIENT_CONFIDENTIAL or not secret:
        return None
    if not client.is_usable(request) or not _secret_matches(secret, client.client_secret):
        return None
    return client


@method_decorator(csrf_exempt, name="dispatch")
class IntrospectTokenView(View):
    """RFC 7662 token introspection, for the systems that check callers' tokens.

    The caller authenticates as a confidential client: HTTP Basic
    ``client_id:secret`` (preferred) or ``client_id`` and ``client_secret``
    in the form body. Public clients (shopper apps) have no secret and are
    refused, and so is a bearer token: introspection is a client's question
    about a token, not something a token grants, and no scope of ours is an
    introspection right. No or bad credentials: 401 ``invalid_client`` with
    a Basic challenge (RFC 6749 section 5.2), as JSON.

    Which tokens a client may learn about is the client model's rule,
    ``may_introspect`` (partners.models.ApiClient: an operator client any
    token, any other client only those issued to itself). Any other token is
    ``{"active": false}``, exactly like an unknown, expired or revoked one or
    one whose client was deactivated (RFC 7662 section 2.2), so the answer
    never says whether someone else's token is live. POST only (section 2.1):
    a token in a query string ends up in logs."""

    http_method_names = ["post", "options"]

    def post(self, request: HttpRequest) -> HttpResponse:
        client = _confidential_client(request)
        if client is None:
            return _oauth_error(
                401,
                "invalid_client",
                "Authenticate as a confidential client: HTTP Basic client_id:secret.",
                **{"WWW-Authenticate": 'Basic realm="oauth"'},
            )
        client_id_var.set(client.client_id)
        value = request.POST.get("token", "")
        if not value:
            return _oauth_error(400, "invalid_request", "The token parameter is missing.")
        checksum = hashlib.sha256(value.encode()).hexdigest()
        token = AccessToken.objects.select_related("application", "user").filter(token_checksum=checksum).first()
        if (
            token is None
            or not token.is_valid()
            or token.application is None
            or not token.application.is_usable(request)
            or not client.may_introspect(token.application)
        ):
            return _introspection({"active": False})
        data: dict[str, Any] = {
            "active": True,
            "scope": token.scope,
            "exp": int(token.expires.timestamp()),
            "client_id": token.application.client_id,
        }
        if token.user is not None:
            data["username"] = token.user.get_username()
        if token.resource:
            data["aud"] = token.resource
        return _introspection(data)

    def http_method_not_allowed(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return _oauth_error(405, "invalid_request", "Introspection takes a POST (RFC 7662).", Allow="POST")


def _introspection(data: dict[str, Any]) -> JsonResponse:
    response = JsonResponse(data)
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("authorize/", oauth_views.AuthorizationView.as_view(), name="authorize"),
    path("token/", token_view, name="token"),
    path("revoke/", oauth_views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", IntrospectTokenView.as_view(), name="introspect"),
]
