"""Bearer-token authentication against django-oauth-toolkit's tokens.

DOT's own DRF class runs every request through oauthlib; this one reads the
``Authorization`` header only (tokens in query strings are refused, RFC 9700
section 4.3.2), looks the token up by its checksum with its client and
partner, and leaves scope checks to ``HasRequiredScopes``.

What a lookup costs, measured on the 2-core bench machine: the ORM's
``select_related`` query took 3.5 ms of CPU per request (1.4 ms compiling it,
1.8 ms building four model instances, 0.3 ms for PostgreSQL); checking the
connection out of the pool, 0.03 ms. So a lookup is one plain SQL statement
built once from the models' columns (about 0.3 ms), the user is loaded only
if something asks for ``request.user`` (no API view does), and each web
process keeps what it read in ``TOKEN_CACHE`` for
``AUTH_TOKEN_CACHE_SECONDS`` (5 s by default; 0 turns the cache off, as the
test settings do except in the tests of the cache itself). A hit builds
fresh model instances from the kept values (about 0.05 ms), so no request
ever shares an instance with another.

How soon a change reaches a cached token:

- expiry: at once; ``expires`` is compared with the clock on every request;
- revoking a token (``/oauth/revoke/``, refresh rotation, reuse protection,
  the admin, any ORM delete), saving a token, or saving or deleting its
  client or partner (deactivation): at once in the process that made the
  change (model signals), and in every other process before the change's
  own answer leaves: after commit the change is published on the Redis
  channel ``gateway:auth:evict:<db>``, which a listener thread in each web
  process reads (channels span a Redis server's databases, hence the
  number) and acknowledges, and the publisher waits for every
  acknowledgement (``AUTH_EVICTION_WAIT_S`` at most);
- a process serves from its cache only while its listener has heard from
  Redis within the last ``_LIVENESS_S`` (it pings every ``_PING_EVERY_S``);
  with Redis unreachable every request reads the database, and a listener
  that reconnects empties its cache first (it may have missed messages);
- the worst case, a write that bypasses model signals (``QuerySet.update``,
  raw SQL) or a publish that failed, is ``AUTH_TOKEN_CACHE_SECONDS``."""

import functools
import hashlib
import logging
import os
import secrets
import threading
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse

import redis
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from gateway.api.logs import client_id_var

# The token model, the client model (partners.ApiClient) and its partner,
# reached through the toolkit's getters rather than imported: gateway sits
# below the domain apps.
from gateway.api.sql import TOKEN_LOOKUP, AccessToken, ApiClient, Partner

log = logging.getLogger(__name__)


CHANNEL_PREFIX = "gateway:auth:evict:"
_EVERYTHING = "*"
# An eviction's message is "<key>|<ack id>"; each listener that acted on it
# adds one to gateway:auth:ack:<ack id>.
_ACK_SEPARATOR = "|"
_ACK_PREFIX = "gateway:auth:ack:"
# Entries a process keeps at most (about 3 KB each): a full midnight rush is 3,000 shoppers.
_MAX_ENTRIES = 20_000
# The listener pings Redis this often and the cache counts as live this long
# after the last answer, so a dead connection stops the cache within 3 s.
_PING_EVERY_S = 1.0
_LIVENESS_S = 3.0

Row = tuple[Any, ...]


class TokenCache:
    """Per-process map: token checksum -> (monotonic time read, token row,
    client row, partner row or None). Thread-safe through the GIL (single
    dict operations only)."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Row, Row, Row | None]] = {}
        self._heard_at = float("-inf")
        self._pid = 0
        self._start_lock = threading.Lock()

    def get(self, checksum: str) -> tuple[Row, Row, Row | None] | None:
        ttl = settings.AUTH_TOKEN_CACHE_SECONDS
        if ttl <= 0 or not self._live():
            return None
        entry = self._entries.get(checksum)
        if entry is None or time.monotonic() - entry[0] >= ttl:
            return None
        return entry[1], entry[2], entry[3]

    def put(self, checksum: str, token: Row, client: Row, partner: Row | None) -> None:
        if settings.AUTH_TOKEN_CACHE_SECONDS <= 0 or not self._live():
            return
        if len(self._entries) >= _MAX_ENTRIES:
            self._entries.pop(next(iter(self._entries)), None)  # the oldest (dicts keep insertion order)
        self._entries[checksum] = (time.monotonic(), token, client, partner)

    def evict(self, checksum: str) -> None:
        self._entries.pop(checksum, None)

    def start(self) -> None:
        """Subscribe now rather than at the first request (gateway/wsgi.py calls
        it as a worker loads), so a fresh worker's first requests use the cache."""
        if settings.AUTH_TOKEN_CACHE_SECONDS > 0:
            self._live()

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _live(self) -> bool:
        if self._pid != os.getpid():
            self._start_listener()
        return time.monotonic() - self._heard_at < _LIVENESS_S

    def _start_listener(self) -> None:
        with self._start_lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._heard_at = float("-inf")
            self.clear()  # a forked child starts empty
            threading.Thread(target=self._listen, name="token-cache-evictions", daemon=True).start()

    def _listen(self) -> None:
        while True:
            pubsub = None
            try:
                client = redis.Redis.from_url(
                    settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=1, socket_keepalive=True
                )
                pubsub = client.pubsub()
                pubsub.subscribe(channel())
                next_ping = 0.0
                while True:
                    if time.monotonic() >= next_ping:
                        pubsub.ping()  # answered by a "pong" message
                        next_ping = time.monotonic() + _PING_EVERY_S
                    message = pubsub.get_message(timeout=_PING_EVERY_S)
                    if message is not None:
                        self._on_message(message)
            except Exception:  # any failure: stop serving from the cache, reconnect in a second
                self._heard_at = float("-inf")
                self.clear()
                log.warning("token cache listener lost Redis; tokens are read from the database", exc_info=True)
                time.sleep(1.0)
            finally:
                if pubsub is not None:
                    pubsub.close()

    def _on_message(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "subscribe":
            self.clear()  # (re)subscribed: whatever was published meanwhile is unknown
        elif kind == "message":
            data = message.get("data", b"")
            key, _sep, ack = (data.decode() if isinstance(data, bytes) else str(data)).partition(_ACK_SEPARATOR)
            if key == _EVERYTHING:
                self.clear()
            else:
                self.evict(key)
            if ack:
                _acknowledge(ack)
        self._heard_at = time.monotonic()


TOKEN_CACHE = TokenCache()


def channel() -> str:
    return CHANNEL_PREFIX + (urlparse(settings.REDIS_URL).path.strip("/") or "0")


def token_checksum(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _fields(model: type[models.Model]) -> Sequence[models.Field[Any, Any]]:
    return model._meta.concrete_fields


def _lookup(checksum: str) -> tuple[Row, Row, Row | None] | None:
    """The token's, its client's and its partner's rows (columns in model
    order, values converted as the ORM would), or None."""
    with connection.cursor() as cursor:
        cursor.execute(TOKEN_LOOKUP, [checksum])
        row = cursor.fetchone()
    if row is None:
        return None
    token_width, client_width = len(_fields(AccessToken)), len(_fields(ApiClient))
    token = _converted(AccessToken, row[:token_width])
    client = _converted(ApiClient, row[token_width : token_width + client_width])
    partner_values = row[token_width + client_width :]
    partner = _converted(Partner, partner_values) if partner_values[0] is not None else None
    return token, client, partner


def _converted(model: type[models.Model], values: Row) -> Row:
    """Apply the fields' own ``from_db_value`` (DOT's JSON ``resource``), as the ORM would."""
    out = list(values)
    for index, field in enumerate(_fields(model)):
        convert = getattr(field, "from_db_value", None)
        if convert is not None:
            out[index] = convert(out[index], field.get_col(model._meta.db_table), connection)
    return tuple(out)


@functools.cache
def _attnames(model: type[models.Model]) -> list[str]:
    return [field.attname for field in _fields(model)]


def _instances(token_row: Row, client_row: Row, partner_row: Row | None) -> Any:
    """Fresh model instances from rows: the token, with its client and the
    client's partner already attached (no query when read)."""
    partner = Partner.from_db("default", _attnames(Partner), partner_row) if partner_row is not None else None
    client = ApiClient.from_db("default", _attnames(ApiClient), client_row)
    client._state.fields_cache["partner"] = partner
    token = AccessToken.from_db("default", _attnames(AccessToken), token_row)
    token._state.fields_cache["application"] = client
    return token


class BearerTokenAuthentication(BaseAuthentication):
    www_authenticate_realm = "api"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _sep, token = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        token = token.strip()
        if not token or len(token) > 512:
            raise AuthenticationFailed(_("The access token is invalid or expired."))
        checksum = token_checksum(token)
        rows = TOKEN_CACHE.get(checksum)
        if rows is None:
            rows = _lookup(checksum)
            if rows is not None:
                TOKEN_CACHE.put(checksum, *rows)
        access_token = _instances(*rows) if rows is not None else None
        if access_token is None or access_token.expires <= timezone.now():
            request._request.oauth2_error = {"error": "invalid_token"}  # type: ignore[attr-defined]  # read by authenticate_header
            raise AuthenticationFailed(_("The access token is invalid or expired."))
        if not access_token.application.is_usable(request):
            raise AuthenticationFailed(_("The access token is invalid or expired."))
        client_id_var.set(access_token.application.client_id)
        user = SimpleLazyObject(lambda: access_token.user) if access_token.user_id is not None else None
        return user, access_token

    def authenticate_header(self, request: Request) -> str:
        error = getattr(request._request, "oauth2_error", None)
        suffix = f', error="{error["error"]}"' if error else ""
        return f'Bearer realm="{self.www_authenticate_realm}"{suffix}'


# ---------------------------------------------------------------- invalidation


def publish_eviction(key: str) -> None:
    """Tell every process to drop ``key`` (a checksum, or everything), and
    wait (``AUTH_EVICTION_WAIT_S`` at most) until every listener that received
    the message has acted on it: the change's own answer then leaves after
    every process forgot the token, so the very next request anywhere is
    refused. A listener that does not acknowledge in time (a stalled process)
    still stops serving from its cache within ``_LIVENESS_S`` if it lost
    Redis, or drops the token when it ages out."""
    from gateway.api.ratelimit import redis_client  # the shared client with short timeouts

    ack = secrets.token_hex(8)
    try:
        client = redis_client()
        receivers = int(client.publish(channel(), f"{key}{_ACK_SEPARATOR}{ack}"))
        deadline = time.monotonic() + settings.AUTH_EVICTION_WAIT_S
        while int(client.get(_ACK_PREFIX + ack) or 0) < receivers:
            if time.monotonic() >= deadline:
                log.warning("a token cache eviction was not acknowledged by every process in time")
                return
            time.sleep(0.001)
    except redis.RedisError:
        log.warning("could not publish a token cache eviction; other processes drop the entry when it ages out")


def _acknowledge(ack: str) -> None:
    """A listener says it has acted on an eviction (publish_eviction counts these)."""
    from gateway.api.ratelimit import redis_client

    try:
        client = redis_client()
        client.incr(_ACK_PREFIX + ack)
        client.expire(_ACK_PREFIX + ack, 60)
    except redis.RedisError:
        log.warning("could not acknowledge a token cache eviction")


def _evict_everywhere(key: str) -> None:
    if key == _EVERYTHING:
        TOKEN_CACHE.clear()
    else:
        TOKEN_CACHE.evict(key)
    transaction.on_commit(lambda: _after_commit(key), robust=True)


def _after_commit(key: str) -> None:
    # Again here: a request may have read the row back into the cache before the commit.
    if key == _EVERYTHING:
        TOKEN_CACHE.clear()
    else:
        TOKEN_CACHE.evict(key)
    publish_eviction(key)


def token_changed(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    """post_save and post_delete of access tokens. A new token is in no cache;
    a deleted one that had expired is refused by its expiry already."""
    if created or not instance.token_checksum:
        return
    if kwargs.get("signal") is models.signals.post_delete and instance.expires <= timezone.now():
        return
    _evict_everywhere(instance.token_checksum)


def client_or_partner_changed(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    """post_save and post_delete of API clients and partners (deactivation,
    tiers, scopes): rare, so every cached token is dropped."""
    if not created:
        _evict_everywhere(_EVERYTHING)


def connect_signals() -> None:
    """Called from the app's ready(), so every process that revokes (web,
    Celery, management commands) publishes its evictions."""
    for model, receiver in ((AccessToken, token_changed), (ApiClient, client_or_partner_changed)):
        models.signals.post_save.connect(receiver, sender=model, dispatch_uid=f"token-cache-{model.__name__}-save")
        models.signals.post_delete.connect(receiver, sender=model, dispatch_uid=f"token-cache-{model.__name__}-del")
    models.signals.post_save.connect(client_or_partner_changed, sender=Partner, dispatch_uid="token-cache-partner-save")
    models.signals.post_delete.connect(
        client_or_partner_changed, sender=Partner, dispatch_uid="token-cache-partner-delete"
    )
