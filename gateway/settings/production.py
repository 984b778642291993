"""Production: secrets come from the environment; nothing insecure is defaulted."""

import os

from gateway.settings.base import *  # noqa: F403
from gateway.settings.base import env, env_bool

DEBUG = False
SECRET_KEY = os.environ["SECRET_KEY"] if "SECRET_KEY" in os.environ else env("SECRET_KEY")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True

# Probes and the metrics scrape reach a pod by its IP over plain HTTP; they are
# answered before the Host check and the HTTPS redirect (ProbeMiddleware).
MIDDLEWARE = ["gateway.api.middleware.ProbeMiddleware", *MIDDLEWARE]  # noqa: F405
