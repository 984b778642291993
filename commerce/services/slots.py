"""Slot counters: booking, holds, expiry, giving units back.

Every change of ``booked`` or ``held`` is one UPDATE whose WHERE clause
checks the bound (``booked + held < capacity``), the release instant and
the start against the database clock; the CHECK constraint
``booked + held <= capacity`` stands behind it. Under READ COMMITTED a
concurrent UPDATE of the same row makes PostgreSQL re-evaluate the WHERE
clause on the newest version, so N parallel bookings of a slot with one unit
left give exactly one success, on any number of app processes.

Expired holds give their unit back lazily (when a booking finds the slot
full, and uncounted on reads) and through ``holds_expire_due`` (beat).

Every statement here that changes a slot's counters answers the slot's store
and store-local day, and the change bumps that day's version after commit
(``_slot_days_changed``): cached slot lists of the day (gateway/api/readcache.py)
are stale from then on. Slot holds write no outbox event, so this is where
they are counted."""

import datetime as dt
import math
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from commerce.errors import (
    HoldConflict,
    HoldExpired,
    HoldNotActive,
    ObjectNotFound,
    SlotFull,
    SlotNotReleased,
    SlotStarted,
    StoreClosed,
)
from commerce.locks import lock_due_holds, lock_slots
from commerce.models import DEFAULT_HOLD_MINUTES, HoldState, SlotHold
from commerce.sql import slots as sql
from gateway.api import readcache
from gateway.api.instants import instant_text, instant_text_of_json
from gateway.transactions import Refusal
from inventory.selectors import store_id_of_caller
from partners.callers import Caller
from partners.models import CallerKind


@dataclass(frozen=True)
class BookedSlot:
    id: int
    store_id: int
    store_code: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    local_date: dt.date


def _slot_days_changed(rows: Any) -> None:
    """Bump the slot days of (store id, local date) rows once the transaction commits."""
    readcache.bump_on_commit(readcache.slot_day_key(store_id, day) for store_id, day in rows)


def slot_book(*, slot_id: int, store_id: int | None = None) -> BookedSlot:
    """Book one unit of a slot (inside the caller's transaction); when it
    cannot, raise ``Refusal`` (gateway/transactions.py) with the precise problem: slot_full,
    slot_not_released, slot_started, store_closed, not_found."""
    booked = BookedSlot(*_take_unit(sql.BOOK, slot_id=slot_id, store_id=store_id))
    _slot_days_changed([(booked.store_id, booked.local_date)])
    return booked


def slot_hold_consume(*, hold_id: uuid.UUID, caller: Caller, store_id: int | None = None) -> BookedSlot:
    """Turn the caller's active hold into a booking of its slot. A hold that
    cannot be used raises ``Refusal`` (nothing written); a slot that can
    no longer take it raises the problem itself, since the hold was consumed
    by then and the caller's transaction must roll that back."""
    with connection.cursor() as cursor:
        cursor.execute(sql.HOLD_CONSUME, [hold_id, caller.client.pk, caller.user_id])
        consumed = cursor.fetchone()
        if consumed is None:
            raise Refusal(_hold_problem(hold_id=hold_id, caller=caller))
        cursor.execute(sql.HOLD_TO_BOOKING, {"slot": consumed[0], "store": store_id})
        row = cursor.fetchone()
        if row is None:
            raise _refusal_problem(_refusal(cursor, consumed[0]), store_id=store_id)
    booked = BookedSlot(*row)
    _slot_days_changed([(booked.store_id, booked.local_date)])
    return booked


def slot_unit_return(*, slot_id: int) -> None:
    """Give one booked unit back (cancelled or not collected order)."""
    with connection.cursor() as cursor:
        cursor.execute(sql.UNIT_RETURN, [slot_id])
        if cursor.rowcount != 1:
            raise RuntimeError(f"pickup slot {slot_id} has no booking to give back")
        _slot_days_changed(cursor.fetchall())


def slot_hold_create(*, slot_id: int, caller: Caller) -> SlotHold:
    """Take one unit of a slot for the caller for the schedule's hold time. A
    shopper holds one slot at a time: an earlier active hold is given back first."""
    store_id = store_restriction(caller)
    try:
        with transaction.atomic():
            if caller.user_id is not None:
                _release_user_holds(user_id=caller.user_id)
            expires_at = _take_hold_unit(slot_id=slot_id, store_id=store_id)
            return SlotHold.objects.create(
                slot_id=slot_id, client=caller.client, user_id=caller.user_id, expires_at=expires_at
            )
    except IntegrityError as exc:  # two holds for one user at once: the unique index refused the second
        raise HoldConflict(_("Another hold was taken for you at the same moment; retry.")) from exc
    except Refusal as refused:  # rolled back all the same: an earlier hold of the user may have been given back
        raise refused.error from None


def slot_hold_release(*, hold_id: uuid.UUID, caller: Caller) -> bool:
    """Give the caller's hold back; False when it had already ended (a no-op)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql.HOLD_RELEASE, [hold_id, caller.client.pk, caller.user_id])
        row = cursor.fetchone()
        if row is not None:
            _slot_days_changed([row])
            return True
    if not _holds_of(caller).filter(public_id=hold_id).exists():
        raise ObjectNotFound()
    return False


def holds_expire_due(*, batch: int = 1000) -> int:
    """Expire every active hold past its time and give the units back (the
    periodic sweep). Safe to run on several workers at once: each hold is
    taken by one run only (SKIP LOCKED) and moves out of 'active' once."""
    total = 0
    while True:
        with transaction.atomic():
            due = lock_due_holds(limit=batch)
            if not due:
                return total
            per_slot = Counter(slot_id for _hold, slot_id in due)
            lock_slots(slot_ids=per_slot)
            with connection.cursor() as cursor:
                cursor.execute(sql.HOLDS_EXPIRE, [[hold for hold, _slot in due]])
                cursor.execute(sql.HELD_UNITS_RETURN, [list(per_slot), list(per_slot.values())])
                _slot_days_changed(cursor.fetchall())
        total += len(due)
        if len(due) < batch:
            return total


def _take_hold_unit(*, slot_id: int, store_id: int | None) -> dt.datetime:
    expires_at, slot_store_id, local_date = _take_unit(
        sql.HOLD, slot_id=slot_id, store_id=store_id, hold_minutes=DEFAULT_HOLD_MINUTES
    )
    _slot_days_changed([(slot_store_id, local_date)])
    return expires_at


def _take_unit(statement: str, *, slot_id: int, store_id: int | None, **params: int) -> tuple[Any, ...]:
    """Run a guarded UPDATE that takes one unit of the slot; when it changes
    nothing, one more statement says why (``_refusal``). Units of expired
    holds the sweep has not given back yet are given back then, and the unit
    is taken again: a refusal costs two statements unless holds expired, and
    raises ``Refusal``."""
    values: dict[str, int | None] = {"slot": slot_id, "store": store_id, **params}
    with connection.cursor() as cursor:
        cursor.execute(statement, values)
        row = cursor.fetchone()
        if row is not None:
            return tuple(row)
        refusal = _refusal(cursor, slot_id)
        if refusal is not None and refusal.expired_holds and _expire_slot_holds(cursor, slot_id):
            cursor.execute(statement, values)
            row = cursor.fetchone()
            if row is not None:
                return tuple(row)
            refusal = _refusal(cursor, slot_id)
    raise Refusal(_refusal_problem(refusal, store_id=store_id))


def _release_user_holds(*, user_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql.USER_HOLDS_RELEASE, [user_id])
        _slot_days_changed(cursor.fetchall())


def _expire_slot_holds(cursor: CursorWrapper, slot_id: int) -> int:
    cursor.execute(sql.EXPIRE_SLOT_HOLDS, {"slot": slot_id})
    row = cursor.fetchone()
    if not row:
        return 0
    _slot_days_changed([row[1:]])
    return int(row[0])


def store_restriction(caller: Caller) -> int | None:
    """The store a caller may book at: store clients their own store (an
    unbound one none, hence 0), everyone else any store (None)."""
    if caller.kind != CallerKind.STORE:
        return None
    return store_id_of_caller(caller=caller) or 0


def _holds_of(caller: Caller) -> QuerySet[SlotHold]:
    owner = Q(user_id=caller.user_id) if caller.user_id is not None else Q(user__isnull=True)
    return SlotHold.objects.filter(owner, client_id=caller.client.pk)


def _hold_problem(*, hold_id: uuid.UUID, caller: Caller) -> Exception:
    hold = _holds_of(caller).filter(public_id=hold_id).values_list("state", flat=True).first()
    if hold is None:
        return ObjectNotFound()
    if hold == HoldState.ACTIVE or hold == HoldState.EXPIRED:
        return HoldExpired(_("The hold expired; hold or book the slot again."))
    return HoldNotActive(_("This hold was already used or released."), extra={"state": hold})


@dataclass(frozen=True)
class _Refusal:
    """Why a guarded UPDATE of a slot changed nothing, read right after it."""

    store_id: int
    store_open: bool
    closed: bool
    release_at: dt.datetime
    starts_at: dt.datetime
    now: dt.datetime
    expired_holds: int
    alternatives: list[dict[str, Any]]


def _refusal_problem(refusal: _Refusal | None, *, store_id: int | None) -> Exception:
    if refusal is None or (store_id is not None and refusal.store_id != store_id):
        return ObjectNotFound()
    if not refusal.store_open or refusal.closed:
        return StoreClosed(_("The store takes no click-and-collect orders for this slot."))
    if refusal.release_at > refusal.now:
        wait = max(1, math.ceil((refusal.release_at - refusal.now).total_seconds()))
        return SlotNotReleased(
            _("This slot opens at %(at)s.") % {"at": instant_text(refusal.release_at)},
            extra={"release_at": instant_text(refusal.release_at)},
            headers={"Retry-After": str(wait)},
        )
    if refusal.starts_at <= refusal.now:
        return SlotStarted(_("This pickup slot has already started."))
    # Full (or it filled between the guarded UPDATE and the read).
    alternatives = [
        {**slot, "starts_at": instant_text_of_json(slot["starts_at"]), "ends_at": instant_text_of_json(slot["ends_at"])}
        for slot in refusal.alternatives
    ]
    return SlotFull(
        _("No capacity left in this pickup slot; choose another one."), extra={"alternatives": alternatives}
    )


def _refusal(cursor: CursorWrapper, slot_id: int) -> _Refusal | None:
    """None for an unknown slot."""
    cursor.execute(sql.REFUSAL, [slot_id])
    row = cursor.fetchone()
    return None if row is None else _Refusal(*row)
