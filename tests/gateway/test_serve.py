"""The WSGI server's limits (gateway/serve.py): idle keep-alive clients must
not use up what a worker accepts."""

import http.client
import time

import pytest

from tests.conftest import GatewayServer


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
