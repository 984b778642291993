"""The Celery side of an outage (Black Friday issue, defects 2 and 4): a
worker that dies is started again, queued tasks survive a Redis restart, a
task whose worker was SIGKILLed is handed to another, and a worker takes
tasks again within moments of Redis coming back.

Each test runs a Redis server of its own, started by bin/lib.sh's
``start_redis`` (instance ``redis-<pid>``, a port of its own), since it stops
and restarts it; the shared test Redis is never touched."""

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import redis
from celery import Celery
from django.conf import settings

from tests.conftest import free_port, stop_process_group

ROOT = Path(__file__).resolve().parents[2]
TASK = "gateway.api.tasks.purge_idempotency_keys"  # any quick idempotent task

pytestmark = pytest.mark.concurrency


def lib(commands: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["/bin/bash", "-c", f"source bin/lib.sh && {commands}"],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


class PrivateRedis:
    def __init__(self) -> None:
        self.instance = f"redis-{os.getpid()}"
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.start()

    def _lib(self, commands: str) -> None:
        lib(f"instance_env {self.instance} && {commands}", {"REDIS_PORT": str(self.port)})

    def start(self) -> None:
        self._lib("start_redis")

    def stop(self) -> None:
        self._lib("stop_redis")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(ROOT / ".var" / self.instance, ignore_errors=True)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    try:
        yield server
    finally:
        server.remove()


def probe(url: str) -> Celery:
    """A client of the private Redis, sending tasks as the web processes do.
    Not the current app: a Celery app made current stays so after the test,
    and every later test's tasks and results would go to this Redis, stopped
    by then."""
    return Celery("probe", broker=url, backend=url, set_as_current=False)


def test_the_supervisor_starts_a_dead_process_again_and_stops_it_on_term(tmp_path: Path) -> None:
    # given a process under bin/lib.sh's supervise loop, as bin/serve runs the Celery worker
    starts = tmp_path / "starts"
    loop = subprocess.Popen(
        ["/bin/bash", "-c", f'source bin/lib.sh && supervise sleeper - sh -c "echo >>{starts}; exec sleep 300"'],
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert _eventually(lambda: starts.exists() and len(starts.read_text().splitlines()) == 1, 10)
        child = psutil.Process(loop.pid).children()[0]
        # when the process is SIGKILLed
        child.kill()
        # then it is started again
        assert _eventually(lambda: len(starts.read_text().splitlines()) == 2, 10)
        # and TERM to the loop stops the process too, and the loop
        second = psutil.Process(loop.pid).children()[0]
        loop.send_signal(signal.SIGTERM)
        assert loop.wait(timeout=10) == 0
        assert not second.is_running() or second.status() == psutil.STATUS_ZOMBIE
    finally:
        if loop.poll() is None:
            loop.kill()


def test_queued_tasks_survive_a_redis_restart(private_redis: PrivateRedis) -> None:
    # given a task queued while no worker runs
    probe(private_redis.url).send_task(TASK)
    broker = redis.Redis.from_url(private_redis.url)
    assert broker.llen("celery") == 1
    # when Redis restarts
    private_redis.stop()
    private_redis.start()
    # then the task is still queued
    assert broker.llen("celery") == 1


class Worker:
    def __init__(self, redis_url: str, env: dict[str, str]) -> None:
        db = settings.DATABASES["default"]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "gateway", "worker", "-l", "warning", "--concurrency", "2"],
            cwd=ROOT,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "gateway.settings.test",
                "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
                "GATEWAY_TEST_REDIS_URL": redis_url,
                **env,
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        stop_process_group(self.process, timeout=20)


def _eventually(condition: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return bool(condition())


def test_a_worker_takes_tasks_within_moments_of_redis_coming_back(
    private_redis: PrivateRedis, transactional_db: Any
) -> None:
    # given a running worker that has served a task
    client = probe(private_redis.url)
    worker = Worker(private_redis.url, {})
    try:
        assert client.send_task(TASK, ignore_result=False).get(timeout=60) == 0
        # when Redis goes away for 12 s and comes back
        private_redis.stop()
        time.sleep(12)
        private_redis.start()
        back = time.monotonic()
        # then the worker takes a new task within moments (kombu's own backoff: 9 s here, up to 30 s)
        assert client.send_task(TASK, ignore_result=False).get(timeout=20) == 0
        assert time.monotonic() - back < 4
        assert worker.process.poll() is None
    finally:
        worker.stop()


def test_a_killed_workers_task_is_redelivered(private_redis: PrivateRedis, transactional_db: Any) -> None:
    # given a worker that took a task due in 8 s (visibility timeout shortened from
    # the 15 min of the settings, so that the test does not wait that long)
    env = {"CELERY_VISIBILITY_TIMEOUT_S": "3"}
    client = probe(private_redis.url)
    broker = redis.Redis.from_url(private_redis.url)
    first = Worker(private_redis.url, env)
    second: Worker | None = None
    try:
        result = client.send_task(TASK, countdown=8, ignore_result=False)
        assert _eventually(lambda: broker.hlen("unacked") == 1 and broker.llen("celery") == 0, 30)
        # when that worker is SIGKILLed and another one runs
        first.kill()
        second = Worker(private_redis.url, env)
        # then the other one runs the task: at its start if the task is overdue by then,
        # else at its next sweep for overdue tasks (every 10 s)
        assert result.get(timeout=60) == 0
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_the_visibility_timeout_outlasts_every_countdown_and_stays_under_an_hour() -> None:
    from partners.services.delivery import COUNTDOWN_LIMIT
    from partners.services.egress import TOTAL_TIMEOUT_S
    from partners.services.events import DELIVERIES_PER_TASK

    assert COUNTDOWN_LIMIT.total_seconds() < settings.CELERY_VISIBILITY_TIMEOUT_S < 3600
    # a task of one subscription's deliveries to a receiver that never answers ends before it is redelivered
    assert DELIVERIES_PER_TASK * TOTAL_TIMEOUT_S < settings.CELERY_VISIBILITY_TIMEOUT_S
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] == settings.CELERY_VISIBILITY_TIMEOUT_S
    assert (
        settings.CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS["visibility_timeout"] == settings.CELERY_VISIBILITY_TIMEOUT_S
    )


def test_a_probe_leaves_the_gateway_app_current() -> None:
    from celery._state import get_current_app

    from gateway.celery import app

    probe("redis://127.0.0.1:1/0")

    assert get_current_app() is app
