"""ASGI entry point (kept for tooling; production serves WSGI, see docs/architecture.md)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings.local")
application = get_asgi_application()
