"""The test suite: real PostgreSQL and Redis started by bin/test."""

from gateway.settings.base import *  # noqa: F403
from gateway.settings.base import OAUTH2_PROVIDER

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
