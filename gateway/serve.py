"""Runs the WSGI application with granian: ``python -m gateway.serve``.

Granian (WSGI interface, keep-alive) served about 5,100 plain Django
responses/s on 2 cores against about 2,500 for gunicorn sync workers; ASGI
was about ten times slower for this synchronous stack (see README)."""

import argparse
import os
from pathlib import Path

from granian import Granian
from granian.constants import Interfaces


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "4")))
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings.local")
    static_root = _collect_static()
    Granian(
        "gateway.wsgi:application",
        address=args.host,
        port=args.port,
        interface=Interfaces.WSGI,
        workers=args.workers,
        blocking_threads=args.threads,
        backpressure=args.threads * 4,
        log_access=False,
        # The docs (Swagger UI, Redoc) load their assets from the sidecar
        # package; granian serves the collected files itself, no CDN.
        static_path_route=["/static"],
        static_path_mount=[static_root],
    ).serve()


def _collect_static() -> Path:
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    call_command("collectstatic", "--no-input", verbosity=0)
    return Path(settings.STATIC_ROOT)


if __name__ == "__main__":
    main()
