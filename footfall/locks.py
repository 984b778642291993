"""The only place footfall takes locks.

Ingest of one sensor's counts is serialised by a transaction-scoped
PostgreSQL advisory lock per sensor, taken in ascending sensor id (so two
batches naming the same sensors in any order cannot deadlock). The lock makes
the overlap check and the rebuild of the daily totals see every interval a
concurrent batch committed: without it two batches of the same sensor-day
would each rebuild the day from a snapshot lacking the other's rows.

Order: a reader's events feed position (row lock), then stores' sales locks
in ascending store id."""

from collections.abc import Iterable

from django.db import connection

from footfall.models import EventFeedPosition
from footfall.sql import locks as locks_sql

# Advisory lock namespace (first key) of footfall ingest: "FF" + 1.
_INGEST_NAMESPACE = 0x4646_0001
_INT4_MAX = 2**31 - 1


def _lock_ascending(namespace: int, ids: Iterable[int]) -> None:
    """Blocks until this transaction holds the advisory lock of every id in
    ``namespace``, taken in ascending id. Ids beyond the int4 range share a
    lock with another id, which only serialises more, never less."""
    keys = sorted({pk % _INT4_MAX for pk in ids})
    if not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute(locks_sql.LOCK_ASCENDING, [namespace, keys])


def lock_sensors_for_ingest(*, sensor_ids: Iterable[int]) -> None:
    """Blocks until this transaction holds the ingest lock of every sensor, in ascending id."""
    _lock_ascending(_INGEST_NAMESPACE, sensor_ids)


# Namespace of the notifier's per-store lock: "FF" + 2.
_ANOMALY_NAMESPACE = 0x4646_0002


def try_lock_store_for_anomaly_check(*, store_id: int) -> bool:
    """True when this transaction now holds the store's notifier lock; False
    when another run holds it (that run does the work)."""
    with connection.cursor() as cursor:
        cursor.execute(locks_sql.TRY_LOCK, [_ANOMALY_NAMESPACE, store_id % _INT4_MAX])
        return bool(cursor.fetchone()[0])


# Namespace of the per-store sales lock: "FF" + 3.
_SALES_NAMESPACE = 0x4646_0003


def lock_stores_for_sales(*, store_ids: Iterable[int]) -> None:
    """Blocks until this transaction holds the sales lock of every store, in
    ascending id: the daily sales totals that a till batch or a read of
    collected orders rebuilds then include every interval and collected
    order a concurrent transaction committed."""
    _lock_ascending(_SALES_NAMESPACE, store_ids)


def lock_event_feed_position(*, reader: str) -> EventFeedPosition | None:
    """The reader's position in the events feed, row-locked for this
    transaction (created at the start of the feed the first time); None when
    another run holds it (that run reads the feed). Taken before any store's
    sales lock."""
    EventFeedPosition.objects.get_or_create(reader=reader)
    return EventFeedPosition.objects.select_for_update(skip_locked=True).filter(reader=reader).first()
