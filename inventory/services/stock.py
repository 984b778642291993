"""Writes on stock levels. Two engines, both set-based and both locking stock
rows in primary-key order (inventory/locks.py):

- ``stock_apply`` (orders: reserve, release, sell, return), all or nothing,
  one statement: a guarded UPDATE whose WHERE clause mirrors the CHECK
  constraints, and the movements of the rows it changed;
- ``stock_changes_apply`` (absolute sets and signed deltas from partners,
  stores and the operator: single-level PUT/POST and bulk sync), which
  creates missing levels, locks, decides every line in Python on the locked
  values, then writes levels and movements with one statement and the
  outbox events with one more.

Either way every change appends a StockMovement and a ``stock.changed`` event
in the same transaction, so the ledger always sums to the levels."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext as _

from gateway.sql import int_array
from inventory.errors import InsufficientStock
from inventory.locks import lock_stock_levels
from inventory.models import MovementReason, Product, StockLevel
from inventory.sql import LEVELS_MOVE_WITH_MOVEMENTS
from partners.models import ApiClient
from partners.services import NewEvent, events_record

# Largest on-hand quantity and largest delta a write may carry. The columns are
# 32-bit (max 2,147,483,647); capping both at 10^9 keeps on_hand + delta inside
# the column, so no arithmetic can overflow into a database error.
MAX_QUANTITY = 1_000_000_000


@dataclass(frozen=True)
class StockLine:
    product_id: int
    quantity: int


# reason -> (sign on on_hand, sign on reserved) for a positive quantity
_EFFECTS: dict[str, tuple[int, int]] = {
    MovementReason.RESERVATION: (0, 1),
    MovementReason.RELEASE: (0, -1),
    MovementReason.SALE: (-1, -1),
    MovementReason.RETURN: (1, 0),
}


def stock_apply(
    *,
    location_id: int,
    lines: Sequence[StockLine],
    reason: str,
    actor: ApiClient | None = None,
    reference: str = "",
    idempotency_key: str = "",
    events: Sequence[NewEvent] = (),
) -> None:
    """Reserve, release, sell or return ``lines`` at one location, all or
    nothing. Raises InsufficientStock listing every line that cannot move
    (the caller's transaction then rolls back). Quantities are positive.
    ``events`` are the caller's own events of this change (an order's
    ``order.created``): recorded after the ``stock.changed`` ones, in the
    same statement, one round trip fewer while the rows are locked."""
    on_hand_sign, reserved_sign = _EFFECTS[reason]
    merged: dict[int, int] = {}
    for line in lines:
        merged[line.product_id] = merged.get(line.product_id, 0) + line.quantity
    # No savepoint of its own: the caller's transaction is all or nothing, and
    # every caller lets InsufficientStock propagate (two round trips fewer per order).
    with transaction.atomic(savepoint=False):
        levels = lock_stock_levels(location_id=location_id, product_ids=merged)
        values = [
            (levels[pid][0], qty * on_hand_sign, qty * reserved_sign)
            for pid, qty in merged.items()
            if pid in levels and abs(qty) <= MAX_QUANTITY
        ]
        changed = (
            _update_with_movements(
                values,
                reason=reason,
                actor_id=actor.pk if actor is not None else None,
                reference=reference,
                idempotency_key=idempotency_key,
                all_of=len(merged),
            )
            if values
            else {}
        )
        failed = [pid for pid in merged if pid not in levels or levels[pid][0] not in changed]
        if failed:
            raise InsufficientStock(
                _("Not enough stock for %(count)d line(s).") % {"count": len(failed)},
                extra={"lines": _shortfalls(location_id, failed, merged)},
            )
        by_level = {level[0]: level for level in levels.values()}
        events_record(
            events=[
                stock_changed_event(
                    sku=by_level[level_id][1],
                    location_code=by_level[level_id][2],
                    owner_id=by_level[level_id][3],
                    on_hand=changed[level_id][0],
                    reserved=changed[level_id][1],
                    reason=reason,
                    version=changed[level_id][2],
                )
                for level_id, _d1, _d2 in values
            ]
            + list(events)
        )


def stock_changed_event(
    *,
    sku: str,
    location_code: str,
    owner_id: int | None,
    on_hand: int,
    reserved: int,
    reason: str,
    version: int | None = None,
) -> NewEvent:
    """The outbox event of one changed level. Its audience is the product's
    owner, who is also the location's owner (a location holds only its
    owner's products). ``version`` lets a receiver drop stale deliveries."""
    payload: dict[str, Any] = {
        "sku": sku,
        "location": location_code,
        "on_hand": on_hand,
        "reserved": reserved,
        "available": on_hand - reserved,
        "reason": reason,
    }
    if version is not None:
        payload["version"] = version
    return NewEvent(type="stock.changed", partner_id=owner_id, subject=f"stock:{location_code}:{sku}", payload=payload)


def _update_with_movements(
    values: list[tuple[int, int, int]],
    *,
    reason: str,
    actor_id: int | None,
    reference: str,
    idempotency_key: str,
    all_of: int,
) -> dict[int, tuple[int, int, int]]:
    """Apply the batch and, when all ``all_of`` lines changed, their
    movements. Returns {stock_level_id: (on_hand, reserved, version)} of the
    rows changed."""
    ids, d_on_hand, d_reserved = (list(column) for column in zip(*values, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            LEVELS_MOVE_WITH_MOVEMENTS,
            {
                "ids": int_array(ids),
                "d_on_hand": int_array(d_on_hand),
                "d_reserved": int_array(d_reserved),
                "reason": reason,
                "actor": actor_id,
                "key": idempotency_key,
                "reference": reference,
                "all_of": all_of,
            },
        )
        return {row[0]: (row[1], row[2], row[3]) for row in cursor.fetchall()}


def _shortfalls(location_id: int, failed: list[int], wanted: dict[int, int]) -> list[dict[str, object]]:
    available = dict(
        StockLevel.objects.filter(location_id=location_id, product_id__in=failed).values_list("product_id", "available")
    )
    skus = dict(Product.objects.filter(id__in=failed).values_list("id", "sku"))
    return [
        {"sku": skus.get(pid, ""), "requested": wanted[pid], "available": max(available.get(pid, 0), 0)}
        for pid in failed
    ]
