"""Deployment checks and the JSON access log."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.api.logs import JsonFormatter, RequestContextFilter
from partners.models import CallerKind
from tests.factories import make_client, token_for

ROOT = Path(__file__).resolve().parents[2]


def test_deploy_checks_are_clean_under_production_settings() -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gateway.settings.production",
        "SECRET_KEY": "p" * 20 + "r" * 20 + "o" * 20 + "d1",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


class ListHandler(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__()
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.django_db
def test_access_log_is_one_json_line_without_secrets(client) -> None:
    records: list[logging.LogRecord] = []
    handler = ListHandler(records)
    handler.addFilter(RequestContextFilter())
    logger = logging.getLogger("gateway.access")
    logger.addHandler(handler)
    raw = token_for(make_client(CallerKind.PARTNER))
    try:
        client.get(
            "/api/v1/partners/me?email=someone@example.com",
            HTTP_AUTHORIZATION=f"Bearer {raw}",
            HTTP_X_REQUEST_ID="req-42",
        )
    finally:
        logger.removeHandler(handler)
    line = JsonFormatter().format(records[-1])
    entry = json.loads(line)
    assert entry["request_id"] == "req-42"
    assert entry["client_id"]
    assert {"time", "level", "method", "path", "status", "duration_ms"} <= entry.keys()
    assert entry["path"] == "/api/v1/partners/me"
    assert raw not in line
    assert "someone@example.com" not in line
