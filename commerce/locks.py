"""The only place commerce takes row locks (``SELECT ... FOR UPDATE``).

Lock order, always, so that no two transactions wait on each other in a cycle:

1. the order row (lifecycle transitions lock it first);
2. slot holds, one at a time by id (the expiry sweep takes them with
   ``SKIP LOCKED``, so it never waits on a hold an order is consuming);
3. pickup slots, in ascending primary key (an order books exactly one slot,
   with a guarded UPDATE that locks that row; the sweep locks several in order);
4. stock levels, in ascending primary key (inventory.locks, reached through
   inventory.services.stock_apply).

A guarded UPDATE locks the row it changes, so it counts as taking that row's
lock at the point where it runs."""

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection

from commerce.models import DEFAULT_CANCEL_CUTOFF_MINUTES
from commerce.sql import locks as sql


@dataclass(frozen=True)
class LockedOrder:
    id: int
    public_id: uuid.UUID
    status: str
    slot_id: int
    store_id: int
    store_code: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    cancel_cutoff_minutes: int
    now: dt.datetime


def lock_order(*, order_id: int) -> LockedOrder | None:
    """Lock one order and read what a status change needs, with the database clock."""
    with connection.cursor() as cursor:
        cursor.execute(sql.LOCK_ORDER, [DEFAULT_CANCEL_CUTOFF_MINUTES, order_id])
        row = cursor.fetchone()
    return LockedOrder(*row) if row else None


def lock_due_holds(*, limit: int) -> list[tuple[int, int]]:
    """Lock up to ``limit`` active holds past their expiry, skipping any another
    transaction holds; returns [(hold_id, slot_id)] in id order."""
    with connection.cursor() as cursor:
        cursor.execute(sql.LOCK_DUE_HOLDS, [limit])
        return [(hold_id, slot_id) for hold_id, slot_id in cursor.fetchall()]


def lock_slots(*, slot_ids: Iterable[int]) -> list[int]:
    """Lock pickup slots in ascending primary key; returns the ids locked."""
    ids = sorted(set(slot_ids))
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(sql.LOCK_SLOTS, [ids])
        return [row[0] for row in cursor.fetchall()]
