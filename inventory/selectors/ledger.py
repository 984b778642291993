"""The ledger check: every stock level must equal the sums of its movements
(on hand and reserved), and its last movement must record the level's figures."""

from dataclasses import dataclass

from django.db import connection


@dataclass(frozen=True)
class LedgerMismatch:
    stock_level_id: int
    sku: str
    location: str
    on_hand: int
    reserved: int
    ledger_on_hand: int
    ledger_reserved: int
    last_on_hand_after: int | None
    last_reserved_after: int | None


def stock_ledger_mismatches(*, limit: int = 1000) -> tuple[int, list[LedgerMismatch]]:
    """(number of levels checked, the first ``limit`` levels whose figures
    differ from their ledger). One pass over both tables, set-based."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM inventory_stocklevel")
        checked = cursor.fetchone()[0]
        cursor.execute(
            """
            WITH ledger AS (
                SELECT stock_level_id, sum(delta_on_hand) AS on_hand, sum(delta_reserved) AS reserved,
                       (array_agg(on_hand_after ORDER BY id DESC))[1] AS last_on_hand,
                       (array_agg(reserved_after ORDER BY id DESC))[1] AS last_reserved
                FROM inventory_stockmovement GROUP BY stock_level_id
            )
            SELECT s.id, p.sku, l.code, s.on_hand, s.reserved,
                   coalesce(g.on_hand, 0)::bigint, coalesce(g.reserved, 0)::bigint,
                   g.last_on_hand, g.last_reserved
            FROM inventory_stocklevel s
            JOIN inventory_product p ON p.id = s.product_id
            JOIN inventory_location l ON l.id = s.location_id
            LEFT JOIN ledger g ON g.stock_level_id = s.id
            WHERE s.on_hand <> coalesce(g.on_hand, 0) OR s.reserved <> coalesce(g.reserved, 0)
               OR s.on_hand <> coalesce(g.last_on_hand, 0) OR s.reserved <> coalesce(g.last_reserved, 0)
            ORDER BY s.id
            LIMIT %s
            """,
            [limit],
        )
        return checked, [LedgerMismatch(*row) for row in cursor.fetchall()]
