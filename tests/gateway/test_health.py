"""Health and metrics endpoints."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_live_answers_ok() -> None:
    response = Client().get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_checks_database_redis_and_migrations() -> None:
    response = Client().get("/health/ready")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "migrations": "ok", "redis": "ok"}


def test_ready_reports_redis_down(settings) -> None:
    from gateway.api import ratelimit

    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    ratelimit._client = None
    try:
        response = Client().get("/health/ready")
    finally:
        ratelimit._client = None
    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == "unavailable"


def test_metrics_are_not_public_from_other_addresses() -> None:
    response = Client(REMOTE_ADDR="203.0.113.9").get("/metrics")
    assert response.status_code == 404


def test_metrics_from_loopback_are_prometheus_text() -> None:
    Client().get("/health/live")
    response = Client(REMOTE_ADDR="127.0.0.1").get("/metrics")
    assert response.status_code == 200
    assert b"gateway_http_requests_total" in response.content


def _cpu_seconds(route: str) -> float:
    text = Client(REMOTE_ADDR="127.0.0.1").get("/metrics").content.decode()
    prefix = f'gateway_http_request_cpu_seconds_total{{method="GET",route="{route}"}} '
    return sum(float(line[len(prefix) :]) for line in text.splitlines() if line.startswith(prefix))


def test_metrics_count_each_routes_cpu() -> None:
    """The serving thread's CPU per route, for capacity planning: it grows with
    each request of that route."""
    before = _cpu_seconds("health/live")
    for _ in range(3):
        assert Client().get("/health/live").status_code == 200
    assert _cpu_seconds("health/live") > before


def test_metrics_token_is_required_when_configured(settings) -> None:
    settings.METRICS_TOKEN = "s3cret-metrics"
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 404
    ok = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics")
    assert ok.status_code == 200
