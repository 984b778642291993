"""The only place footfall takes locks.

Ingest of one sensor's counts is serialised by a transaction-scoped
PostgreSQL advisory lock per sensor, taken in ascending sensor id (so two
batches naming the same sensors in any order cannot deadlock). The lock makes
the overlap check and the rebuild of the daily totals see every interval a
concurrent batch committed: without it two batches of the same sensor-day
would each rebuild the day from a snapshot lacking the other's rows."""

from collections.abc import Iterable

from django.db import connection

# Advisory lock namespace (first key) of footfall ingest: "FF" + 1.
_INGEST_NAMESPACE = 0x4646_0001
_INT4_MAX = 2**31 - 1


def lock_sensors_for_ingest(*, sensor_ids: Iterable[int]) -> None:
    """Blocks until this transaction holds the ingest lock of every sensor,
    taken in ascending id. Ids beyond the int4 range share a lock with another
    id, which only serialises more, never less."""
    keys = sorted({sensor_id % _INT4_MAX for sensor_id in sensor_ids})
    if not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(%s, k)) FROM (SELECT unnest(%s::int[]) AS k ORDER BY 1) ordered",
            [_INGEST_NAMESPACE, keys],
        )


# Namespace of the notifier's per-store lock: "FF" + 2.
_ANOMALY_NAMESPACE = 0x4646_0002


def try_lock_store_for_anomaly_check(*, store_id: int) -> bool:
    """True when this transaction now holds the store's notifier lock; False
    when another run holds it (that run does the work)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [_ANOMALY_NAMESPACE, store_id % _INT4_MAX])
        return bool(cursor.fetchone()[0])


# Namespace of the per-store sales ingest lock: "FF" + 3.
_SALES_NAMESPACE = 0x4646_0003


def lock_stores_for_sales(*, store_ids: Iterable[int]) -> None:
    """Blocks until this transaction holds the sales ingest lock of every
    store, in ascending id: the daily sales totals a batch rebuilds then
    include every interval a concurrent batch committed."""
    keys = sorted({store_id % _INT4_MAX for store_id in store_ids})
    if not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(%s, k)) FROM (SELECT unnest(%s::int[]) AS k ORDER BY 1) ordered",
            [_SALES_NAMESPACE, keys],
        )
