"""Local development: the demo run by bin/serve."""

from gateway.settings.base import *  # noqa: F403
from gateway.settings.base import OAUTH2_PROVIDER, env_bool

DEBUG = env_bool("DEBUG", True)
# Local browser flows may use http://127.0.0.1 redirect URIs.
OAUTH2_PROVIDER = {
    **OAUTH2_PROVIDER,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"],
    "ALLOW_LOCALHOST_LOOPBACK": True,
}
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", True)
