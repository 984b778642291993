"""WSGI entry point.

The web server runs a few threads per process (gateway/serve.py), and every
database round trip of a request hands the GIL over: the thread waits for
PostgreSQL without it, then has to win it back from a thread that is running
Python. CPython makes a running thread give the GIL up only every switch
interval, 5 ms by default, so a thread inside the order transaction, holding
the slot and stock row locks, could wait up to 5 ms per round trip while
other shoppers queued behind those locks. At 1 ms the midnight bench
(3,000 orders, 2 cores, 4 workers x 2 threads) went from 41.6 to 52-60
orders/s; PYTHON_SWITCH_INTERVAL_MS overrides it."""

import os
import sys

from django.core.wsgi import get_wsgi_application

sys.setswitchinterval(float(os.environ.get("PYTHON_SWITCH_INTERVAL_MS", "1")) / 1000)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings.local")
application = get_wsgi_application()
