"""Periodic inventory checks (thin: the work is in selectors)."""

import logging

from celery import shared_task

from inventory.selectors.ledger import stock_ledger_mismatches

log = logging.getLogger("inventory.ledger")


@shared_task(acks_late=True)
def check_stock_ledger() -> int:
    """Run by beat every 6 hours; read-only, so safe to run twice. Logs an
    error listing the mismatched levels and returns how many there are."""
    checked, mismatches = stock_ledger_mismatches(limit=100)
    if mismatches:
        log.error(
            "stock ledger mismatch",
            extra={"levels_checked": checked, "mismatched_levels": [m.stock_level_id for m in mismatches]},
        )
    else:
        log.info("stock ledger reconciles", extra={"levels_checked": checked})
    return len(mismatches)
