"""The only place loyalty takes row locks (``SELECT ... FOR UPDATE``).

Lock order, always, so that no two transactions wait on each other in a cycle:

0. a till ticket's advisory lock (``lock_ticket``: its post and its returns);
1. a member row (every change of its points starts here, so the member's
   lock serialises everything that touches its buckets);
2. that member's buckets, by (expires_at, id): the FIFO burn order;
3. a coupon code row, then the budget counters by ascending id, both taken
   inside one statement (``loyalty.sql.RESERVE`` and ``GIVE_BACK``).

A till ticket takes its member's row (1) before reserving (3), so that
earning its points afterwards (1 again, then 2) waits on nobody: every
holder of that member's buckets holds the member's row first.

A caller in another app (commerce placing an order) takes its own locks
(slot, stock) first and loyalty's last, as commerce/locks.py says."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection

from loyalty import sql


@dataclass(frozen=True)
class LockedMember:
    id: int
    program_id: int
    pending: int
    active: int
    debt: int


@dataclass(frozen=True)
class LockedBucket:
    id: int
    member_id: int
    amount: int
    remaining: int
    state: str
    activates_at: dt.datetime
    expires_at: dt.datetime
    source: str


def lock_member(*, member_id: int) -> LockedMember | None:
    with connection.cursor() as cursor:
        cursor.execute(sql.LOCK_MEMBER, {"member": member_id})
        row = cursor.fetchone()
    return LockedMember(*row) if row else None


def lock_member_buckets(*, member_id: int, states: Sequence[str]) -> list[LockedBucket]:
    """The member's buckets in ``states``, first to expire first. Take the
    member's lock (``lock_member``) before."""
    with connection.cursor() as cursor:
        cursor.execute(sql.LOCK_BUCKETS, {"member": member_id, "states": list(states)})
        return [LockedBucket(*row) for row in cursor.fetchall()]


# Advisory lock namespace (first key) of till tickets: "LY" + 1.
_TICKET_NAMESPACE = 0x4C59_0001


def lock_ticket(*, store_id: int, ticket_id: str) -> None:
    """Blocks until this transaction holds the lock of one store's ticket:
    two tills (or a till retrying) posting the same ticket, or a return of
    it, run one after the other, and the second sees what the first wrote."""
    with connection.cursor() as cursor:
        cursor.execute(sql.TICKET_LOCK, {"namespace": _TICKET_NAMESPACE, "key": f"{store_id}:{ticket_id}"})
