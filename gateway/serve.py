"""Runs the WSGI application with granian: ``python -m gateway.serve``.

Granian (WSGI interface, keep-alive) served about 5,100 plain Django
responses/s on 2 cores against about 2,500 for gunicorn sync workers; ASGI
was about ten times slower for this synchronous stack (see README)."""

import argparse
import os

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
    Granian(
        "gateway.wsgi:application",
        address=args.host,
        port=args.port,
        interface=Interfaces.WSGI,
        workers=args.workers,
        blocking_threads=args.threads,
        backpressure=args.threads * 4,
        log_access=False,
    ).serve()


if __name__ == "__main__":
    main()
