"""The outbox: events written in the caller's transaction, then fanned out to
webhook deliveries once committed (docs/api-guide.md, Events feed and webhooks).

Recording is one ``INSERT ... SELECT`` for the whole batch, with every
column sent as one JSON array (orjson: 5,000 stock payloads in about 1 ms
against 18 ms with the json module), answered by one row (the ids as text,
the transaction id, the time), and no model instance per event unless the
caller looks at the result: a bulk stock sync records 5,000 events a request.

Waking the fan-out costs the request one Redis round trip, whatever the
traffic: after the commit, ``SET <doorbell> NX``; only the commit that finds
the doorbell silent publishes a fan-out task. That task takes the doorbell
off *before* it looks for undispatched events, so an event committed while
it runs either is seen by it or rings again and wakes another task: none
waits for the sweep. If Redis or the broker is down the business write goes
on (fail open) and the sweep (beat, every 15 s) fans the events out."""

import contextlib
import datetime as dt
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

import orjson
import redis
from django.db import connection, transaction
from django.utils import timezone

from gateway.api import metrics, readcache
from gateway.api.ratelimit import redis_client
from partners import sql
from partners.locks import lock_subscriptions_for_fan_out, lock_undispatched_events
from partners.models import Event, WebhookDelivery

log = logging.getLogger(__name__)

# Publishing to the broker happens after the commit of a business write; when
# the broker is unreachable we give up fast and leave the events to the sweep
# rather than hold the request (the sweep runs every 15 s).
_PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0.05, "interval_step": 0.1, "interval_max": 0.2}
FAN_OUT_BATCH = 500
# A fan-out's deliveries to one subscription go in tasks of at most this many
# (deliveries_enqueue): at the egress's 10 s limit per attempt, a task to a
# dead receiver ends within 200 s, well inside the broker's visibility timeout.
DELIVERIES_PER_TASK = 20
# One fan-out task handles at most this many batches, then rings for a
# successor, so a steady stream of events never pins one worker process.
FAN_OUT_MAX_BATCHES = 20
# The doorbell key (per Redis database: each test run has its own). It expires
# so that a task lost after the ring (never, with acks_late, short of a broker
# losing its data) silences new rings for at most this long; the sweep covers
# that gap. While a task waits behind a queue longer than this, a second one
# may be published: harmless, fan-out skips events another task holds.
FAN_OUT_DOORBELL = "partners:outbox:doorbell"
FAN_OUT_DOORBELL_TTL_MS = 10_000
# The task a ring publishes starts this long after it: the doorbell stays
# rung meanwhile, so a burst of commits (the midnight rush: 200 orders a
# second) is fanned out by one task per quarter second instead of one every
# few orders, each costing a broker publish in the web process and a task in
# the worker. Webhooks leave at most this much later.
FAN_OUT_COALESCE_S = 0.25


def _encode(values: list[Any]) -> str:
    """A JSON array of ``values`` (non-string keys allowed, as the json module does)."""
    return orjson.dumps(values, option=orjson.OPT_NON_STR_KEYS).decode()


_EVENT_FIELDS = ["id", "type", "partner_id", "subject", "payload", "created_at", "txid", "dispatched_at"]


@dataclass(frozen=True)
class NewEvent:
    type: str
    payload: dict[str, Any]
    partner_id: int | None = None
    subject: str = ""


class RecordedEvents(Sequence[Event]):
    """The events just written, in the order given (ids ascend in that order:
    one INSERT takes them from the sequence row after row). ``ids`` and the
    ``Event`` instances are built only if someone asks, so a bulk writer that
    ignores the result pays for neither."""

    def __init__(self, events: Sequence[NewEvent], ids: str = "", txid: int = 0, created_at: Any = None) -> None:
        self._new = events
        self._ids, self._txid, self._created_at = ids, txid, created_at
        self._events: list[Event] | None = None
        self._db = connection.alias

    @property
    def ids(self) -> list[int]:
        return [int(pk) for pk in self._ids.split(",")] if self._new else []

    def _built(self) -> list[Event]:
        if self._events is None:
            at, txid = self._created_at, self._txid
            self._events = [
                Event.from_db(self._db, _EVENT_FIELDS, (pk, e.type, e.partner_id, e.subject, e.payload, at, txid, None))
                for e, pk in zip(self._new, self.ids, strict=True)
            ]
        return self._events

    def __len__(self) -> int:
        return len(self._new)

    @overload
    def __getitem__(self, index: int) -> Event: ...
    @overload
    def __getitem__(self, index: slice) -> list[Event]: ...
    def __getitem__(self, index: int | slice) -> Event | list[Event]:
        return self._built()[index]


def events_record(*, events: Sequence[NewEvent]) -> RecordedEvents:
    """Write events to the outbox inside the caller's transaction (one INSERT
    for the batch). Nothing is sent from here: once the transaction commits,
    the doorbell wakes the fan-out."""
    if not events:
        return RecordedEvents([])
    with connection.cursor() as cursor:
        cursor.execute(
            sql.EVENTS_INSERT,
            [
                _encode([e.type for e in events]),
                _encode([e.partner_id for e in events]),
                _encode([e.subject for e in events]),
                _encode([e.payload for e in events]),
            ],
        )
        ids, txid, created_at = cursor.fetchone()
    _ring_after_commit()
    # Answers cached from what these events change go stale once they commit.
    readcache.bump_events_on_commit((e.type, e.payload) for e in events)
    return RecordedEvents(events, ids, txid, created_at)


def event_record(*, type: str, payload: dict[str, Any], partner_id: int | None = None, subject: str = "") -> Event:
    return events_record(events=[NewEvent(type=type, payload=payload, partner_id=partner_id, subject=subject)])[0]


def _ring_after_commit() -> None:
    """One ring per transaction, however many times it records events (an
    order records its own events and the stock ones)."""
    pending = transaction.get_connection().run_on_commit
    if not any(entry[1] is outbox_doorbell_ring for entry in pending):
        transaction.on_commit(outbox_doorbell_ring, robust=True)


def outbox_doorbell_ring() -> None:
    """Wake a fan-out task unless one is already on its way. Never raises:
    the events are committed, and the sweep fans them out if this is lost."""
    from partners.tasks import webhook_events_fan_out  # tasks import services

    try:
        if not redis_client().set(FAN_OUT_DOORBELL, 1, nx=True, px=FAN_OUT_DOORBELL_TTL_MS):
            return  # a task is queued or starting and has not looked yet: it will see these events
    except redis.RedisError:
        metrics.OUTBOX_DOORBELL_FAIL_OPEN.inc()
        log.warning("outbox doorbell unavailable; the sweep will fan the events out")
        return
    try:
        webhook_events_fan_out.apply_async(countdown=FAN_OUT_COALESCE_S, retry=True, retry_policy=_PUBLISH_RETRY)
    except Exception:
        # Nobody will answer this ring: silence it so the next commit rings again.
        metrics.OUTBOX_DOORBELL_FAIL_OPEN.inc()
        log.warning("broker unavailable; the sweep will fan the events out", exc_info=True)
        with contextlib.suppress(redis.RedisError):
            redis_client().delete(FAN_OUT_DOORBELL)


def _doorbell_answer() -> None:
    with contextlib.suppress(redis.RedisError):  # a stale doorbell only delays rings until it expires
        redis_client().delete(FAN_OUT_DOORBELL)


@dataclass(frozen=True)
class FanOut:
    events: int
    delivery_ids: list[int]

    def __add__(self, other: "FanOut") -> "FanOut":
        return FanOut(events=self.events + other.events, delivery_ids=self.delivery_ids + other.delivery_ids)


def events_fan_out_pending(*, now: dt.datetime | None = None) -> FanOut:
    """Answer the doorbell: take it off first (an event committed from now on
    rings again), then fan out every undispatched event, oldest first, in
    batches of FAN_OUT_BATCH, one transaction each. Events another worker
    holds are skipped (it fans them out). After FAN_OUT_MAX_BATCHES full
    batches it rings for a successor task and returns."""
    _doorbell_answer()
    total = FanOut(events=0, delivery_ids=[])
    for _batch in range(FAN_OUT_MAX_BATCHES):
        batch = _fan_out_batch(now=now or timezone.now())
        total += batch
        if batch.events < FAN_OUT_BATCH:
            return total
    outbox_doorbell_ring()
    return total


def events_fan_out(*, event_ids: list[int], now: dt.datetime | None = None) -> FanOut:
    """Create one delivery per (event, matching active subscription) for
    these events if not fanned out yet, mark them fanned out, and enqueue the
    first attempts after commit; batches of FAN_OUT_BATCH, one transaction
    each. Idempotent: an event is fanned out once (row lock plus
    ``dispatched_at``, backed by the unique (subscription, event)).
    Events another worker is fanning out at the same moment are skipped."""
    total = FanOut(events=0, delivery_ids=[])
    for start in range(0, len(event_ids), FAN_OUT_BATCH):
        total += _fan_out_batch(event_ids=event_ids[start : start + FAN_OUT_BATCH], now=now or timezone.now())
    return total


def events_fan_out_stragglers(*, created_before: dt.datetime, now: dt.datetime | None = None) -> FanOut:
    """One batch of events older than ``created_before`` whose fan-out was lost (for the sweep)."""
    return _fan_out_batch(created_before=created_before, now=now or timezone.now())


def _fan_out_batch(
    *, now: dt.datetime, event_ids: list[int] | None = None, created_before: dt.datetime | None = None
) -> FanOut:
    with transaction.atomic():
        events = lock_undispatched_events(event_ids=event_ids, created_before=created_before, limit=FAN_OUT_BATCH)
        if not events:
            return FanOut(events=0, delivery_ids=[])
        partner_ids = {e.partner_id for e in events if e.partner_id is not None}
        # Locked (KEY SHARE) so a subscription deleted meanwhile gets no delivery and its delete no 500.
        subscriptions = lock_subscriptions_for_fan_out(partner_ids=partner_ids)
        deliveries = WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(subscription=s, event=e, next_attempt_at=now)
                for e in events
                for s in subscriptions
                if s.receives(e)
            ]
        )
        Event.objects.filter(pk__in=[e.pk for e in events]).update(dispatched_at=now)
        delivery_ids = [d.pk for d in deliveries]
        if delivery_ids:
            by_subscription = [d.subscription_id for d in deliveries]
            transaction.on_commit(
                functools.partial(deliveries_enqueue, delivery_ids, by_subscription=by_subscription), robust=True
            )
        _bump_again(events)
    return FanOut(events=len(events), delivery_ids=delivery_ids)


def _bump_again(events: list[Event]) -> None:
    """The read cache's backstop: bump once more what these events touch
    (gateway/api/readcache.py), in case the process that committed them died
    before its own bump. Reads back only the payload fields that name the
    version keys, for the types that have any."""
    types = readcache.event_types()
    ids = [e.pk for e in events if e.type in types]
    if not ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(sql.EVENTS_CACHE_FIELDS, [readcache.event_fields(), ids, types])
        rows = cursor.fetchall()
    readcache.bump_on_commit(readcache.event_keys((kind, fields or {}) for kind, fields in rows))


def deliveries_enqueue(
    delivery_ids: list[int], countdown: float = 0, *, by_subscription: list[int] | None = None
) -> None:
    """Queue the attempts of these deliveries: one task each, or, given each
    delivery's subscription (``by_subscription``, as a fan-out knows them),
    one task per subscription for up to DELIVERIES_PER_TASK of its
    deliveries, made one after the other. A task's publishing, receiving and
    acknowledging cost the worker about as much as an attempt itself; one
    task per subscription keeps a slow receiver to one thread instead of
    every thread that picked one of its deliveries."""
    from partners.tasks import webhook_deliver, webhook_deliver_many  # tasks import services

    groups: list[list[int]] = [[delivery_id] for delivery_id in delivery_ids]
    if by_subscription is not None:
        of_subscription: dict[int, list[int]] = {}
        for delivery_id, subscription_id in zip(delivery_ids, by_subscription, strict=True):
            of_subscription.setdefault(subscription_id, []).append(delivery_id)
        groups = list(of_subscription.values())
    for ids in groups:
        for start in range(0, len(ids), DELIVERIES_PER_TASK):
            chunk = ids[start : start + DELIVERIES_PER_TASK]
            task, args = (webhook_deliver, (chunk[0],)) if len(chunk) == 1 else (webhook_deliver_many, (chunk,))
            task.apply_async(args=args, countdown=countdown, retry=True, retry_policy=_PUBLISH_RETRY)
