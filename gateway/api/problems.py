"""RFC 9457 problem details: the one way every error of the gateway is shaped.

A problem is identified by its ``code`` (stable snake_case, what clients
switch on); its ``type`` is the relative URI ``/problems/<code-with-dashes>``,
documented at that path and in the OpenAPI description."""

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import APIException

from gateway.api.logs import request_id_var

PROBLEM_CONTENT_TYPE = "application/problem+json"

# Every code any endpoint can answer with, with its default title. Domain
# errors register theirs by subclassing ProblemError (see __init_subclass__).
PROBLEM_TITLES: dict[str, Any] = {
    "malformed_request": _("Malformed request"),
    "validation_failed": _("Validation failed"),
    "invalid_query_parameter": _("Invalid query parameter"),
    "not_authenticated": _("Authentication required"),
    "invalid_token": _("Invalid or expired token"),
    "insufficient_scope": _("Missing scope"),
    "permission_denied": _("Permission denied"),
    "not_found": _("Not found"),
    "method_not_allowed": _("Method not allowed"),
    "not_acceptable": _("Not acceptable"),
    "conflict": _("Conflict"),
    "precondition_failed": _("Precondition failed"),
    "precondition_required": _("Precondition required"),
    "length_required": _("Length required"),
    "payload_too_large": _("Request body too large"),
    "unsupported_media_type": _("Unsupported media type"),
    "rate_limited": _("Too many requests"),
    "idempotency_key_invalid": _("Invalid Idempotency-Key"),
    "idempotency_key_required": _("Idempotency-Key required"),
    "idempotency_key_reused": _("Idempotency-Key reused with another request"),
    "idempotency_in_progress": _("A request with this Idempotency-Key is in progress"),
    "service_unavailable": _("Service unavailable"),
    "overloaded": _("Overloaded, try again shortly"),
    "server_error": _("Internal server error"),
}


def problem_type(code: str) -> str:
    return "/problems/" + code.replace("_", "-")


def problem_body(
    request: HttpRequest | None,
    *,
    status: int,
    code: str,
    detail: str = "",
    title: str | None = None,
    errors: list[dict[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": str(title if title is not None else PROBLEM_TITLES.get(code, code.replace("_", " "))),
        "status": status,
        "detail": str(detail),
        "instance": request.path if request is not None else "",
        "code": code,
        "request_id": request_id_var.get(),
    }
    if errors is not None:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return body


def problem_response(
    request: HttpRequest | None, *, status: int, code: str, detail: str = "", **kw: Any
) -> JsonResponse:
    """A problem+json response for plain Django views and middleware."""
    return JsonResponse(
        problem_body(request, status=status, code=code, detail=detail, **kw),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )


class ProblemError(APIException):
    """Base of every domain error: raise a subclass, the exception handler
    renders it. ``extra`` adds members to the problem body (for example the
    order lines that lack stock)."""

    status_code: int = 400
    code: str = "malformed_request"
    title: Any = None
    default_detail: Any = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.title is not None:
            PROBLEM_TITLES.setdefault(cls.code, cls.title)

    def __init__(
        self, detail: str | None = None, *, extra: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ):
        super().__init__(detail=detail if detail is not None else self.default_detail, code=self.code)
        self.extra = extra or {}
        self.headers = headers or {}


class FieldInvalid(ProblemError):
    """A domain rule broken by one field of the request, raised by a service
    or selector (which leave DRF to the API layer): answered exactly as a
    serializer's validation error, 422 ``validation_failed`` naming the field."""

    status_code = 422
    code = "validation_failed"

    def __init__(self, field: str, message: str, *, code: str = "invalid") -> None:
        super().__init__(
            _("%(count)d field(s) failed validation.") % {"count": 1},
            extra={"errors": [{"field": field, "code": code, "message": str(message)}]},
        )


class CallerNotAllowed(ProblemError):
    """The caller's kind may not do this at all: 403 ``permission_denied``."""

    status_code = 403
    code = "permission_denied"


class Conflict(ProblemError):
    status_code = 409
    code = "conflict"


class PreconditionFailed(ProblemError):
    status_code = 412
    code = "precondition_failed"
    default_detail = _("The resource changed since you read it; fetch it again and retry.")


class PreconditionRequired(ProblemError):
    status_code = 428
    code = "precondition_required"
    default_detail = _("Send If-Match with the ETag you read, or the expected previous value.")


class PayloadTooLarge(ProblemError):
    status_code = 413
    code = "payload_too_large"


class InvalidQueryParameter(ProblemError):
    status_code = 400
    code = "invalid_query_parameter"

    def __init__(self, field: str, message: str, code: str = "invalid"):
        super().__init__(message, extra={"errors": [{"field": field, "code": code, "message": message}]})


class ServiceUnavailable(ProblemError):
    status_code = 503
    code = "service_unavailable"
