"""Fixtures of the partners tests: a real Celery worker on this run's database and Redis."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import stop_process_group

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def celery_worker(transactional_db: object) -> Iterator[subprocess.Popen[bytes]]:
    yield from _worker("--pool=solo")


@pytest.fixture
def deployed_celery_worker(transactional_db: object) -> Iterator[subprocess.Popen[bytes]]:
    """A worker started the way bin/serve starts one: the pool from the
    settings (CELERY_WORKER_POOL), two at a time."""
    yield from _worker("--concurrency=2")


def _worker(*options: str) -> Iterator[subprocess.Popen[bytes]]:
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gateway.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "celery", "-A", "gateway", "worker", *options, "--without-heartbeat"]
    command += ["--without-gossip", "--without-mingle", "--loglevel=WARNING"]
    worker = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        yield worker
    finally:
        stop_process_group(worker)
