"""Health, metrics and problem-type documentation: plain Django views."""

import hmac

import redis
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from gateway.api import metrics
from gateway.api.problems import PROBLEM_TITLES, problem_response, problem_type
from gateway.api.ratelimit import redis_client
from gateway.api.sql import DATABASE_PROBE


@never_cache
@require_GET
def health_live(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def health_ready(request: HttpRequest) -> HttpResponse:
    checks: dict[str, str] = {}
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute(DATABASE_PROBE)
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        checks["database"] = "ok"
        checks["migrations"] = "ok" if not pending else f"{len(pending)} pending"
    except Exception:  # any database failure means not ready; the reason goes to the log, not the body
        checks["database"] = "unavailable"
    try:
        redis_client().ping()
        checks["redis"] = "ok"
    except redis.RedisError:
        checks["redis"] = "unavailable"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Not public: needs ``Authorization: Bearer $METRICS_TOKEN``, or, when no
    token is configured, a request from loopback."""
    token = settings.METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        allowed = hmac.compare_digest(sent.encode(), token.encode())
    else:
        allowed = request.META.get("REMOTE_ADDR") in {"127.0.0.1", "::1"}
    if not allowed:
        return problem_response(request, status=404, code="not_found")
    return HttpResponse(metrics.render(), content_type="text/plain; version=0.0.4")


@require_GET
def problem_types(request: HttpRequest) -> HttpResponse:
    """Every problem ``type`` the API answers with, its code and title."""
    items = [
        {"type": problem_type(code), "code": code, "title": str(title)}
        for code, title in sorted(PROBLEM_TITLES.items())
    ]
    return JsonResponse({"results": items}, json_dumps_params={"ensure_ascii": False})


@require_GET
def problem_type_detail(request: HttpRequest, slug: str) -> HttpResponse:
    code = slug.replace("-", "_")
    if code not in PROBLEM_TITLES:
        return problem_response(request, status=404, code="not_found", detail=_("No such problem type."))
    return JsonResponse(
        {"type": problem_type(code), "code": code, "title": str(PROBLEM_TITLES[code])},
        json_dumps_params={"ensure_ascii": False},
    )
