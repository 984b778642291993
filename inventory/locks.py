"""The only place inventory takes row locks.

Order: stock levels are locked by ascending primary key, always, so two
transactions touching overlapping products can never wait on each other in
a cycle (no deadlocks). A batch that also creates levels (a first sync of a
product at a location) locks the existing ones first, then inserts the new
ones in (product, location) order, the unique index's order, and locks
those: new levels get higher keys than every level that existed, so the
order still only ever climbs. A caller that also locks rows of another app takes
those first only if that app's locks.py says so (commerce: slot, then stock)."""

from collections.abc import Iterable, Sequence

from django.db import connection

from gateway.sql import int_array
from inventory.sql import LOCK_LEVELS_AT_LOCATION, LOCK_LEVELS_BY_PAIRS, PREFER_INDEX_PROBES


def lock_stock_levels(*, location_id: int, product_ids: Iterable[int]) -> dict[int, tuple[int, str, str, int | None]]:
    """Lock the stock levels of ``product_ids`` at ``location_id`` in primary-key
    order; returns {product_id: (stock_level_id, sku, location_code, owner_id)}
    for those that exist."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            LOCK_LEVELS_AT_LOCATION,
            [location_id, ids],
        )
        return {
            product_id: (level_id, sku, code, owner) for level_id, product_id, sku, code, owner in cursor.fetchall()
        }


def lock_stock_levels_by_pairs(
    *, product_ids: Sequence[int], location_ids: Sequence[int]
) -> list[tuple[int, int, int, int, int, int]]:
    """Lock the stock levels of the (product, location) pairs given as two
    parallel lists, in primary-key order (the same order as above, so bulk
    syncs and orders never deadlock). Returns (id, product_id, location_id,
    on_hand, reserved, version) for the levels that exist."""
    if not product_ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(PREFER_INDEX_PROBES)  # for this transaction only (why: inventory/sql.py)
        cursor.execute(
            LOCK_LEVELS_BY_PAIRS,
            [int_array(product_ids), int_array(location_ids)],
        )
        return cursor.fetchall()
