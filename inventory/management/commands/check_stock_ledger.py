"""Proves the stock ledger: exits 0 when every level equals its movements, 1 otherwise (listing them)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inventory.selectors.ledger import stock_ledger_mismatches


class Command(BaseCommand):
    help = "Check that every stock level equals the sums of its ledger movements; non-zero exit on mismatch."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=100, help="Mismatches to list at most.")

    def handle(self, *args: Any, **options: Any) -> None:
        checked, mismatches = stock_ledger_mismatches(limit=options["limit"])
        if not mismatches:
            self.stdout.write(f"ledger OK: {checked} stock levels reconcile with their movements")
            return
        for m in mismatches:
            self.stderr.write(
                f"level {m.stock_level_id} {m.sku}@{m.location}: on_hand={m.on_hand} reserved={m.reserved}, "
                f"ledger sums on_hand={m.ledger_on_hand} reserved={m.ledger_reserved}, last movement "
                f"on_hand_after={m.last_on_hand_after} reserved_after={m.last_reserved_after}"
            )
        raise CommandError(f"ledger MISMATCH: {len(mismatches)} of {checked} stock levels differ from their movements")
