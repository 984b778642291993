"""Request ids, access logs, the body cap and problem+json for errors that
never reach DRF (Django's own 404/405/500 and bodiless error responses)."""

import io
import ipaddress
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from gateway.api import metrics
from gateway.api.errors import database_unreachable
from gateway.api.logs import client_id_var, request_id_var
from gateway.api.problems import PROBLEM_CONTENT_TYPE, problem_response

access_log = logging.getLogger("gateway.access")
errors_log = logging.getLogger("gateway.errors")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

GetResponse = Callable[[HttpRequest], HttpResponse]


class RequestIdMiddleware:
    """Accepts a sane ``X-Request-ID`` or makes one, echoes it, and writes one
    JSON access-log line per request (without query strings, which may carry
    personal data)."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        client_token = client_id_var.set("")
        started, cpu_started = time.perf_counter(), time.thread_time()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            for name, value in getattr(request, "rate_limit_headers", {}).items():
                response.headers.setdefault(name, value)
            duration_ms = round((time.perf_counter() - started) * 1000, 2)
            route = getattr(getattr(request, "resolver_match", None), "route", "") or "unmatched"
            metrics.observe_request(
                request.method or "", route, response.status_code, duration_ms / 1000, time.thread_time() - cpu_started
            )
            access_log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                },
            )
            return response
        finally:
            request_id_var.reset(token)
            client_id_var.reset(client_token)


# Methods whose body the API reads; a GET's is ignored, so it is not waited for.
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CountedBodyApplication:
    """WSGI wrapper (gateway/wsgi.py) that gives a body sent without
    Content-Length (HTTP/1.1 chunked, HTTP/2 without the header) its length.

    Django reads CONTENT_LENGTH bytes of a body and takes a missing length as 0,
    so such a body would read as empty ("field required"). When the server ends
    the input stream where the body ends (``wsgi.input_terminated``, which
    granian sets), it is read here, one byte past the cap at most, and passed on
    with the length it has: BodySizeLimitMiddleware then refuses it (413) if it
    ran past the cap. Other servers' streams are left alone (411 below)."""

    def __init__(self, application: Callable[..., Iterable[bytes]]) -> None:
        self.application = application

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if (
            not environ.get("CONTENT_LENGTH")
            and environ.get("wsgi.input_terminated")
            and (environ.get("REQUEST_METHOD") in _BODY_METHODS or "HTTP_TRANSFER_ENCODING" in environ)
        ):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            stream = environ["wsgi.input"]
            body = stream.read() if limit is None else stream.read(limit + 1)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.application(environ, start_response)


# What a WSGI environ legitimately holds besides HTTP_* headers (PEP 3333).
_CGI_KEYS = frozenset(
    {
        "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH",
        "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "REMOTE_ADDR", "REMOTE_HOST", "REMOTE_PORT", "HTTPS",
    }
)  # fmt: skip


class ProcessEnvironScrub:
    """WSGI wrapper (gateway/wsgi.py) that keeps the process environment out
    of requests. granian builds every request's environ on a copy of
    ``os.environ``, so without this ``request.META`` would hold DATABASE_URL,
    SECRET_KEY and the rest (for any error report to show), and an
    ``HTTP_*`` variable of the process would read as a header the client sent.
    A variable is dropped unless the request itself set it to another value."""

    def __init__(self, application: Callable[..., Iterable[bytes]]) -> None:
        self.application = application
        self.process_env = {key: value for key, value in os.environ.items() if key not in _CGI_KEYS}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        for key in self.process_env.keys() & environ.keys():
            if environ[key] == self.process_env[key]:
                del environ[key]
        return self.application(environ, start_response)


# Peers whose X-Forwarded-For is believed: the balancer bin/serve starts, on loopback.
_TRUSTED_PROXIES = frozenset({"127.0.0.1", "::1"})


class LoopbackProxyHeaders:
    """WSGI wrapper (gateway/wsgi.py) that gives REMOTE_ADDR the client's
    address behind the balancer.

    Behind nginx (bin/serve, bin/nginx.conf.template) every request reaches
    granian from 127.0.0.1, so without this REMOTE_ADDR would name the
    balancer, and /metrics, open to loopback when no METRICS_TOKEN is set,
    would be open to anyone the balancer serves. When the peer is loopback,
    the last address of X-Forwarded-For, the one the balancer appended,
    becomes REMOTE_ADDR; the addresses before it were sent by the client and
    prove nothing. From any other peer the header is ignored, so a client
    reaching a server directly cannot claim an address. A last entry that is
    not an address leaves REMOTE_ADDR empty: unknown, never loopback."""

    def __init__(self, application: Callable[..., Iterable[bytes]]) -> None:
        self.application = application

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        forwarded = environ.get("HTTP_X_FORWARDED_FOR")
        if forwarded and environ.get("REMOTE_ADDR") in _TRUSTED_PROXIES:
            last = forwarded.rsplit(",", 1)[-1].strip()
            try:
                environ["REMOTE_ADDR"] = str(ipaddress.ip_address(last))
            except ValueError:
                environ["REMOTE_ADDR"] = ""
        return self.application(environ, start_response)


class BodySizeLimitMiddleware:
    """413 before anything reads a body announced as larger than the cap; 411
    for a body sent without a length that CountedBodyApplication could not
    count (a server that does not end the stream with the body)."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.META.get("CONTENT_LENGTH") and "HTTP_TRANSFER_ENCODING" in request.META:
            detail = _("Send the request body with a Content-Length header.")
            return problem_response(request, status=411, code="length_required", detail=detail)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return problem_response(request, status=400, code="malformed_request", detail=_("Invalid Content-Length."))
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            detail = _("The request body is larger than %(limit)d bytes.") % {"limit": limit}
            return problem_response(request, status=413, code="payload_too_large", detail=detail)
        return self.get_response(request)


_NON_API_PREFIXES = ("/admin/", "/accounts/", "/api/docs", "/api/redoc", "/static/")
# The stack was ready again 0.6-0.9 s after PostgreSQL restarted in the Black
# Friday bench's fault step (docs/benchmarks.md).
DATABASE_RETRY_AFTER_S = "1"


class ProblemMiddleware:
    """Turns error responses that are not problem+json yet (Django's 405 from
    ``require_GET``, a 404 from a plain view, a CSRF 403) into problem+json,
    except on the pages meant for browsers (admin, login, docs, OAuth)."""

    _codes = {
        400: "malformed_request",
        401: "not_authenticated",
        403: "permission_denied",
        404: "not_found",
        405: "method_not_allowed",
        411: "length_required",
        413: "payload_too_large",
        415: "unsupported_media_type",
        500: "server_error",
        503: "service_unavailable",
    }

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A view that lost the database (PostgreSQL restarting, failing over,
        or the pool out of connections) answers 503 ``service_unavailable``
        with ``Retry-After``, which clients retry (writes with the same
        ``Idempotency-Key``), instead of the 500 of an unexpected error.
        Anything else goes on to Django's 500 handler."""
        if not database_unreachable(exception):
            return None
        errors_log.warning("database unreachable: %s %s answered 503 (%s)", request.method, request.path, exception)
        response = problem_response(
            request,
            status=503,
            code="service_unavailable",
            detail=_("The database cannot be reached for a moment. Retry after the delay."),
        )
        response["Retry-After"] = DATABASE_RETRY_AFTER_S
        return response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or request.path.startswith(_NON_API_PREFIXES)
            or request.path.startswith("/oauth/")
        ):
            return response
        if response.get("Content-Type", "").startswith((PROBLEM_CONTENT_TYPE, "application/json")):
            return response
        code = self._codes.get(response.status_code, "malformed_request")
        problem = problem_response(request, status=response.status_code, code=code)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                problem[header] = response[header]
        return problem


class ProbeMiddleware:
    """Answers the health probes and the metrics scrape before anything checks
    the Host header or redirects to HTTPS.

    Kubernetes, Docker and Prometheus reach a pod by its IP over plain HTTP:
    ``Host: 10.1.2.3:8000``, which is not among the public ``ALLOWED_HOSTS``
    (CommonMiddleware answers 400) and would be redirected to HTTPS by
    SecurityMiddleware (a 301, which a kubelet counts as success, so a dead
    pod would look alive). Production puts this first (gateway/settings/
    production.py). Nothing here is private: the probes say ok or
    unavailable, and /metrics keeps its own token check."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        from gateway.api import views  # views import this module's neighbours; resolved once, here

        self.get_response = get_response
        self.probes: dict[str, Callable[[HttpRequest], HttpResponse]] = {
            "/health/live": views.health_live,
            "/health/ready": views.health_ready,
            "/metrics": views.metrics_view,
        }

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = self.probes.get(request.path_info)
        return probe(request) if probe is not None else self.get_response(request)
