"""Admission control behind the balancer (bin/nginx.conf.template,
gateway/api/admission.py): nginx stamps every request it passes on with
``X-Request-Start``, overwriting any a client sent, and an instance with
more requests than threads sheds the ones that waited too long with 503
``overloaded`` and Retry-After, while the ones it runs keep their latency:
no other 5xx, no timeout."""

import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from loadtests.black_friday import percentile
from tests.commerce.factories import crowd_tokens, shopper_app
from tests.conftest import Balancer, GatewayServer

pytestmark = pytest.mark.concurrency


class Recorder:
    """A plain HTTP server standing in for an instance: answers 200 and keeps
    the X-Request-Start of every request it got, with when it got it."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, float]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                recorder.seen.append((self.path, self.headers.get("X-Request-Start", ""), time.time()))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorded() -> Iterator[tuple[Balancer, Recorder]]:
    recorder = Recorder()
    try:
        balancer = Balancer(recorder)  # type: ignore[arg-type]  # only its port is used
    except Exception:
        recorder.stop()
        raise
    try:
        yield balancer, recorder
    finally:
        balancer.stop()
        recorder.stop()


def test_the_balancer_stamps_every_request_and_overwrites_a_clients_stamp(
    recorded: tuple[Balancer, Recorder],
) -> None:
    balancer, recorder = recorded
    # when a client sends a request without a stamp, one with an old stamp and one from the future
    sent = {"/plain": {}, "/old": {"X-Request-Start": "t=1.000"}, "/future": {"X-Request-Start": "t=99999999999.000"}}
    for path, headers in sent.items():
        assert requests.get(f"{balancer.url}{path}", headers=headers, timeout=10).status_code == 200
    # then each reached the instance with the balancer's own stamp: seconds with milliseconds, just now
    seen = {path: (stamp, at) for path, stamp, at in recorder.seen if path in sent}
    assert set(seen) == set(sent)
    for stamp, at in seen.values():
        assert re.fullmatch(r"t=\d{10}\.\d{3}", stamp), stamp
        assert 0 <= at - float(stamp[2:]) < 2


# One process of 2 threads: a burst of a few hundred requests is far more than it holds.
OVERLOADED_ENV = {
    "ADMISSION_WAIT_MS": "100",
    "ADMISSION_CHECKOUT_WAIT_MS": "1000",
    "ADMISSION_RETRY_AFTER_S": "1",
    "RATE_LIMIT_STANDARD": "1000000",
    "LOG_LEVEL": "WARNING",
}


def overloaded_instance(env: dict[str, str]) -> Iterator[Balancer]:
    server = GatewayServer(workers=1, threads=2, env=env)
    try:
        balancer = Balancer(server)
    except Exception:
        server.stop()
        raise
    try:
        yield balancer
    finally:
        balancer.stop()
        server.stop()


@pytest.fixture
def overloaded(transactional_db: Any) -> Iterator[Balancer]:
    yield from overloaded_instance(OVERLOADED_ENV)


def burst(
    balancer: Balancer, requests_in_all: int, at_once: int
) -> tuple[list[tuple[int, str, str]], Counter[str], str]:
    """60 shoppers reading their orders through the balancer, ``at_once`` requests at a time:
    the (status, problem code, Retry-After) of every answer, the client errors, and the marker
    of these requests in the balancer's access log."""
    tokens = crowd_tokens(shopper_app(), 60)
    answers: list[tuple[int, str, str]] = []
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    marker = secrets.token_hex(4)

    def read(index: int) -> None:
        try:
            response = requests.get(
                f"{balancer.url}/api/v1/orders?page_size=5&r={marker}",
                headers={"Authorization": f"Bearer {tokens[index % len(tokens)]}"},
                timeout=30,
            )
        except requests.RequestException as exc:
            with lock:
                errors[type(exc).__name__] += 1
            return
        code = response.json().get("code", "") if response.status_code != 200 else ""
        with lock:
            answers.append((response.status_code, code, response.headers.get("Retry-After", "")))

    with ThreadPoolExecutor(max_workers=at_once) as pool:
        list(pool.map(read, range(requests_in_all)))
    return answers, errors, marker


def balancer_times(balancer: Balancer, marker: str, status: int) -> list[float]:
    """The balancer's own times (``rt=``, seconds) of the marked requests answered ``status``, sorted."""
    lines = [line for line in balancer.access_log() if marker in line]
    return sorted(float(line.split(" rt=", 1)[1].split()[0]) for line in lines if f'" {status} ' in line)


def test_an_overloaded_instance_sheds_with_503_and_runs_the_rest_promptly(overloaded: Balancer) -> None:
    # given 60 shoppers reading their orders, 400 reads in all, 120 at a time
    # when they all come at once through the balancer
    answers, errors, marker = burst(overloaded, 400, 120)
    # then every request got an answer (no timeout, no connection error): run, or shed
    assert not errors, errors
    statuses = Counter(status for status, _code, _retry in answers)
    assert set(statuses) <= {200, 503}, statuses
    assert statuses[200] > 0, statuses
    assert statuses[503] > 0, f"nothing was shed: the test did not overload the instance ({statuses})"
    # every 503 is the overload answer with its Retry-After (1 s, jittered up to 2)
    assert {(code, retry) for status, code, retry in answers if status == 503} <= {
        ("overloaded", "1"),
        ("overloaded", "2"),
    }
    # and the instance answered the requests it ran promptly: by the balancer's own clock (not
    # this crowded client's), an admitted read took its queue budget (0.1 s) plus its run
    admitted = balancer_times(overloaded, marker, 200)
    assert len(admitted) == statuses[200]
    assert len(balancer_times(overloaded, marker, 503)) == statuses[503]
    p95 = percentile(admitted, 0.95)
    assert p95 < 0.6, (p95, admitted[-10:])


# A standard budget long enough that, alone, it would let the queue grow to over a second, and
# the standing-queue budget that cuts it short while the queue stands.
STANDING_ENV = {
    **OVERLOADED_ENV,
    "ADMISSION_WAIT_MS": "1500",
    "ADMISSION_STANDING_WAIT_MS": "100",
    "ADMISSION_TARGET_MS": "25",
    "ADMISSION_INTERVAL_MS": "100",
}


@pytest.fixture
def standing(transactional_db: Any) -> Iterator[Balancer]:
    yield from overloaded_instance(STANDING_ENV)


def test_a_standing_queue_is_cut_to_its_short_budget_and_admitted_reads_keep_their_latency(
    standing: Balancer,
) -> None:
    # given an instance of 2 threads whose reads may wait 1.5 s, or 0.1 s while its queue stands
    # when 600 reads come 200 at a time: for seconds, every request finds a queue
    answers, errors, marker = burst(standing, 600, 200)
    # then every request is run or shed, nothing else
    assert not errors, errors
    statuses = Counter(status for status, _code, _retry in answers)
    assert set(statuses) <= {200, 503}, statuses
    assert statuses[200] > 0, statuses
    assert statuses[503] > 0, statuses
    # and the sheds were the standing queue's, so the admitted reads waited about 0.1 s, not up
    # to 1.5 s: by the balancer's clock their p95 is the short budget plus a run on a busy machine
    scrape = requests.get(f"{standing.servers[0].url}/metrics", timeout=5).text
    assert re.search(r'gateway_admission_shed_total\{admission_class="standard",reason="standing"\} [1-9]', scrape), [
        line for line in scrape.splitlines() if line.startswith("gateway_admission_shed_total")
    ]
    admitted = balancer_times(standing, marker, 200)
    p95 = percentile(admitted, 0.95)
    assert p95 < 0.5, (p95, admitted[-10:])
