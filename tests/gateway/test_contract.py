"""The published schema checked against the running server: Schemathesis
generates requests from the schema the server publishes (equal to
schema/openapi-v1.yaml: test_schema.py) (valid and invalid ones, the
documented examples, boundary values, and create-then-read sequences from the
schema's links) and sends them to the real WSGI server over the demo data,
with a token of each kind of caller. Every answer must be documented: its
status, content type, headers and body schema; no 5xx.

How many cases run is bounded so the suite stays quick: the operator, who
reaches every operation and its data, gets the documented examples, the
boundary values of every parameter (coverage) and the create-then-read
sequences (stateful); the partner, store and shopper get the examples and
random requests (fuzzing), which is where an undocumented 403 or 404 of
theirs would show. Search harder locally with every phase for everyone:
``CONTRACT_PHASES=examples,coverage,fuzzing,stateful CONTRACT_MAX_EXAMPLES=200
bin/test tests/gateway/test_contract.py``."""

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
MAX_EXAMPLES = int(os.environ.get("CONTRACT_MAX_EXAMPLES", "3"))
OUTPUT_DIR = os.environ.get("CONTRACT_OUTPUT_DIR", "")
PHASES = os.environ.get("CONTRACT_PHASES", "")
DEFAULT_PHASES = {"operator": "examples,coverage,stateful"}
OTHER_CALLERS_PHASES = "examples,fuzzing"
# A comma-separated subset of CALLERS to run, for a local search (all by default).
ONLY = [kind for kind in os.environ.get("CONTRACT_CALLERS", "").split(",") if kind]

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
        if not ONLY or kind in ONLY
    }
    server = GatewayServer(env={f"RATE_LIMIT_{tier}": "1000000" for tier in ("STANDARD", "PREMIUM", "INTERNAL")})
    try:
        yield server, tokens
    finally:
        server.stop()


def schemathesis_start(server: GatewayServer, caller: str, token: str, output: Path) -> subprocess.Popen[str]:
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
        PHASES or DEFAULT_PHASES.get(caller, OTHER_CALLERS_PHASES),
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
    return subprocess.Popen(command, cwd=ROOT, stdout=output.open("w"), stderr=subprocess.STDOUT, text=True)


def test_every_answer_matches_the_published_schema(
    served: tuple[GatewayServer, dict[str, str]], tmp_path: Path
) -> None:
    """One Schemathesis run per caller kind, all at once (each mostly waits
    on the server's answers; one after the other took four times as long)."""
    server, tokens = served
    reports = {caller: Path(OUTPUT_DIR or tmp_path, f"contract-{caller}.txt") for caller in tokens}
    runs = {caller: schemathesis_start(server, caller, token, reports[caller]) for caller, token in tokens.items()}
    failures = {}
    for caller, run in runs.items():
        try:
            returncode = run.wait(timeout=900)
        except subprocess.TimeoutExpired:
            run.kill()
            returncode = -1
        if returncode != 0:
            failures[caller] = reports[caller].read_text()[-15000:]
    assert not failures, "\n\n".join(f"=== as {caller}\n{output}" for caller, output in failures.items())
