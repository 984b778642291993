"""Proves the points ledger: exits 0 when every member and bucket equals its movements, 1 otherwise (listing them)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from loyalty.selectors.ledger import points_ledger_report


class Command(BaseCommand):
    help = "Check that every member's points and every bucket equal their ledger movements; non-zero exit on mismatch."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=100, help="Mismatches to list at most (of each kind).")

    def handle(self, *args: Any, **options: Any) -> None:
        report = points_ledger_report(limit=options["limit"])
        if report.ok:
            self.stdout.write(f"points ledger OK: {report.members_checked} members reconcile with their movements")
            return
        for m in report.members:
            self.stderr.write(
                f"member {m.member_id} card {m.card_number}: pending={m.pending} active={m.active} debt={m.debt}, "
                f"movements sum pending={m.ledger_pending} active={m.ledger_active} debt={m.ledger_debt}, "
                f"open buckets pending={m.buckets_pending} active={m.buckets_active}"
            )
        for b in report.buckets:
            self.stderr.write(
                f"bucket {b.bucket_id} of member {b.member_id}: remaining={b.remaining}, "
                f"movements sum {b.ledger_remaining}"
            )
        raise CommandError(
            f"points ledger MISMATCH: {len(report.members)} of {report.members_checked} members and "
            f"{len(report.buckets)} buckets differ from their movements"
        )
