"""Django's psycopg pool after a PostgreSQL restart: no request may get a
dead connection (issue defect 3: each stale pooled connection gave one 500,
up to 18 s later, even on an idle server).

The restart is of a private PostgreSQL cluster that this test starts with
bin/lib.sh's instance functions (instance ``pool-<pid>`` on a port of its
own), never the shared test server other runs are using."""

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db.utils import ConnectionHandler

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.concurrency


class PrivatePostgres:
    def __init__(self) -> None:
        self.instance = f"pool-{os.getpid()}"
        self.port = free_port()
        self.password = self.lib("start_postgres >&2 && pg_password").strip()

    def lib(self, commands: str) -> str:
        done = subprocess.run(
            ["/bin/bash", "-c", f"source bin/lib.sh && instance_env {self.instance} && {commands}"],
            cwd=ROOT,
            env={**os.environ, "PG_PORT": str(self.port)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def restart(self) -> None:
        self.lib("stop_postgres && start_postgres >&2")

    def remove(self) -> None:
        self.lib("remove_postgres")
        shutil.rmtree(ROOT / ".var" / self.instance, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        yield server
    finally:
        server.remove()


def test_a_pooled_connection_is_checked_before_it_is_lent(
    private_postgres: PrivatePostgres, django_db_blocker: Any
) -> None:
    # given the project's database settings (pool included) pointed at a private cluster,
    # under an alias of their own (Django keeps one pool per alias), and a connection
    # that served a request and went back to the pool
    options: dict[str, Any] = settings.DATABASES["default"]["OPTIONS"]
    handler = ConnectionHandler(
        {
            "default": {"ENGINE": "django.db.backends.dummy"},  # required, unused
            "restartable": {
                **settings.DATABASES["default"],
                "NAME": "gateway",
                "HOST": "127.0.0.1",
                "PORT": str(private_postgres.port),
                "USER": "gateway",
                "PASSWORD": private_postgres.password,
                "OPTIONS": {**options, "pool": {**options["pool"], "min_size": 1, "max_size": 1}},
            },
        }
    )
    database = handler["restartable"]
    with django_db_blocker.unblock():  # a database of its own, not the test database the blocker guards
        _restart_under(database, private_postgres)


def _restart_under(database: Any, private_postgres: PrivatePostgres) -> None:
    try:
        with database.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            first_backend = cursor.fetchone()[0]
        database.close()
        # when PostgreSQL restarts while the connection sits idle in the pool
        private_postgres.restart()
        # then the next request gets a live connection, to a new backend
        with database.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone()[0] != first_backend
        database.close()
    finally:
        database.close_pool()
