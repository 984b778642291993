"""Fixtures shared by the whole suite. Tests run against the real PostgreSQL
and Redis that bin/test starts (.var/test)."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _clean_redis() -> None:
    """Rate-limit counters and caches start empty in every test, and so do
    the process's memos of the database (one test's location codes are not
    another's)."""
    from inventory.selectors.locations import LOCATION_IS_STORE

    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    LOCATION_IS_STORE.clear()


def stop_process_group(process: subprocess.Popen[Any], timeout: float = 15) -> None:
    """TERM to a process started with ``start_new_session=True`` and to every
    process of its group (a server's or a worker's forked children), then
    KILL to whatever of the group is left after ``timeout`` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class GatewayServer:
    """The real WSGI server (granian, several worker processes) serving the
    test database, for concurrency tests with real parallel HTTP clients."""

    def __init__(
        self, workers: int = 2, threads: int = 4, env: dict[str, str] | None = None, port: int | None = None
    ) -> None:
        self.workers, self.threads, self.env = workers, threads, env
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Each server its own metrics files, so that tests can read them and a
        # PROMETHEUS_MULTIPROC_DIR exported in the shell is never shared or emptied.
        self.metrics_dir = Path(tempfile.mkdtemp(prefix="gateway-test-metrics-"))
        db = settings.DATABASES["default"]
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "gateway.settings.test",
            "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "LOG_LEVEL": "WARNING",
            "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir),
            **(env or {}),
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gateway.serve",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--threads",
                str(threads),
            ],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            # A group of its own: stop() ends the workers too, even when the main
            # process had to be killed and could not stop them (they were left
            # running, orphaned, after a suite once).
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/health/live", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gateway server did not start")

    def stop(self) -> None:
        stop_process_group(self.process)
        shutil.rmtree(self.metrics_dir, ignore_errors=True)


class Balancer:
    """nginx in front of gateway servers, started and stopped by bin/lib.sh's
    ``start_balancer`` and ``stop_balancer`` with the config bin/serve uses
    (bin/nginx.conf.template), in a directory of its own under .var/test/nginx/."""

    def __init__(self, *servers: GatewayServer) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.servers = servers
        self.dir = ROOT / ".var" / "test" / "nginx" / str(self.port)
        self._lib(f"start_balancer test {self.port} {' '.join(str(server.port) for server in servers)}")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/health/live", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("balancer did not start")

    def _lib(self, commands: str) -> None:
        done = subprocess.run(
            ["/bin/bash", "-c", f"source bin/lib.sh && {commands}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"bin/lib.sh: {commands}: {done.stderr}")

    def access_log(self) -> list[str]:
        """The balancer's access lines so far (it writes them out every second)."""
        time.sleep(1.2)
        path = self.dir / "access.log"
        return path.read_text().splitlines() if path.exists() else []

    def served_by(self, path_prefix: str) -> Counter[int]:
        """How many requests on paths starting with ``path_prefix`` each upstream port answered."""
        counts: Counter[int] = Counter()
        for line in self.access_log():
            if f" {path_prefix}" in line and "upstream=127.0.0.1:" in line:
                last = line.split("upstream=", 1)[1].split(" us=", 1)[0].rsplit(", ", 1)[-1]
                counts[int(last.rsplit(":", 1)[1])] += 1
        return counts

    def stop(self) -> None:
        self._lib(f"stop_balancer test {self.port}")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def gateway_server(transactional_db: Any) -> Iterator[GatewayServer]:
    server = GatewayServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def token_cache(settings: Any) -> Iterator[None]:
    """The token cache on (the test settings turn it off), its eviction
    listener subscribed: until it is, tokens are read from the database, so a
    test counting a request's SQL would count the token's lookup."""
    from gateway.api.auth import TOKEN_CACHE

    settings.AUTH_TOKEN_CACHE_SECONDS = 5
    TOKEN_CACHE.clear()
    deadline = time.monotonic() + 5
    while not TOKEN_CACHE._live():
        assert time.monotonic() < deadline, "the eviction listener did not subscribe"
        time.sleep(0.01)
    yield
    TOKEN_CACHE.clear()


@pytest.fixture
def read_cache_on(settings: Any, monkeypatch: Any) -> Iterator[None]:
    """The hot reads' cache on (the test settings turn it off), emptied before and after."""
    from gateway.api import readcache

    settings.READ_CACHE_SECONDS = 15
    # Answers that depend on the clock are keyed by the minute or the quarter
    # hour: both held still, so that a test crossing one does not miss where it
    # expects a hit.
    monkeypatch.setattr(readcache, "minute", lambda: 29_000_000)
    monkeypatch.setattr(readcache, "quarter_hour", lambda: 1_900_000)
    for memo in (readcache.ANSWERS, readcache.RESOURCE_ETAGS, readcache.LEARNED_KEYS):
        memo.clear()
    yield
    for memo in (readcache.ANSWERS, readcache.RESOURCE_ETAGS, readcache.LEARNED_KEYS):
        memo.clear()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (bin/test runs two processes), the tests that start
    servers, workers and crowds of clients (``concurrency``) all run in one
    process, one after the other, as they would alone: two of them at once
    on a 2-core machine starve each other's servers and time out."""
    for item in items:
        if item.get_closest_marker("concurrency"):
            item.add_marker(pytest.mark.xdist_group("servers"))
