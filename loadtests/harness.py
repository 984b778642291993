"""What every benchmark shares (see ../shared/BENCHMARKS.md): start the real
stack on ports of its own (PostgreSQL, Redis, the WSGI server with production
settings, optionally a Celery worker), get tokens through /oauth/token/, print
progress, and print ``RESULT metric=value unit`` lines. Everything started is
stopped on exit, failure or Ctrl-C.

    with Stack(celery=True) as stack:
        token = stack.token("bench-operator")
        ...
        result("orders_per_s", 812.4, "orders/s")
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def result(metric: str, value: float | int, unit: str) -> None:
    shown = f"{value:.1f}" if isinstance(value, float) else str(value)
    print(f"RESULT {metric}={shown} {unit}", flush=True)


def _services_env(action: str) -> dict[str, str]:
    out = subprocess.run(
        [str(ROOT / "bin" / "services"), action, "bench"], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout
    env: dict[str, str] = {}
    for part in out.replace("export ", "").split():
        if "=" in part:
            key, value = part.split("=", 1)
            env[key] = value.strip("'")
    return env


class Stack:
    """PostgreSQL + Redis (instance "bench"), a fresh database, migrations,
    the granian WSGI server with production settings, and optionally Celery."""

    def __init__(self, *, port: int = 8811, workers: int = 2, threads: int = 4, celery: bool = False) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.workers, self.threads, self.celery = workers, threads, celery
        self.processes: list[subprocess.Popen[bytes]] = []
        self.env: dict[str, str] = {}

    def __enter__(self) -> "Stack":
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        progress("starting PostgreSQL and Redis (instance bench)")
        self.env = {
            **os.environ,
            **_services_env("start"),
            "DJANGO_SETTINGS_MODULE": "gateway.settings.production",
            "SECRET_KEY": "bench-" + "x" * 60,
            "SECURE_SSL_REDIRECT": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_INTERNAL": "100000000",
            "RATE_LIMIT_PREMIUM": "100000000",
            "RATE_LIMIT_STANDARD": "100000000",
            "DB_POOL_MAX": str(self.threads + 2),
        }
        self.manage("reset_bench_database")
        progress("migrating")
        self.manage("migrate", "--no-input", "-v", "0")
        self.manage("load_demo", "--base-url", self.url)
        self.start_server()
        if self.celery:
            self.processes.append(
                subprocess.Popen(
                    [str(ROOT / ".venv" / "bin" / "celery"), "-A", "gateway", "worker", "-l", "warning", "-c", "2"],
                    cwd=ROOT,
                    env=self.env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        return self

    def manage(self, *args: str) -> str:
        done = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def start_server(self) -> None:
        progress(f"starting granian on {self.url} ({self.workers} workers x {self.threads} threads)")
        self.processes.append(
            subprocess.Popen(
                [
                    PYTHON,
                    "-m",
                    "gateway.serve",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                    "--threads",
                    str(self.threads),
                ],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/health/live", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def token(self, client_id: str, secret: str | None = None, scope: str | None = None) -> str:
        data = {"grant_type": "client_credentials"}
        if scope:
            data["scope"] = scope
        response = requests.post(
            f"{self.url}/oauth/token/", data=data, auth=(client_id, secret or f"{client_id}-secret"), timeout=30
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Any:
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        _services_env("stop")
        progress("stack stopped")
        return None
