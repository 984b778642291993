"""The hot reads' cache: ETags answered before the heavy query, and a short
per-process cache of answers, both keyed by version counters in Redis that
every change which can alter an answer bumps after its commit.

Writers name what they changed with **version keys** (``sku_key``,
``sku_level_key``, ``sku_supply_key``, ``product_key``, ``slot_day_key``,
``LOCATIONS``, ``CATALOGUE``). ``bump_on_commit`` adds
one to each counter once the transaction commits (one Redis script call per
transaction, however many times it is called). Outbox events bump
themselves: ``partners.services.events_record`` passes every event it writes
to ``bump_events_on_commit``, which asks the functions apps registered with
``on_event`` which keys the event touches (inventory: ``stock.changed``
touches its SKU and, at a store, the SKU at that store, elsewhere the SKU's
supply; ``product.changed`` its SKU, its supply, the product
and the catalogue; commerce: an order's events the days of its slot), and
the outbox fan-out bumps the same keys again when it dispatches the events:
the backstop when a process died between its commit and its bump.

A read (``cached_read``) fetches the counters it depends on with one
``MGET``, beside the **epoch**: a random value set once (``SET NX``), so a
Redis that restarted empty, whose counters started again from nothing,
never matches an answer keyed by the old ones. The ETag is a keyed hash of
the request (path, query, format, language), the caller's visibility class,
the counters and, for answers that depend on the clock, the minute; an
``If-None-Match`` naming it is answered 304 with no SQL at all. Otherwise
the process's LRU, keyed the same way, answers without SQL when it can, and
a miss computes the answer and keeps it for READ_CACHE_SECONDS at most.

Failing open, never stale: when Redis cannot be reached a read computes its
answer (no ETag of this kind, nothing cached); when a bump fails the process
remembers it, reads around the cache, and once Redis answers again replaces
the epoch before anything else, which retires every cached answer and ETag
on every process."""

import hashlib
import json
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.http import quote_etag
from rest_framework.request import Request
from rest_framework.response import Response

from gateway.api import metrics
from gateway.api.encoding import answer_json
from gateway.api.etag import not_modified
from gateway.api.ratelimit import redis_client

log = logging.getLogger(__name__)

EPOCH = "gateway:readcache:epoch"
_PREFIX = "gateway:readcache:v:"
# Every location's own fields (opening hours, zone, click-and-collect, active,
# coordinates, lead times) and which store a store client acts for: rare
# changes that every availability and slot answer depends on.
LOCATIONS = "locations"
# Every product's own fields: the catalogue lists depend on all of them.
CATALOGUE = "catalogue"

# What an app or a CDN may do with an answer (docs/api-guide.md, Caching).
REVALIDATE = "private, no-cache"


def sku_key(sku: str) -> str:
    """A SKU's products (their names, whether active): a product's change
    bumps it, with its supply key; every answer near a point depends on it."""
    return f"sku:{sku}"


def sku_stores_key(sku: str) -> str:
    """A SKU's stock at any store: what an answer near a point depends on
    until it names its reach (``Learned``), or when its reach is too wide."""
    return f"sku-stores:{sku}"


def sku_level_key(sku: str, store_code: str) -> str:
    """A SKU's stock at one store: with ``sku_supply_key``, what an answer
    at a store depends on, so that a sale at one store does not retire the
    answers of every other store."""
    return f"sku-at:{store_code}:{sku}"


def sku_supply_key(sku: str) -> str:
    """A SKU's products and their stock at the locations that are not stores
    (warehouses, partner stores: the supply every store's answer lists)."""
    return f"sku-supply:{sku}"


def product_key(product_id: int) -> str:
    return f"product:{product_id}"


def slot_day_key(store_id: int, local_date: Any) -> str:
    """A store's pickup slots of one store-local day (``local_date``: a date or its ISO text)."""
    day = local_date if isinstance(local_date, str) else local_date.isoformat()
    return f"slots:{store_id}:{day}"


def enabled() -> bool:
    return settings.READ_CACHE_SECONDS > 0


# ---------------------------------------------------------------- versions


class _Versions:
    """The counters in Redis, and the memory of a bump that did not reach it."""

    def __init__(self) -> None:
        self._lost = False
        self._lock = threading.Lock()

    def read(self, keys: Sequence[str]) -> tuple[str, ...] | None:
        """The epoch and the counters of ``keys`` (``"0"`` for one never
        bumped), or None when the cache must be left aside: Redis
        unreachable, or a bump of this process not delivered yet."""
        try:
            client = self._client()
            values = client.mget([EPOCH, *(_PREFIX + key for key in keys)])
            if values[0] is None:
                client.set(EPOCH, secrets.token_hex(8), nx=True)
                values[0] = client.get(EPOCH)
                if values[0] is None:
                    return None
        except redis.RedisError:
            _bypass()
            return None
        return tuple(_text(value) for value in values)

    def read_learnt(
        self, name: str, fixed: Sequence[str], coarse: Sequence[str]
    ) -> tuple[tuple[str, ...] | None, tuple[str, ...]] | None:
        """In one call: the keys another process learnt for a question, kept
        under ``name`` (``Learned``; None: none), and the epoch and the
        counters of ``fixed``, of those keys (else of ``coarse``) and of
        ``coarse``. None as ``read`` gives None."""
        try:
            learnt, values = self._client().eval(
                _READ_LEARNT, 0, name, _PREFIX, EPOCH, "\n".join(fixed), "\n".join(coarse)
            )
        except redis.RedisError:
            _bypass()
            return None
        keys = None if learnt is None or learnt is False else tuple(key for key in _text(learnt).split("\n") if key)
        if values[0] is None or values[0] is False:  # no epoch yet: the plain read sets one
            versions = self.read((*fixed, *(coarse if keys is None else keys), *coarse))
            return None if versions is None else (keys, versions)
        return keys, tuple(_text(value) for value in values)

    def read_teaching(self, keys: Sequence[str], name: str, learnt: Sequence[str]) -> tuple[str, ...] | None:
        """``read(keys)``, and in the same round trip the keys a question's
        answer named stored under ``name`` for the other processes."""
        try:
            pipe = self._client().pipeline(transaction=False)
            pipe.mget([EPOCH, *(_PREFIX + key for key in keys)])
            pipe.set(name, "\n".join(learnt), px=max(1, int(settings.READ_CACHE_SECONDS * 1000)))
            values, _stored = pipe.execute()
        except redis.RedisError:
            _bypass()
            return None
        if values[0] is None:
            return self.read(keys)
        return tuple(_text(value) for value in values)

    def bump(self, keys: Iterable[str]) -> None:
        """Add one to each counter; never raises (the write is committed)."""
        names = {_PREFIX + key for key in keys}
        if not names:
            return
        try:
            self._client().eval(_BUMP, 0, "\n".join(names))
        except redis.RedisError:
            self._lost = True
            metrics.READ_CACHE_BUMP_FAILED.inc()
            log.warning("read cache: a version bump did not reach Redis; the epoch is replaced once it answers")

    def _client(self) -> redis.Redis:
        """The shared client, once a bump of this process that was lost is
        made good (raises redis.RedisError like any command)."""
        client = redis_client()
        if self._lost:
            self._recover(client)
        return client

    def _recover(self, client: redis.Redis) -> None:
        """A bump of ours was lost: replace the epoch (every process's cached
        answers and ETags then miss) before this process trusts the cache again."""
        with self._lock:
            if self._lost:
                client.set(EPOCH, secrets.token_hex(8))
                self._lost = False
                log.warning("read cache: epoch replaced after a lost version bump")

    def new_epoch(self) -> None:
        """Retire every cached answer and ETag (operations; the recovery above)."""
        redis_client().set(EPOCH, secrets.token_hex(8))


# Adds one to every key named in its one argument (the names joined by line
# breaks; a key never holds one), in one command: a bulk stock sync bumps
# thousands of keys. A pipeline of one INCR each cost the serving thread about
# 6 us a key (14.7 ms for 2,500), the same script given each name as a key
# 0.8 us (redis-py encodes every argument on its own: 4.1 ms for 5,000), one
# argument 0.06 us (0.3 ms). The names are not declared as KEYS, which only a
# Redis Cluster would need, and thousands of keys in one call would not suit
# a cluster either (one Redis serves the gateway: docs/capacity.md).
_BUMP = "local n = 0 for key in string.gmatch(ARGV[1], '[^\\n]+') do redis.call('INCR', key) n = n + 1 end return n"


# Reads the keys learnt for a question (ARGV[1]; Learned) and, in the same
# call, the epoch (ARGV[3]) and the counters (prefix ARGV[2]) of the fixed
# keys (ARGV[4]), of those learnt or else of the coarse ones (ARGV[5]), and
# of the coarse ones: a process that has not seen a question reads its
# versions in one round trip. Names joined by line breaks, as for _BUMP.
_READ_LEARNT = """
local learnt = redis.call('GET', ARGV[1])
local names = {ARGV[3]}
local function add(list)
  for key in string.gmatch(list, '[^\\n]+') do names[#names + 1] = ARGV[2] .. key end
end
add(ARGV[4])
if learnt then add(learnt) else add(ARGV[5]) end
add(ARGV[5])
return {learnt, redis.call('MGET', unpack(names))}
"""


def _bypass() -> None:
    """Redis is out of reach: the read leaves the cache aside (counted)."""
    metrics.READ_CACHE.labels("-", "bypass").inc()


def _text(value: bytes | str | bool | None) -> str:
    if value is None or value is False:  # a missing counter (False: through a script's reply)
        return "0"
    return value.decode() if isinstance(value, bytes) else str(value)


VERSIONS = _Versions()


_PENDING = "_readcache_pending"


def bump_on_commit(keys: Iterable[str]) -> None:
    """Bump ``keys`` once the current transaction commits (at once outside
    one). One Redis call per transaction: the keys of every call are gathered.
    Keys of a savepoint rolled back are bumped all the same: one miss more."""
    keys = set(keys)
    if not keys:
        return
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        VERSIONS.bump(keys)
        return
    pending: set[str] | None = getattr(connection, _PENDING, None)
    if pending is None or not any(entry[1] is _flush for entry in connection.run_on_commit):
        pending = set()
        setattr(connection, _PENDING, pending)
        transaction.on_commit(_flush, robust=True)
    pending.update(keys)


def _flush() -> None:
    connection = transaction.get_connection()
    keys: set[str] = getattr(connection, _PENDING, None) or set()
    setattr(connection, _PENDING, None)
    VERSIONS.bump(keys)


# Event type -> the version keys an event of that type touches (apps register),
# and the payload fields that says them (all the outbox fan-out reads back).
_EVENT_KEYS: dict[str, Callable[[dict[str, Any]], Iterable[str]]] = {}
_EVENT_FIELDS: set[str] = set()


def on_event(event_type: str, keys_of: Callable[[dict[str, Any]], Iterable[str]], *, fields: Sequence[str]) -> None:
    """Declare which version keys an outbox event of ``event_type`` touches,
    from the payload's ``fields`` (called by apps when they are ready)."""
    _EVENT_KEYS[event_type] = keys_of
    _EVENT_FIELDS.update(fields)


def event_keys(events: Iterable[tuple[str, Any]]) -> set[str]:
    """The version keys of (type, payload) pairs; a payload may be JSON text."""
    keys: set[str] = set()
    for event_type, payload in events:
        keys_of = _EVENT_KEYS.get(event_type)
        if keys_of is None:
            continue
        try:
            keys.update(keys_of(json.loads(payload) if isinstance(payload, str) else payload))
        except (KeyError, TypeError, ValueError):  # a payload without what the rule reads: widen
            keys.add(LOCATIONS)
            log.warning("read cache: cannot read the keys of a %s event", event_type)
    return keys


def event_types() -> list[str]:
    """The event types that touch cached answers."""
    return sorted(_EVENT_KEYS)


def event_fields() -> list[str]:
    """The payload fields ``event_keys`` reads, for a reader that fetches only those."""
    return sorted(_EVENT_FIELDS)


def bump_events_on_commit(events: Iterable[tuple[str, Any]]) -> None:
    bump_on_commit(event_keys(events))


# ---------------------------------------------------------------- answers


@dataclass(frozen=True, slots=True)
class _Entry:
    stored_at: float
    etag: str
    data: Any
    status: int
    headers: tuple[tuple[str, str], ...]


class _Answers:
    """A bounded LRU of answers with a time to live, shared by the threads of a process."""

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if time.monotonic() - entry.stored_at > settings.READ_CACHE_SECONDS:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple[Any, ...], entry: _Entry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > settings.READ_CACHE_ENTRIES:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


ANSWERS = _Answers()
_SECRET = hashlib.blake2b(settings.SECRET_KEY.encode(), digest_size=32, person=b"readcache").digest()


class _Shared:
    """The answers every process of every instance shares through Redis,
    under the same key as the process's LRU (versions and epoch included, so
    an answer is only ever read under the versions it was computed under), for
    what is left of READ_CACHE_SECONDS: after a bump the first process to
    compute a key serves the others, instead of each computing it once. The
    answer's data is written with the values DRF's encoder gives
    (``gateway.api.encoding``), so a shared answer renders byte for byte as
    the computed one.
    Fails open: Redis out of reach, or a value it cannot read, is a miss."""

    _PREFIX = "gateway:readcache:a:"

    def _name(self, key: tuple[Any, ...]) -> str:
        return self._PREFIX + _digest(key, 16)

    def get(self, key: tuple[Any, ...]) -> _Entry | None:
        if not settings.READ_CACHE_SHARED:
            return None
        try:
            raw = redis_client().get(self._name(key))
            if raw is None:
                return None
            computed_at, etag, status, headers, data = json.loads(raw)
        except (redis.RedisError, ValueError, TypeError):
            return None
        age = max(0.0, time.time() - float(computed_at))
        return _Entry(time.monotonic() - age, str(etag), data, int(status), tuple((str(n), str(v)) for n, v in headers))

    def put(self, key: tuple[Any, ...], entry: _Entry) -> None:
        if not settings.READ_CACHE_SHARED:
            return
        try:
            value = answer_json([time.time(), entry.etag, entry.status, entry.headers, entry.data])
            redis_client().set(self._name(key), value, px=max(1, int(settings.READ_CACHE_SECONDS * 1000)))
        except (redis.RedisError, ValueError, TypeError):
            return


SHARED = _Shared()


def _digest(key: tuple[Any, ...], size: int) -> str:
    """A keyed hash of a cache key: nobody without SECRET_KEY can forge or guess one."""
    return hashlib.blake2b(repr(key).encode(), digest_size=size, key=_SECRET).hexdigest()


def _tag(kind: str, key: tuple[Any, ...]) -> str:
    return quote_etag(f"{kind}-{_digest(key, 12)}")


def conditional(cache_control: str) -> Callable[[Any], Any]:
    """Mark a view method as a cached read answering with ``cache_control``:
    the OpenAPI contract then documents its ETag and Cache-Control headers."""

    def mark(handler: Any) -> Any:
        handler.read_cache_control = cache_control
        return handler

    return mark


def request_key(request: Request, *, drop: Sequence[str] = ()) -> tuple[Any, ...]:
    """What identifies a request's answer besides its caller: path, query
    (sorted, ``drop`` left out), format and language."""
    query = tuple((name, tuple(values)) for name, values in sorted(request.query_params.lists()) if name not in drop)
    renderer = getattr(request, "accepted_renderer", None)
    return (request.path, query, getattr(renderer, "format", ""), translation.get_language())


def minute() -> int:
    """The UTC minute, for answers that depend on the clock (hold expiry,
    slot starts, today's date): every boundary they move on is a whole minute."""
    return int(time.time() // 60)


def quarter_hour() -> int:
    """The UTC quarter hour, for answers that depend on the clock only
    through a date somewhere (a store's today): every time zone's offset is
    a whole number of quarter hours, so every local date changes on one
    (tests/gateway/test_read_cache_keys.py holds it for every zone)."""
    return int(time.time() // 900)


@dataclass(frozen=True)
class Read:
    """What a cached read is: ``kind`` (the ETag's prefix), ``parts`` (the
    normalized request, the visibility class, the minute if the answer depends
    on the clock) and the version keys it depends on."""

    kind: str
    parts: tuple[Any, ...]
    keys: tuple[str, ...]
    cache_control: str = REVALIDATE
    # The versions (epoch first) of the first keys that facts in ``parts``
    # were read under (a store's id and zone, from a ``Memo``), and what to do
    # when they no longer hold or cannot be checked (Redis out of reach):
    # then the answer is computed afresh, from facts read again.
    guard: tuple[str, ...] | None = None
    stale: Callable[[], None] | None = None
    # Keys the answer itself names once computed (``Learned``), after ``keys``.
    learn: "Learned | None" = None


@dataclass(frozen=True)
class Learned:
    """Version keys an answer names once computed, finer than any known
    before: an answer near a point depends only on the stores no farther
    than the last one it lists, which the query finds.

    ``coarse``: keys that every change any answer of the read could depend
    on bumps (a SKU's stock at any store). ``keys``, called after the
    computation: the finer keys that answer depends on (None: the coarse
    ones). A question nobody answered yet is read under the coarse keys,
    and its first answer kept under them; the keys it named are remembered
    by the process (``LEARNED_KEYS``), and the next reads of the question
    depend on those. From the second answer a process computes to a
    question, the keys are taught to the other processes through Redis
    (read in the same call as the versions): a question asked once, as most
    near a shopper's own position are, costs no round trip more. The keys
    remembered are a hint: an answer is always kept and found under the
    exact keys it was computed with, with versions read before its query.
    When they differ from the keys it was read under, the versions of its
    keys are read after the query with the coarse keys, read before it too:
    if one moved meanwhile (a sale committed during the query), the answer
    is given but not kept."""

    coarse: tuple[str, ...]
    keys: Callable[[], tuple[str, ...] | None]


def cached_read(
    request: Request,
    read: Read,
    compute: Callable[[], Response],
    *,
    etag_of: Callable[[Response], str] | None = None,
) -> Response:
    """Answer ``read``: 304 when If-None-Match names the current ETag, the
    process's cached answer when it has one, else ``compute()``'s, kept.

    Without ``etag_of`` the ETag is derived from the versions (so a 304 never
    needs SQL, on any process); with it, the answer keeps the ETag the
    resource already had (a product's, which PATCH's If-Match checks) and a
    304 without SQL needs this process to have computed the answer under the
    same versions (``RESOURCE_ETAGS``), however long ago."""
    keys: tuple[str, ...] = read.keys
    if read.learn is not None:
        assert etag_of is None, "an answer with keys of its own has no resource ETag"
        keys, versions = _learnt_versions(read)
    else:
        versions = VERSIONS.read(keys) if enabled() else None
    if versions is None:
        if read.stale is not None:
            read.stale()
        return _plain(request, compute(), read, etag_of)
    versions, watched = versions[: 1 + len(keys)], versions[1 + len(keys) :]
    if read.guard is not None and versions[: len(read.guard)] != read.guard:
        if read.stale is not None:
            read.stale()
        return _plain(request, compute(), read, etag_of)
    key = (read.kind, read.parts, keys, versions)
    if etag_of is None:
        etag = _tag(read.kind, key)
        if not_modified(request, etag):
            metrics.READ_CACHE.labels(read.kind, "not_modified").inc()
            return _not_modified(etag, read)
    # The answers kept are per host too (a page's ``next`` is an absolute
    # URL); their ETag is not (the links of either copy are valid).
    kept = (*key, request.scheme, request.get_host())
    entry = ANSWERS.get(kept)
    outcome = "hit"
    if entry is None and (entry := SHARED.get(kept)) is not None:
        ANSWERS.put(kept, entry)
        if etag_of is not None:
            RESOURCE_ETAGS.put(key[:3], versions, entry.etag)
        outcome = "shared"
    if entry is not None:
        if not_modified(request, entry.etag):
            metrics.READ_CACHE.labels(read.kind, "not_modified").inc()
            return _not_modified(entry.etag, read)
        metrics.READ_CACHE.labels(read.kind, outcome).inc()
        return _answer(entry.data, entry.status, entry.headers, entry.etag, read)
    if etag_of is not None:
        # The answer may have left the LRU (READ_CACHE_SECONDS is shorter than
        # a product's max-age, so a revalidation usually finds it gone) while
        # its ETag holds: it cannot change before the versions do.
        known = RESOURCE_ETAGS.get(key[:3])
        if known is not None and known[0] == versions and not_modified(request, known[1]):
            metrics.READ_CACHE.labels(read.kind, "not_modified").inc()
            return _not_modified(known[1], read)
    metrics.READ_CACHE.labels(read.kind, "miss").inc()
    response = compute()
    if response.status_code != 200:
        return response
    if read.learn is not None:
        relearned = _relearn(read, keys, versions, watched)
        if relearned is None:  # a change raced the computation: given, not kept
            return _plain(request, response, read, None)
        key = (read.kind, read.parts, *relearned)
        kept = (*key, request.scheme, request.get_host())
    etag = etag_of(response) if etag_of is not None else _tag(read.kind, key)
    if etag_of is not None:
        RESOURCE_ETAGS.put(key[:3], versions, etag)
    headers = tuple((name, value) for name, value in response.headers.items() if name.lower() not in _OWN)
    entry = _Entry(time.monotonic(), etag, response.data, response.status_code, headers)
    ANSWERS.put(kept, entry)
    SHARED.put(kept, entry)
    if not_modified(request, etag):
        return _not_modified(etag, read)
    response["ETag"] = etag
    response["Cache-Control"] = read.cache_control
    return response


def _learnt_versions(read: Read) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    """The keys of a read with ``learn`` (its own, then those the last
    answer to its question named, known to this process or taught by
    another, else the coarse ones), and the versions (epoch first) of those
    keys and then of the coarse keys, watched (None: the cache is left aside)."""
    assert read.learn is not None
    coarse = read.learn.coarse
    if not enabled():
        return read.keys, None
    name = (read.kind, read.parts)
    memo = LEARNED_KEYS.get(name)
    if memo is not None or not settings.READ_CACHE_SHARED:
        keys = (*read.keys, *(coarse if memo is None else memo[1]))
        return keys, VERSIONS.read((*keys, *coarse))
    got = VERSIONS.read_learnt(_learnt_name(name), read.keys, coarse)
    if got is None:
        return read.keys, None
    learnt, versions = got
    if learnt is not None:
        LEARNED_KEYS.put(name, _TAUGHT, learnt)
    return (*read.keys, *(coarse if learnt is None else learnt)), versions


def _learnt_name(name: tuple[Any, ...]) -> str:
    return "gateway:readcache:k:" + _digest(name, 16)


def _relearn(
    read: Read, keys: tuple[str, ...], versions: tuple[str, ...], watched: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The keys and versions to keep a computed answer under, and the keys
    it names remembered for the next read of its question.

    The first answer this process computes to a question nobody taught it
    is kept under the keys it was read under (the coarse ones, with the
    versions read before it) and its keys are only remembered: most such
    questions are never asked again (a shopper's own position), and
    teaching them would cost each a round trip. From the second on, an
    answer is kept under the keys it names, with versions that predate it
    (those read before it when they are the same keys, else read again now,
    when no coarse key moved meanwhile; None when one did), and its keys are
    taught to the other processes."""
    assert read.learn is not None
    named = read.learn.keys()
    learned = read.learn.coarse if named is None else named
    name = (read.kind, read.parts)
    known = LEARNED_KEYS.get(name)
    if known is None and keys == (*read.keys, *read.learn.coarse):  # read under the coarse keys
        LEARNED_KEYS.put(name, _HERE, learned)
        return keys, versions
    teach = settings.READ_CACHE_SHARED and known != (_TAUGHT, learned)
    LEARNED_KEYS.put(name, _TAUGHT if settings.READ_CACHE_SHARED else _HERE, learned)
    fresh = (*read.keys, *learned)
    if fresh == keys:
        if teach:
            VERSIONS.read_teaching((), _learnt_name(name), learned)
        return keys, versions
    if teach:
        again = VERSIONS.read_teaching((*fresh, *read.learn.coarse), _learnt_name(name), learned)
    else:
        again = VERSIONS.read((*fresh, *read.learn.coarse))
    fixed = 1 + len(read.keys)
    if again is None or again[:fixed] != versions[:fixed] or again[1 + len(fresh) :] != watched:
        return None
    return fresh, again[: 1 + len(fresh)]


# What LEARNED_KEYS says of the keys it holds: learnt by this process and not
# taught yet, or known to the other processes through Redis.
_HERE, _TAUGHT = ("here",), ("taught",)


# Headers the cache writes itself or the response machinery adds per request.
_OWN = {"etag", "cache-control", "content-type", "content-length", "vary", "allow"}


def _plain(request: Request, response: Response, read: Read, etag_of: Callable[[Response], str] | None) -> Response:
    """The cache is off or out of reach: the answer as computed (a resource's
    own ETag still answers If-None-Match)."""
    if response.status_code == 200:
        response["Cache-Control"] = read.cache_control
        if etag_of is not None:
            etag = etag_of(response)
            if not_modified(request, etag):
                return _not_modified(etag, read)
            response["ETag"] = etag
    return response


def _answer(data: Any, status: int, headers: tuple[tuple[str, str], ...], etag: str, read: Read) -> Response:
    response = Response(data, status=status, headers=dict(headers))
    response["ETag"] = etag
    response["Cache-Control"] = read.cache_control
    return response


def _not_modified(etag: str, read: Read) -> Response:
    return Response(status=304, headers={"ETag": etag, "Cache-Control": read.cache_control})


# ---------------------------------------------------------------- small memos


class Memo:
    """A tiny per-process memo of facts a cached read needs before it can
    name its version keys (a store code's id and zone), valid while the
    versions it was taken under hold. Least recently used first out: the
    facts of questions asked once (near a shopper's own position) do not
    push out those asked all the time."""

    def __init__(self, size: int = 4096) -> None:
        self._facts: OrderedDict[Any, tuple[tuple[str, ...], Any]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, name: Any) -> tuple[tuple[str, ...], Any] | None:
        with self._lock:
            entry = self._facts.get(name)
            if entry is not None:
                self._facts.move_to_end(name)
            return entry

    def put(self, name: Any, versions: tuple[str, ...], facts: Any) -> None:
        with self._lock:
            self._facts[name] = (versions, facts)
            self._facts.move_to_end(name)
            while len(self._facts) > self._size:
                self._facts.popitem(last=False)

    def drop(self, name: Any) -> None:
        with self._lock:
            self._facts.pop(name, None)

    def clear(self) -> None:
        with self._lock:
            self._facts.clear()


# The resource ETags (``etag_of``) this process answered, per read, with the
# versions they were computed under: valid while those versions hold, which
# outlives the answers' LRU (the ETag alone is small; a change of the
# resource bumps its version key).
RESOURCE_ETAGS = Memo()
# Per question of a read with ``learn``, the keys its last answer named (``Learned``).
LEARNED_KEYS = Memo()
