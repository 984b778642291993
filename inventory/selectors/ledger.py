"""The ledger check: every stock level must equal the sums of its movements
(on hand and reserved), and its last movement must record the level's figures."""

from dataclasses import dataclass

from django.db import connection

from inventory.sql import LEDGER_MISMATCHES, LEVELS_COUNT


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
        cursor.execute(LEVELS_COUNT)
        checked = cursor.fetchone()[0]
        cursor.execute(
            LEDGER_MISMATCHES,
            [limit],
        )
        return checked, [LedgerMismatch(*row) for row in cursor.fetchall()]
