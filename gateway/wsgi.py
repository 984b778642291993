"""WSGI entry point.

The web server runs a few threads per process (gateway/serve.py), and every
database round trip of a request hands the GIL over: the thread waits for
PostgreSQL without it, then has to win it back from a thread that is running
Python. CPython makes a running thread give the GIL up only every switch
interval, 5 ms by default, so a thread inside the order transaction, holding
the slot and stock row locks, may wait up to that long per round trip while
other shoppers queue behind those locks; a shorter interval costs more
switches. Which way it tips depends on how long requests run: on a slow VM
(speed index 10, an order 9 ms of server CPU) 1 ms took the midnight bench
from 41.6 to 52-60 orders/s; on a faster one (speed index 32-34, an order
about 3 ms), Python's 5 ms placed 174-197 orders/s against 157-191 at 1 ms
in four interleaved pairs, each pair won by 5 ms with less server CPU per
order. Hence Python's default; PYTHON_SWITCH_INTERVAL_MS overrides it."""

import gc
import os
import sys

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from gateway.api.auth import TOKEN_CACHE
from gateway.api.middleware import CountedBodyApplication, LoopbackProxyHeaders, ProcessEnvironScrub

sys.setswitchinterval(float(os.environ.get("PYTHON_SWITCH_INTERVAL_MS", "5")) / 1000)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings.local")
application = ProcessEnvironScrub(LoopbackProxyHeaders(CountedBodyApplication(get_wsgi_application())))
get_resolver().url_patterns  # noqa: B018  imports every view and serializer now, not at the first request
TOKEN_CACHE.start()

# What is loaded by now (Django, the apps, their modules and caches) lives as
# long as the worker: the cyclic garbage collector stops scanning it. On the
# midnight bench the web workers spent 4-5 % of their CPU in collections that
# walked this heap again and again.
gc.freeze()
