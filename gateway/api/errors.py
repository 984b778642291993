"""DRF's exception handler and Django's error views, both answering problem+json."""

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django import db
from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions as drf
from rest_framework.response import Response

from gateway.api.problems import PROBLEM_CONTENT_TYPE, PayloadTooLarge, ProblemError, problem_body, problem_response

log = logging.getLogger("gateway.errors")

# DRF exception class -> (status, code); the most specific class wins.
_DRF_CODES: list[tuple[type[drf.APIException], str]] = [
    (drf.ParseError, "malformed_request"),
    (drf.NotAuthenticated, "not_authenticated"),
    (drf.AuthenticationFailed, "invalid_token"),
    (drf.PermissionDenied, "permission_denied"),
    (drf.NotFound, "not_found"),
    (drf.MethodNotAllowed, "method_not_allowed"),
    (drf.NotAcceptable, "not_acceptable"),
    (drf.UnsupportedMediaType, "unsupported_media_type"),
    (drf.Throttled, "rate_limited"),
]


def flatten_validation_errors(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """DRF's nested ``{field: [ErrorDetail]}`` as a flat ``[{field, code, message}]``;
    nested fields are dotted (``lines.3.quantity``)."""
    if isinstance(detail, Mapping):
        out: list[dict[str, str]] = []
        for key, value in detail.items():
            name = prefix if key == "non_field_errors" else (f"{prefix}.{key}" if prefix else str(key))
            out.extend(flatten_validation_errors(value, name))
        return out
    if isinstance(detail, Sequence) and not isinstance(detail, str):
        items = list(detail)
        if items and all(isinstance(i, str) for i in items):
            return [{"field": prefix, "code": getattr(i, "code", "invalid"), "message": str(i)} for i in items]
        out = []
        for index, item in enumerate(items):
            if item:
                out.extend(flatten_validation_errors(item, f"{prefix}.{index}" if prefix else str(index)))
        return out
    return [{"field": prefix, "code": getattr(detail, "code", "invalid"), "message": str(detail)}]


def _problem(exc: drf.APIException, request: HttpRequest | None) -> tuple[int, dict[str, Any], dict[str, str]]:
    headers: dict[str, str] = {}
    status = exc.status_code
    if isinstance(exc, ProblemError):
        extra = dict(exc.extra)
        errors = extra.pop("errors", None)
        body = problem_body(request, status=status, code=exc.code, detail=str(exc.detail), errors=errors, extra=extra)
        return status, body, dict(exc.headers)
    if isinstance(exc, drf.ValidationError):
        status = 422
        errors = flatten_validation_errors(exc.detail)
        detail = _("%(count)d field(s) failed validation.") % {"count": len(errors)}
        return (
            status,
            problem_body(request, status=status, code="validation_failed", detail=detail, errors=errors),
            headers,
        )
    code = next((c for cls, c in _DRF_CODES if isinstance(exc, cls)), "malformed_request")
    wait = getattr(exc, "wait", None)
    if isinstance(exc, drf.Throttled) and wait is not None:
        headers["Retry-After"] = str(int(wait) + 1)
    return status, problem_body(request, status=status, code=code, detail=str(exc.detail)), headers


def problem_exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: every error DRF sees becomes problem+json.
    Returning None lets an unexpected exception reach Django's 500 handler."""
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = _too_large()
    if not isinstance(exc, drf.APIException):
        return None
    request = context.get("request")
    status, body, headers = _problem(exc, request)
    view = context.get("view")
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed) and view is not None and request is not None:
        challenge = view.get_authenticate_header(request)
        if challenge:
            headers["WWW-Authenticate"] = challenge
    response = Response(body, status=status, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
    return response


# SQLSTATEs that say PostgreSQL is not there for the moment: the class
# "connection exception" (08...), and a server shutting down (57P01 by an
# administrator, 57P02 a crash of another backend) or starting (57P03).
_UNREACHABLE_CLASS = "08"
_UNREACHABLE_CODES = frozenset({"57P01", "57P02", "57P03"})


def database_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not be reached or dropped the
    connection (a restart, a failover, the pool found no connection in
    time), as opposed to a statement that failed: then the request is worth
    retrying, and its answer is 503 ``service_unavailable``, not a 500.
    An error psycopg raised on its own side (the connection lost or refused,
    the pool's timeout) carries no SQLSTATE; a statement's error always does
    (a deadlock, a cancelled statement, a violated constraint: still 500s)."""
    if isinstance(exc, db.InterfaceError):
        return True
    if not isinstance(exc, db.OperationalError):
        return False
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(_UNREACHABLE_CLASS) or sqlstate in _UNREACHABLE_CODES


def _too_large() -> ProblemError:
    return PayloadTooLarge(
        _("The request body is larger than %(limit)d bytes.") % {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
    )


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return problem_response(
        request, status=400, code="malformed_request", detail=_("The request could not be understood.")
    )


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return problem_response(request, status=403, code="permission_denied")


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return problem_response(request, status=404, code="not_found", detail=_("No resource at this address."))


def handler500(request: HttpRequest) -> HttpResponse:
    # No internals: the request id is what support needs to find the log line.
    return problem_response(request, status=500, code="server_error", detail=_("An unexpected error occurred."))
