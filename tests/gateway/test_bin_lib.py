"""bin/lib.sh, which bin/serve and bin/test run first: as root, PostgreSQL runs
as the postgres user, and the clone may sit where that user cannot go (root's
home is mode 0700)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="only root hands PostgreSQL to the postgres user")


def _lib(clone: Path, port: int, commands: str) -> subprocess.CompletedProcess[str]:
    """Runs ``commands`` after sourcing the clone's bin/lib.sh, for an instance of its own."""
    env = {**os.environ, "PG_PORT": str(port)}
    script = f"source bin/lib.sh && instance_env libcheck && {commands}"
    return subprocess.run(
        ["/bin/bash", "-c", script], cwd=clone, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_postgres_runs_for_a_clone_the_postgres_user_cannot_enter(tmp_path: Path) -> None:
    # given a clone of bin/ under a home directory only root may enter
    home = tmp_path / "root-home"
    home.mkdir(mode=0o700)
    clone = home / "gateway"
    shutil.copytree(ROOT / "bin", clone / "bin")
    port = free_port()
    answers = 'PGPASSWORD=$(pg_password) psql -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" -tAc "select 6 * 7"'
    try:
        # when the scripts start its PostgreSQL
        started = _lib(clone, port, f"start_postgres >&2 && {answers} && echo $PG_DATA")
        # then it runs and answers, with its cluster where the postgres user can reach it
        assert started.returncode == 0, started.stderr
        answer, data = started.stdout.split()
        assert answer == "42"
        assert not data.startswith(str(home))
        assert (clone / ".var" / "libcheck" / "pg" / "PG_VERSION").is_file()
        # and the scripts stop it
        stopped = _lib(clone, port, f"stop_postgres && ! {answers} 2>/dev/null")
        assert stopped.returncode == 0, stopped.stderr
    finally:
        removed = _lib(clone, port, "remove_postgres && echo $PG_DATA")
        shutil.rmtree(home)
    # and remove it, leaving nothing behind outside the clone
    assert removed.returncode == 0, removed.stderr
    assert not Path(removed.stdout.strip()).exists()
