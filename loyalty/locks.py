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

The weekly slow-mover proposal takes no row lock: a transaction-scoped
advisory lock per (program, store, ISO week) serialises two runs deciding
the same draft (``lock_slow_mover_proposal``).

An order (commerce) takes loyalty's locks first, in this same order (the
member when it pays with points, then the code and the counters), and its
own (slot, stock) after them; its status changes do the same (loyalty's
release or confirmation before the slot and the stock)."""

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


def lock_due_buckets(*, member_id: int, now: dt.datetime) -> list[LockedBucket]:
    """The member's buckets due at ``now`` (pending ones to activate, open
    ones to expire), first to expire first. Take the member's lock before."""
    with connection.cursor() as cursor:
        cursor.execute(sql.LOCK_DUE_BUCKETS, {"member": member_id, "now": now})
        return [LockedBucket(*row) for row in cursor.fetchall()]


# Advisory lock namespace (first key) of till tickets: "LY" + 1.
_TICKET_NAMESPACE = 0x4C59_0001


def lock_ticket(*, store_id: int, ticket_id: str) -> None:
    """Blocks until this transaction holds the lock of one store's ticket:
    two tills (or a till retrying) posting the same ticket, or a return of
    it, run one after the other, and the second sees what the first wrote."""
    with connection.cursor() as cursor:
        cursor.execute(sql.TICKET_LOCK, {"namespace": _TICKET_NAMESPACE, "key": f"{store_id}:{ticket_id}"})


def lock_slow_mover_proposal(*, program_id: int, store_id: int, week: str) -> None:
    """Wait for any other transaction deciding this (program, store, week)
    draft; held until the caller's transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(sql.LOCK_SLOW_MOVER_PROPOSAL, {"key": f"loyalty-slow-movers:{program_id}:{store_id}:{week}"})
