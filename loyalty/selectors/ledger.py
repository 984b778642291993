"""The points ledger check: every member's counters must equal the sums of
its movements and its last movement's figures, pending and active must equal
what its open buckets hold, and every bucket's remaining points must equal
the sum of its own movements."""

from dataclasses import dataclass

from django.db import connection

from loyalty.sql import BUCKET_MISMATCHES, COUNT_MEMBERS, LEDGER_MISMATCHES


@dataclass(frozen=True)
class MemberMismatch:
    member_id: int
    card_number: str
    pending: int
    active: int
    debt: int
    ledger_pending: int
    ledger_active: int
    ledger_debt: int
    buckets_pending: int
    buckets_active: int


@dataclass(frozen=True)
class BucketMismatch:
    bucket_id: int
    member_id: int
    remaining: int
    ledger_remaining: int


@dataclass(frozen=True)
class LedgerReport:
    members_checked: int
    members: list[MemberMismatch]
    buckets: list[BucketMismatch]

    @property
    def ok(self) -> bool:
        return not self.members and not self.buckets


def points_ledger_report(*, limit: int = 100) -> LedgerReport:
    """Set-based, two passes: members, then buckets (the first ``limit`` of each)."""
    with connection.cursor() as cursor:
        cursor.execute(COUNT_MEMBERS)
        checked = cursor.fetchone()[0]
        cursor.execute(LEDGER_MISMATCHES, {"limit": limit})
        members = [MemberMismatch(*row) for row in cursor.fetchall()]
        cursor.execute(BUCKET_MISMATCHES, {"limit": limit})
        buckets = [BucketMismatch(*row) for row in cursor.fetchall()]
    return LedgerReport(checked, members, buckets)
