"""The published schema checked against the running server: Schemathesis
generates requests from the schema the server publishes (equal to
schema/openapi-v1.yaml: test_schema.py) (valid and invalid ones, the
documented examples, boundary values, and create-then-read sequences from the
schema's links) and sends them to the real WSGI server over the demo data,
with a token of each kind of caller. Every answer must be documented: its
status, content type, headers and body schema; no 5xx.

How many cases run is bounded (CONTRACT_MAX_EXAMPLES per operation and
phase) so the suite stays quick; raise it locally to search harder:
``CONTRACT_MAX_EXAMPLES=200 bin/test tests/gateway/test_contract.py``."""

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from partners.models import ApiClient
from tests.conftest import GatewayServer
from tests.factories import token_for

ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = int(os.environ.get("CONTRACT_MAX_EXAMPLES", "8"))
OUTPUT_DIR = os.environ.get("CONTRACT_OUTPUT_DIR", "")

pytestmark = pytest.mark.concurrency

# The caller kinds that use the API with a bearer token; the demo data set
# gives each one a client (partners/demo.py) and data it may see.
CALLERS = {
    "operator": "demo-operator",
    "partner": "demo-acme",
    "store": "demo-store-par01",
    "shopper": "demo-shopper-app",
}


@pytest.fixture
def served(transactional_db: Any) -> Iterator[tuple[GatewayServer, dict[str, str]]]:
    """The demo data committed to the test database, the real server over it,
    and a token per caller kind (the shopper's for the demo shopper)."""
    call_command("load_demo", stdout=io.StringIO())
    shopper = get_user_model().objects.get(username="shopper")
    tokens = {
        kind: token_for(ApiClient.objects.get(client_id=client_id), user=shopper if kind == "shopper" else None)
        for kind, client_id in CALLERS.items()
    }
    server = GatewayServer(env={f"RATE_LIMIT_{tier}": "1000000" for tier in ("STANDARD", "PREMIUM", "INTERNAL")})
    try:
        yield server, tokens
    finally:
        server.stop()


def schemathesis_run(server: GatewayServer, token: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{server.url}/api/v1/schema/",
        "--url",
        server.url,
        "--checks",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--header",
        f"Authorization: Bearer {token}",
        "--request-timeout",
        "20",
        "--workers",
        "1",  # two threads crashed Schemathesis now and then in CPython 3.11's compiler (SystemError)
        "--seed",
        "1",
        "--no-color",
    ]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)


def test_every_answer_matches_the_published_schema(served: tuple[GatewayServer, dict[str, str]]) -> None:
    server, tokens = served
    failures = {}
    for caller, token in tokens.items():
        result = schemathesis_run(server, token)
        if OUTPUT_DIR:  # the whole report of each caller, for a local search (CONTRACT_MAX_EXAMPLES above)
            Path(OUTPUT_DIR, f"contract-{caller}.txt").write_text(result.stdout + result.stderr)
        if result.returncode != 0:
            failures[caller] = result.stdout[-15000:] + result.stderr[-3000:]
    assert not failures, "\n\n".join(f"=== as {caller}\n{output}" for caller, output in failures.items())
