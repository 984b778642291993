"""Advisory locks of ``footfall.locks`` (no table: transaction-scoped locks
keyed by a namespace and an id)."""

from gateway.sql import statement

# Every key of an int array locked in one namespace, in ascending key (the
# ORDER BY is what makes two transactions wait for each other instead of
# deadlocking).
LOCK_ASCENDING = statement(
    "SELECT count(pg_advisory_xact_lock(%s, k)) FROM (SELECT unnest(%s::int[]) AS k ORDER BY 1) ordered"
)

# One key, without waiting: true when this transaction now holds it.
TRY_LOCK = statement("SELECT pg_try_advisory_xact_lock(%s::int, %s::int)")
