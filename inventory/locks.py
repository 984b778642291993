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


def lock_stock_levels(*, location_id: int, product_ids: Iterable[int]) -> dict[int, tuple[int, str, str, int | None]]:
    """Lock the stock levels of ``product_ids`` at ``location_id`` in primary-key
    order; returns {product_id: (stock_level_id, sku, location_code, owner_id)}
    for those that exist."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT s.id, s.product_id, p.sku, l.code, p.owner_id
            FROM inventory_stocklevel s
            JOIN inventory_product p ON p.id = s.product_id
            JOIN inventory_location l ON l.id = s.location_id
            WHERE s.location_id = %s AND s.product_id = ANY(%s)
            ORDER BY s.id
            FOR UPDATE OF s
            """,
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
        # Stock levels are hot in memory, so an index probe costs about what a
        # sequential page read does. With the default random_page_cost (4) the
        # planner hashes the whole table instead of probing 5,000 pairs: 138 ms
        # against 27 ms measured on 200,000 levels. For this transaction only.
        cursor.execute("SET LOCAL random_page_cost = 1.1")
        cursor.execute(
            """
            SELECT s.id, s.product_id, s.location_id, s.on_hand, s.reserved, s.version
            FROM inventory_stocklevel s
            JOIN unnest(%s::bigint[], %s::bigint[]) AS v(product_id, location_id)
              ON s.product_id = v.product_id AND s.location_id = v.location_id
            ORDER BY s.id
            FOR UPDATE OF s
            """,
            [int_array(product_ids), int_array(location_ids)],
        )
        return cursor.fetchall()
