"""The WSGI server (gateway/serve.py): idle keep-alive clients must not use up
what a worker accepts, /metrics speaks for every worker process, and a body
sent without Content-Length is read."""

import http.client
import json
import signal
import socket
import time

import psutil
import pytest
import requests
from prometheus_client.mmap_dict import MmapedDict

from inventory.models import Product
from partners.models import CallerKind
from tests.conftest import GatewayServer
from tests.factories import PartnerFactory, make_client, token_for


@pytest.mark.concurrency
def test_idle_keep_alive_connections_do_not_stall_new_clients(transactional_db) -> None:
    # given one worker with 2 threads, and 40 clients that made a request and keep their connection
    # open (a proxy's pool, apps between taps): five times what 4 x threads let a worker hold
    server = GatewayServer(workers=1, threads=2)
    idle: list[http.client.HTTPConnection] = []
    try:
        for _ in range(40):
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            connection.request("GET", "/health/live")
            assert connection.getresponse().read()
            idle.append(connection)
        # when one more client arrives
        started = time.monotonic()
        newcomer = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        newcomer.request("GET", "/health/live")
        # then it is served at once, not left in the listen queue
        assert newcomer.getresponse().status == 200
        assert time.monotonic() - started < 2
        newcomer.close()
    finally:
        for connection in idle:
            connection.close()
        server.stop()


def _served(server: GatewayServer, route: str) -> float:
    """What /metrics says the server answered on ``route``, over every method and status."""
    scrape = requests.get(f"{server.url}/metrics", timeout=5)
    assert scrape.status_code == 200
    total = 0.0
    for line in scrape.text.splitlines():
        if line.startswith("gateway_http_requests_total{") and f'route="{route}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def _worker_pids(server: GatewayServer) -> set[int]:
    return {child.pid for child in psutil.Process(server.process.pid).children()}


@pytest.mark.concurrency
def test_metrics_add_up_every_worker_and_never_go_down(transactional_db) -> None:
    # given two worker processes that have answered 40 requests between them,
    # each on its own connection, which either worker may accept
    server = GatewayServer(workers=2, threads=2)
    try:
        for _ in range(40):
            assert requests.get(f"{server.url}/problems/", headers={"Connection": "close"}, timeout=5).ok
        workers = _worker_pids(server)
        assert len(workers) == 2
        # when /metrics is scraped again and again (each scrape reaches one worker)
        counts = [_served(server, "problems/") for _ in range(6)]
        # then every scrape counts all 40
        assert counts == [40.0] * 6

        # given each worker holds a live gauge's file (what a Gauge in "livesum" mode writes)
        for pid in workers:
            MmapedDict(str(server.metrics_dir / f"gauge_livesum_{pid}.db")).close()
        # when the workers are replaced (granian reloads them on SIGHUP) and the new ones answer 10 more
        server.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while _worker_pids(server) & workers or len(_worker_pids(server)) < 2:
            assert time.monotonic() < deadline, "granian did not replace its workers"
            time.sleep(0.2)
        for _ in range(10):
            assert requests.get(f"{server.url}/problems/", headers={"Connection": "close"}, timeout=5).ok
        # then the count goes on from the old workers' 40, and their live gauges are gone
        # (granian marks them once it has replaced the last one: a moment after it exits)
        assert [_served(server, "problems/") for _ in range(6)] == [50.0] * 6
        deadline = time.monotonic() + 5
        while list(server.metrics_dir.glob("gauge_live*")) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not list(server.metrics_dir.glob("gauge_live*"))
    finally:
        server.stop()


NEW_PRODUCT = {"sku": "ACME-MUESLI", "name_fr": "Muesli aux fruits", "price": {"amount": "3.20", "currency": "EUR"}}


def _post_chunked(server: GatewayServer, token: str, chunks: list[bytes]) -> tuple[int, str, dict]:
    """POST /api/v1/products with Transfer-Encoding: chunked and no Content-Length,
    over a plain socket: a server that answers 413 before the last chunk may close
    the connection while chunks are still being sent (a broken pipe here), and its
    answer is read all the same."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        head = (
            "POST /api/v1/products HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        try:
            sock.sendall(head.encode())
            for chunk in chunks:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered before reading everything
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.getheader("Content-Type", ""), json.loads(response.read())
    finally:
        sock.close()


@pytest.mark.concurrency
def test_a_chunked_body_is_read_up_to_the_cap(transactional_db) -> None:
    # given the real server with a 4 KiB body cap, and a partner's token
    token = token_for(make_client(CallerKind.PARTNER, partner=PartnerFactory.create(slug="acme")))
    server = GatewayServer(workers=1, threads=2, env={"MAX_REQUEST_BODY_BYTES": "4096"})
    try:
        # when a valid product comes in chunks, without Content-Length
        body = json.dumps(NEW_PRODUCT).encode()
        status, _, created = _post_chunked(server, token, [body[:7], body[7:30], body[30:]])
        # then it is read whole and the product is created
        assert status == 201, created
        assert (created["sku"], created["owner"]) == ("ACME-MUESLI", "acme")

        # when a chunked body runs past the cap
        oversized = json.dumps({**NEW_PRODUCT, "sku": "ACME-BIG", "description_fr": "x" * 12_000}).encode()
        status, content_type, problem = _post_chunked(
            server, token, [oversized[i : i + 1000] for i in range(0, 13_000, 1000)]
        )
        # then it is refused as too large, and nothing is created
        assert (status, content_type, problem["code"]) == (413, "application/problem+json", "payload_too_large")
        assert not Product.objects.filter(sku="ACME-BIG").exists()
    finally:
        server.stop()


@pytest.mark.django_db
def test_a_body_without_length_that_cannot_be_counted_is_refused_with_411(client) -> None:
    # given a server that does not end the input stream where a chunked body ends
    # (the test client's, like Django's runserver, sets no wsgi.input_terminated)
    token = token_for(make_client(CallerKind.PARTNER, partner=PartnerFactory.create(slug="acme")))
    response = client.generic(
        "POST",
        "/api/v1/products",
        json.dumps(NEW_PRODUCT),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "Transfer-Encoding": "chunked"},
        CONTENT_LENGTH="",
    )
    # then the client is told to send a length, rather than the body being read as empty
    assert response.status_code == 411
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "length_required"


@pytest.mark.concurrency
def test_the_process_environment_is_not_part_of_a_request(transactional_db) -> None:
    # given a server whose process environment holds a variable shaped like a request header
    # (granian builds each request's environ on a copy of os.environ)
    server = GatewayServer(workers=1, threads=2, env={"HTTP_X_REQUEST_ID": "from-the-server-environment"})
    try:
        # when a client sends no X-Request-ID, and another sends its own
        bare = requests.get(f"{server.url}/health/live", timeout=5)
        own = requests.get(f"{server.url}/health/live", headers={"X-Request-ID": "client-chosen"}, timeout=5)
    finally:
        server.stop()
    # then the first is given a fresh id, not the environment's, and the second keeps its own
    assert bare.headers["X-Request-ID"] != "from-the-server-environment"
    assert len(bare.headers["X-Request-ID"]) == 32
    assert own.headers["X-Request-ID"] == "client-chosen"
