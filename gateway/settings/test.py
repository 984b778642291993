"""The test suite: real PostgreSQL and Redis started by bin/test."""

import os

from gateway.settings.base import *  # noqa: F403
from gateway.settings.base import DATABASES, OAUTH2_PROVIDER, REDIS_URL

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
OAUTH2_PROVIDER = {
    **OAUTH2_PROVIDER,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"],
    "ALLOW_LOCALHOST_LOOPBACK": True,
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = False
WEBHOOK_ALLOW_PRIVATE_TARGETS = True
# Off, so query counts pinned by tests do not depend on what an earlier request
# cached; tests/gateway/test_auth.py turns it on to test it.
AUTH_TOKEN_CACHE_SECONDS = float(os.environ.get("AUTH_TOKEN_CACHE_SECONDS", "0"))
# Off likewise (a test's writes commit only when it asks: bumps run on commit);
# tests/gateway/test_readcache.py turns it on to test it.
READ_CACHE_SECONDS = float(os.environ.get("READ_CACHE_SECONDS", "0"))

# One test database per pytest process: several runs (developers, CI, helpers)
# can share the project-local PostgreSQL without dropping each other's database.
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME", f"test_gateway_{os.getpid()}")}

# Likewise one Redis database per run (1-15), inherited by the servers and
# workers a test starts, since they read these settings in the same environment.
# The processes of one parallel run (pytest-xdist: gw0, gw1, ...) take
# consecutive databases from a base drawn from the run's id, so they never share.
# A worker replaces the URL it inherits from the controller, once: the servers
# and workers it starts (which inherit its environment, and may be given a
# Redis of their own) keep what they are given.
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _xdist_worker[2:].isdigit() and os.environ.get("GATEWAY_TEST_REDIS_FOR") != _xdist_worker:
    _run = int(os.environ.get("PYTEST_XDIST_TESTRUNUID", "0")[:8] or "0", 16)
    os.environ["GATEWAY_TEST_REDIS_URL"] = REDIS_URL.rsplit("/", 1)[0] + f"/{(_run + int(_xdist_worker[2:])) % 15 + 1}"
    os.environ["GATEWAY_TEST_REDIS_FOR"] = _xdist_worker
REDIS_URL = os.environ.setdefault("GATEWAY_TEST_REDIS_URL", REDIS_URL.rsplit("/", 1)[0] + f"/{os.getpid() % 15 + 1}")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
CELERY_BROKER_URL = CELERY_RESULT_BACKEND = REDIS_URL
