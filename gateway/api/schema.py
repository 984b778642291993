"""OpenAPI generation: the OAuth2 scheme with each operation's scopes, and the
problem+json error responses, idempotency header and rate-limit headers that
every operation shares, added in one place instead of on every view."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from gateway.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from gateway.api.idempotency import KEY_MAX_LENGTH, KEY_PATTERN
from gateway.api.problems import PROBLEM_CONTENT_TYPE
from gateway.api.scopes import scopes_for
from gateway.api.strict import StrictInput


class ProblemFieldError(serializers.Serializer[Any]):
    field = serializers.CharField(help_text="Dotted path of the offending field.")
    code = serializers.CharField()
    message = serializers.CharField()


class Problem(serializers.Serializer[Any]):
    """RFC 9457 problem details."""

    type = serializers.CharField(help_text="Relative URI of the problem type, e.g. `/problems/slot-full`.")
    title = serializers.CharField(help_text="Short summary in the language served.")
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(help_text="Path of the request.")
    code = serializers.CharField(help_text="Stable snake_case code clients switch on; never translated.")
    request_id = serializers.CharField()
    errors = ProblemFieldError(  # type: ignore[assignment]  # a field named "errors", not Serializer.errors
        many=True, required=False, help_text="Per-field errors of a validation failure."
    )
    retry_after = serializers.IntegerField(
        required=False, help_text="Seconds to wait before retrying, as the Retry-After header (`overloaded`)."
    )


_ERROR_DESCRIPTIONS = {
    "400": "Malformed request or invalid query parameter.",
    "401": "No token, or an invalid or expired token.",
    "403": "The token lacks a scope this operation needs.",
    "404": "Absent, or not visible to the caller.",
    "409": "State conflict.",
    "412": "If-Match or the expected value does not match.",
    "413": "Body or batch too large.",
    "415": "Unsupported media type.",
    "422": "Semantically invalid (validation failed, Idempotency-Key reused).",
    "428": "A precondition header is required.",
    "429": "Rate limit exceeded; see Retry-After.",
    "503": "Overloaded (`overloaded`: admission control did not run the request) or a dependency is down "
    "(`service_unavailable`); wait Retry-After, then retry (an order with the same Idempotency-Key).",
}

_RATE_LIMIT_HEADERS = {
    "RateLimit-Policy": {"schema": {"type": "string"}, "description": 'Quota policy, e.g. `"standard";q=1200;w=60`.'},
    "RateLimit": {"schema": {"type": "string"}, "description": 'Remaining quota, e.g. `"standard";r=1187;t=42`.'},
}


# A store-local wall-clock time ("08:30", or "00:00:00" with seconds). Not
# OpenAPI's `format: time`, which is RFC 3339's full-time with an offset:
# generated clients reject "08:30" against it.
LOCAL_TIME_SCHEMA = {
    "type": "string",
    "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
    "description": "Store-local wall-clock time, HH:MM (or HH:MM:SS), in the store's time zone.",
    "example": "08:30",
}


class GatewayAutoSchema(AutoSchema):
    def _map_serializer_field(self, field: Any, direction: Any, bypass_extensions: bool = False) -> Any:
        if isinstance(field, serializers.TimeField):
            schema: dict[str, Any] = dict(LOCAL_TIME_SCHEMA)
            if field.help_text:
                schema["description"] = str(field.help_text)
            if field.allow_null:
                schema["type"] = ["string", "null"]
            return schema
        return super()._map_serializer_field(field, direction, bypass_extensions)

    def _map_basic_serializer(self, serializer: Any, direction: Any) -> Any:
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and isinstance(serializer, StrictInput):
            schema["additionalProperties"] = False  # what StrictInput enforces: unknown fields are a 422
        return schema

    def _error_statuses(self) -> list[str]:
        # 503: any request may be shed by admission control (gateway/api/admission.py) under overload.
        statuses = ["401", "403", "429", "503"]
        if self.method in {"POST", "PUT", "PATCH"}:
            statuses += ["400", "413", "415", "422"]
        if self.method == "GET" and self._is_list_view():
            statuses += ["400"]
        if "{" in self.path:
            statuses.append("404")
        handler = getattr(self.view, self.method.lower(), None)
        if getattr(handler, "idempotency", None) is not None:
            statuses += ["400", "409", "422"]  # a bad key, a key still in flight, a key reused with another body
            if handler.idempotency == "required":  # type: ignore[union-attr]  # set by gateway.api.idempotency
                statuses.append("428")
        statuses += [str(s) for s in getattr(self.view, "extra_error_statuses", {}).get(self.method, [])]
        return sorted(set(statuses))

    def _get_response_bodies(self, direction: Any = "response") -> Any:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status in self._error_statuses():
            if status not in responses:
                response = self._get_response_for_code(Problem, status, [PROBLEM_CONTENT_TYPE], direction)
                response["description"] = _ERROR_DESCRIPTIONS.get(status, "Error.")
                responses[status] = response
        return responses

    def _get_response_headers_for_code(self, status_code: Any, direction: Any = "response") -> Any:
        headers = super()._get_response_headers_for_code(status_code, direction)
        if str(status_code) != "503":  # a shed request never reached the rate limiter
            headers.update(_RATE_LIMIT_HEADERS)
        handler = getattr(self.view, self.method.lower(), None)
        cache_control = getattr(handler, "read_cache_control", None)  # gateway.api.readcache.conditional
        if cache_control is not None and str(status_code) in {"200", "304"}:
            headers["ETag"] = {
                "schema": {"type": "string"},
                "description": "The answer's version: send it back in If-None-Match (304 while it still holds).",
            }
            headers["Cache-Control"] = {
                "schema": {"type": "string"},
                "description": f"`{cache_control}` (docs/api-guide.md, Caching and conditional requests).",
            }
        if str(status_code) in ("429", "503"):
            headers["Retry-After"] = {"schema": {"type": "integer"}, "description": "Seconds to wait."}
        return headers

    def _get_parameters(self) -> Any:
        parameters = super()._get_parameters()
        for parameter in parameters:
            # gateway.api.params reads an empty optional query parameter as
            # an absent one (`?status=` lists every status); say so.
            if parameter.get("in") == "query" and not parameter.get("required"):
                parameter["allowEmptyValue"] = True
        return parameters

    def get_override_parameters(self) -> list[Any]:
        params = list(super().get_override_parameters())
        handler = getattr(self.view, self.method.lower(), None)
        idempotency = getattr(handler, "idempotency", None)
        if idempotency is not None:
            params.append(
                OpenApiParameter(
                    IDEMPOTENCY_HEADER,
                    {"type": "string", "minLength": 1, "maxLength": KEY_MAX_LENGTH, "pattern": KEY_PATTERN.pattern},
                    OpenApiParameter.HEADER,
                    required=idempotency == "required",
                    description="1 to 255 printable ASCII characters (a UUID is a good key); the same key and "
                    "body replay the first outcome "
                    "(`Idempotent-Replayed: true`), another body answers 422, a key still in flight 409.",
                )
            )
        return params

    def get_description(self) -> str:  # type: ignore[override]  # drf-spectacular's signature, not DRF's
        description = super().get_description() or ""
        scopes = scopes_for(self.view, self.method)
        if scopes:
            description = f"{description}\n\nScopes: {', '.join(f'`{s}`' for s in scopes)}.".strip()
        return description


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "gateway.api.auth.BearerTokenAuthentication"
    name = "oauth2"

    def get_security_requirement(self, auto_schema: AutoSchema) -> dict[str, list[str]]:
        return {self.name: scopes_for(auto_schema.view, auto_schema.method)}

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        s = spectacular_settings
        flows = {
            "clientCredentials": {"tokenUrl": s.OAUTH2_TOKEN_URL, "scopes": s.OAUTH2_SCOPES},
            "authorizationCode": {
                "authorizationUrl": s.OAUTH2_AUTHORIZATION_URL,
                "tokenUrl": s.OAUTH2_TOKEN_URL,
                "refreshUrl": s.OAUTH2_REFRESH_URL,
                "scopes": s.OAUTH2_SCOPES,
            },
        }
        return {"type": "oauth2", "flows": flows}


__all__ = ["BearerTokenScheme", "GatewayAutoSchema", "Problem", "build_basic_type"]
