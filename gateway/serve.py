"""Runs the WSGI application with granian: ``python -m gateway.serve``.

Granian (WSGI interface, keep-alive) served about 5,100 plain Django
responses/s on 2 cores against about 2,500 for gunicorn sync workers; ASGI
was about ten times slower for this synchronous stack (docs/benchmarks.md).

What bounds what, per worker process:

- requests handled at once: ``--threads`` (granian's blocking threads, the
  only threads that run Python). Two per process, and a process per core
  and a half or so, did best: on the 2-core midnight bench (3,000 orders,
  48 keep-alive clients) 4 workers x 2 threads placed 52-60 orders/s, 2 x 8
  34-52 and 2 x 4 35 (gateway/wsgi.py explains the GIL side of it);
- database connections: ``DB_POOL_MAX`` (Django's psycopg pool), defaulted
  here to the thread count, since a thread holds at most one connection for
  the length of a request; workers x DB_POOL_MAX stays far under
  PostgreSQL's max_connections (200, bin/lib.sh);
- open connections: granian's ``backpressure``. It counts accepted
  connections, idle keep-alive ones included, not requests in flight: at 4 x
  threads (16 with 4 threads) a worker whose 16 connections belonged to idle
  keep-alive clients (a proxy's pool, a shopper app between taps) accepted
  nothing more, and new clients hung in the listen queue while its threads
  sat idle. So it is set to what a worker may hold open, ``BACKLOG //
  workers`` (granian's own default, 512 each with 2 workers), and requests
  beyond the threads wait in granian's queue, where they cost no thread, no
  database connection and no CPU. That holds once a request is in: granian
  hands it to a thread before its body has arrived, so a client trickling a
  body holds a thread meanwhile (four froze a 4-thread instance); nginx in
  front (bin/nginx.conf.template, ``bin/serve --instances``, production)
  reads whole bodies first.

Metrics: each worker process counts in its own files under
``PROMETHEUS_MULTIPROC_DIR`` and /metrics adds them all up (see
gateway/api/metrics.py). The directory must start empty on every run, or the
last run's counts would be added in: a given one is emptied, and without one a
fresh temporary directory is made and removed at exit."""

import argparse
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from granian.constants import Interfaces
from granian.server.mp import MPServer

# The listen queue, granian's default; per worker it is also the open-connection budget.
BACKLOG = 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "4")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "2")))
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings.local")
    os.environ.setdefault("DB_POOL_MAX", str(args.threads))
    # Before anything imports prometheus_client: it picks its storage once, at import.
    metrics_dir, own_metrics_dir = _metrics_dir()
    static_root = _collect_static()
    server = _Server(
        "gateway.wsgi:application",
        address=args.host,
        port=args.port,
        interface=Interfaces.WSGI,
        workers=args.workers,
        blocking_threads=args.threads,
        backlog=BACKLOG,
        backpressure=max(args.threads, BACKLOG // args.workers),
        log_access=False,
        # The docs (Swagger UI, Redoc) load their assets from the sidecar
        # package; granian serves the collected files itself, no CDN.
        static_path_route=["/static"],
        static_path_mount=[static_root],
    )
    try:
        server.serve()
    finally:
        if own_metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)


class _Server(MPServer):
    """granian's process server (the one ``granian.Granian`` is with the GIL),
    telling prometheus_client which workers are gone when it replaces them
    (SIGHUP reload, or lifetime, memory and crash respawns when enabled), so
    live gauges stop counting them. Counters and histograms of a gone worker
    stay: what it counted happened."""

    def _respawn_workers(self, workers: Any, spawn_target: Any, target_loader: Any, delay: float = 0) -> None:
        from prometheus_client import multiprocess  # not at the top: see _metrics_dir() in main()

        before = {worker.inner.pid for worker in self.wrks}
        super()._respawn_workers(workers, spawn_target, target_loader, delay)
        for pid in before - {worker.inner.pid for worker in self.wrks}:
            multiprocess.mark_process_dead(pid)


def _metrics_dir() -> tuple[Path, bool]:
    """This run's metrics directory, empty, and whether it was made here."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not given:
        made = Path(tempfile.mkdtemp(prefix="gateway-metrics-"))
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(made)
        return made, True
    path = Path(given)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    return path, False


def _collect_static() -> Path:
    """The static files' directory, collected first unless the image already
    did it at build time (``GATEWAY_COLLECTSTATIC=0``, see the Dockerfile), where
    the application directory is read-only for the server's user."""
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    if os.environ.get("GATEWAY_COLLECTSTATIC", "1") != "0":
        call_command("collectstatic", "--no-input", verbosity=0)
    return Path(settings.STATIC_ROOT)


if __name__ == "__main__":
    main()
