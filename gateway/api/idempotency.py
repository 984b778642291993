"""``Idempotency-Key`` for writes that clients retry (docs/api-guide.md, Idempotency).

How it holds under concurrency: the wrapped handler runs inside one
transaction that first takes a transaction-scoped advisory lock on
(client, key). A concurrent duplicate cannot take it and answers 409
``idempotency_in_progress``; once the first commits, its stored record is
replayed. The record is inserted in the same transaction as the effect, so
a crash leaves either both or neither. 5xx outcomes are never stored.

A 4xx outcome is stored without what the handler wrote before failing: a
refusal that wrote nothing (``gateway.transactions``: a ``Refusal``, or a
transaction PostgreSQL says has written nothing) keeps the transaction and
stores the answer in it, sparing the connection's prepared statements;
any other 4xx rolls the handler's writes back and stores the answer in a
transaction of its own, under the same lock.

A secret shown once (a new client or signing secret) is stored sealed
(``gateway.sealing``) and replayed in clear: a client whose answer was lost
gets the secret that is now in force, instead of being locked out."""

import contextlib
import functools
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext as _
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gateway.api.encoding import answer_json
from gateway.api.problems import ProblemError
from gateway.api.sql import IDEMPOTENCY_FIND, IDEMPOTENCY_LOCK, IDEMPOTENCY_STORE, IDEMPOTENCY_TRY_LOCK
from gateway.sealing import SealBroken, seal, unseal
from gateway.transactions import refused_without_rollback, wrote_nothing

HEADER = "Idempotency-Key"
KEY_MAX_LENGTH = 255
# Printable ASCII, spaces included: what an HTTP header carries unchanged
# through every proxy (other bytes arrive as latin-1 or not at all).
KEY_PATTERN = re.compile(r"^[\x20-\x7e]+$")
REPLAYED_HEADER = "Idempotent-Replayed"
_REPLAYED_HEADERS = ("Location", "ETag", "Retry-After")
SEAL_PURPOSE = "gateway.idempotency-replay"
SEALED = "sealed"  # a sealed field is stored as {"sealed": token}


class IdempotencyKeyInvalid(ProblemError):
    status_code = 400
    code = "idempotency_key_invalid"


class IdempotencyKeyRequired(ProblemError):
    status_code = 428
    code = "idempotency_key_required"


class IdempotencyKeyReused(ProblemError):
    status_code = 422
    code = "idempotency_key_reused"


class IdempotencyInProgress(ProblemError):
    status_code = 409
    code = "idempotency_in_progress"


def key_scope(request: Request) -> str:
    token = request.auth
    user_id = getattr(token, "user_id", None) or ""
    return f"{getattr(token, 'application_id', '')}:{user_id}"


def request_fingerprint(request: Request) -> str:
    """Method, path and body; a JSON body is canonicalised first, so a client
    that re-serialises it on retry (other key order, other spacing) still matches."""
    digest = hashlib.sha256()
    digest.update((request.method or "").encode())
    digest.update(b"\n" + request.get_full_path().encode() + b"\n")
    body = request.body
    with contextlib.suppress(ValueError, RecursionError):  # not JSON (or absurdly deep): hash the raw bytes
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    digest.update(body)
    return digest.hexdigest()


def _lock_id(scope: str, key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{scope}\x00{key}".encode()).digest()[:8], "big", signed=True)


@dataclass(frozen=True)
class StoredOutcome:
    fingerprint: str
    status_code: int
    body: Any
    headers: dict[str, str]


def _find(scope: str, key: str) -> StoredOutcome | None:
    with connection.cursor() as cursor:
        cursor.execute(IDEMPOTENCY_FIND, [scope, key])
        row = cursor.fetchone()
    if row is None:
        return None
    fingerprint, status_code, body, headers = row
    return StoredOutcome(fingerprint, status_code, json.loads(body) if body is not None else None, json.loads(headers))


def _opened(value: Any) -> Any:
    """A field stored sealed, in clear; None if SECRET_KEY changed without a fallback."""
    if not isinstance(value, dict) or not isinstance(value.get(SEALED), str):
        return value
    try:
        return unseal(value[SEALED], purpose=SEAL_PURPOSE)
    except SealBroken:
        return None


def _replay(record: StoredOutcome, sealed: tuple[str, ...]) -> Response:
    headers = dict(record.headers)
    headers[REPLAYED_HEADER] = "true"
    content_type = headers.pop("Content-Type", None)
    body = record.body
    if sealed and isinstance(body, dict):
        body = {name: _opened(value) if name in sealed else value for name, value in body.items()}
    return Response(body, status=record.status_code, headers=headers, content_type=content_type)


def _store(scope: str, key: str, fingerprint: str, response: Response, sealed: tuple[str, ...]) -> None:
    body: Any = None
    if response.data is not None:
        body = answer_json(response.data)
        if sealed:
            data = json.loads(body)
            if isinstance(data, dict):
                for field in sealed:
                    if isinstance(data.get(field), str):
                        data[field] = {SEALED: seal(data[field], purpose=SEAL_PURPOSE)}
            body = answer_json(data)
    headers = {name: response[name] for name in _REPLAYED_HEADERS if name in response}
    if response.content_type:
        headers["Content-Type"] = response.content_type
    with connection.cursor() as cursor:
        cursor.execute(IDEMPOTENCY_STORE, [scope, key, fingerprint, response.status_code, body, json.dumps(headers)])


def _store_after_rollback(
    scope: str, key: str, fingerprint: str, response: Response, sealed: tuple[str, ...], lock_id: int
) -> Response:
    """Store a 4xx whose handler had written something before failing: that
    transaction rolled back (taking the lock with it), so the answer is kept
    in one of its own, under the lock again. A duplicate that ran in between
    stored its own outcome, which is then the key's answer."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(IDEMPOTENCY_LOCK, [lock_id])
        record = _find(scope, key)
        if record is None:
            _store(scope, key, fingerprint, response, sealed)
            return response
    return _replay(record, sealed) if record.fingerprint == fingerprint else response


Handler = Callable[..., Response]


def idempotent(*, required: bool, sealed: tuple[str, ...] = ()) -> Callable[[Handler], Handler]:
    """Wrap an APIView method. ``required`` makes the header mandatory (428
    without it); ``sealed`` lists body fields stored only sealed (a secret
    shown once), replayed in clear."""

    def decorator(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def wrapper(view: APIView, request: Request, *args: Any, **kwargs: Any) -> Response:
            key = request.headers.get(HEADER)
            if key is None:
                if required:
                    raise IdempotencyKeyRequired(
                        _("Send an Idempotency-Key header (1 to 255 characters) with this request.")
                    )
                return handler(view, request, *args, **kwargs)
            if len(key) > KEY_MAX_LENGTH or not KEY_PATTERN.match(key):
                raise IdempotencyKeyInvalid(_("Idempotency-Key must be 1 to 255 printable ASCII characters."))
            scope, fingerprint = key_scope(request), request_fingerprint(request)
            lock_id = _lock_id(scope, key)
            keep = True  # False: the handler wrote, then failed with a 4xx; its writes must not stand
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(IDEMPOTENCY_TRY_LOCK, [lock_id])
                    locked = cursor.fetchone()[0]
                record = _find(scope, key) if locked else None
                if locked and record is None:
                    try:
                        response = handler(view, request, *args, **kwargs)
                    except Exception as exc:  # a domain 4xx is an outcome to store; anything else propagates
                        response = view.handle_exception(exc)
                        keep = refused_without_rollback(exc) or wrote_nothing()
                    else:
                        keep = response.status_code < 400 or wrote_nothing()
                    if response.status_code >= 500 or not keep:
                        transaction.set_rollback(True)
                    if response.status_code >= 500:
                        return response
                    if keep:
                        _store(scope, key, fingerprint, response, sealed)
                        return response
            if not keep:
                return _store_after_rollback(scope, key, fingerprint, response, sealed, lock_id)
            # Answered without running the handler: the transaction wrote
            # nothing and has committed, since a rollback would cost the
            # connection its prepared statements (gateway/settings/base.py).
            if record is None:
                raise IdempotencyInProgress(
                    _("The first request with this key is still running; retry shortly."),
                    headers={"Retry-After": "1"},
                )
            if record.fingerprint != fingerprint:
                raise IdempotencyKeyReused(_("This Idempotency-Key was used with a different request."))
            return _replay(record, sealed)

        wrapper.idempotency = "required" if required else "accepted"  # type: ignore[attr-defined]  # read by the schema
        return wrapper

    return decorator
