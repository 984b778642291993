"""Per-client rate limits in Redis (docs/api-guide.md, Rate limits).

A fixed window per client, counted with one atomic Lua call (INCR, then
EXPIRE on the first hit), so any number of web processes share one count.
The limit comes from the client's tier. Responses carry the IETF draft
fields ``RateLimit-Policy: "<tier>";q=<quota>;w=<window>`` and
``RateLimit: "<tier>";r=<remaining>;t=<seconds to reset>``.

When Redis is unreachable, API calls go on (fail open: availability of
reads and orders matters more than the limit) and the event is logged and
counted; token issuance fails closed (see ``check_token_rate``)."""

import logging
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from gateway.api import metrics
from gateway.api.problems import ProblemError, ServiceUnavailable

log = logging.getLogger("gateway.ratelimit")

_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('TTL', KEYS[1])
return {count, ttl}
"""

_client: redis.Redis | None = None


def redis_client() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.25, socket_connect_timeout=0.25)
    return _client


class RateLimited(ProblemError):
    status_code = 429
    code = "rate_limited"


@dataclass(frozen=True)
class Window:
    policy: str
    quota: int
    window: int
    remaining: int
    reset: int
    exceeded: bool

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Policy": f'"{self.policy}";q={self.quota};w={self.window}',
            "RateLimit": f'"{self.policy}";r={self.remaining};t={self.reset}',
        }


def hit(bucket: str, *, policy: str, quota: int, window: int) -> Window:
    """Count one request in ``bucket``; raises redis.RedisError when Redis is down."""
    count, ttl = redis_client().eval(_SCRIPT, 1, f"rl:{bucket}", window)
    ttl = int(ttl) if int(ttl) > 0 else window
    count = int(count)
    return Window(
        policy=policy, quota=quota, window=window, remaining=max(quota - count, 0), reset=ttl, exceeded=count > quota
    )


def tier_for_token(token: Any) -> str:
    client = token.application
    tier = client.rate_limit_tier or (client.partner.tier if client.partner_id else "") or "standard"
    return tier if tier in settings.RATE_LIMIT_TIERS else "standard"


class ClientRateThrottle(BaseThrottle):
    """The DRF throttle every API view uses. Shopper tokens share their app's
    client, so they are counted per (client, user)."""

    def allow_request(self, request: Request, view: Any) -> bool:
        token: Any = request.auth
        if token is None:
            return True
        tier = tier_for_token(token)
        quota, window = settings.RATE_LIMIT_TIERS[tier], settings.RATE_LIMIT_WINDOW_SECONDS
        bucket = f"{token.application_id}:{token.user_id or ''}"
        try:
            state = hit(bucket, policy=tier, quota=quota, window=window)
        except redis.RedisError:
            metrics.RATE_LIMITER_FAIL_OPEN.inc()
            log.warning("rate limiter unavailable, failing open", extra={"bucket": bucket})
            return True
        request._request.rate_limit_headers = state.headers()  # type: ignore[attr-defined]  # added by RequestIdMiddleware
        if state.exceeded:
            raise RateLimited(
                _("Rate limit of %(quota)d requests per %(window)d s exceeded.") % {"quota": quota, "window": window},
                headers={"Retry-After": str(state.reset), **state.headers()},
            )
        return True


def check_token_rate(request: HttpRequest, client_id: str) -> dict[str, str]:
    """Token issuance: limited per client id and fail closed."""
    quota, window = settings.RATE_LIMIT_TOKEN_REQUESTS, settings.RATE_LIMIT_WINDOW_SECONDS
    try:
        state = hit(f"token:{client_id}", policy="token", quota=quota, window=window)
    except redis.RedisError as exc:
        log.error("rate limiter unavailable, refusing token requests")
        raise ServiceUnavailable(_("Token issuance is temporarily unavailable."), headers={"Retry-After": "5"}) from exc
    if state.exceeded:
        raise RateLimited(_("Too many token requests."), headers={"Retry-After": str(state.reset), **state.headers()})
    return state.headers()
