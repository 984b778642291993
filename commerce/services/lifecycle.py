"""Order lifecycle: placed -> preparing -> ready -> collected, or cancelled
(by the customer until the cut-off, by the store until collected), or
no_show (by the system after the slot's end plus the grace time).

Each change locks the order row first (commerce.locks order), so two
concurrent changes are serialised: the second sees the first's result.
Asking for the status the order already has is a no-op (idempotent, no
event, no history row). Effects in the same transaction:

- collected: stock reservations become sales (on hand and reserved decrease);
  the order's coupons are confirmed and its member earns the points;
- cancelled, no_show: reservations are released and the slot unit given back;
  the coupons' units and the points spent are given back;
- always: a status history row (who, when by the database clock) and
  ``order.status_changed`` events."""

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from commerce.errors import CancellationCutoffPassed, ObjectNotFound, TransitionNotAllowed
from commerce.locks import LockedOrder, lock_order
from commerce.models import (
    DEFAULT_NO_SHOW_GRACE_MINUTES,
    OPEN_STATUSES,
    Order,
    OrderLine,
    OrderStatus,
    PickupSlot,
)
from commerce.services.orders import order_events
from commerce.services.slots import slot_unit_return
from commerce.sql.orders import ORDER_STATUS_SET, ORDERS_DUE_NO_SHOW
from gateway.api.instants import instant_text
from gateway.sql import instance_of_row, partial_instance
from inventory.models import Location, MovementReason, Product
from inventory.services import StockLine, stock_apply
from loyalty.services.checkout import checkout_collected, checkout_released
from partners.models import ApiClient
from partners.services import events_record

# target status -> the statuses it may be reached from
ALLOWED_FROM: dict[str, frozenset[str]] = {
    OrderStatus.PREPARING: frozenset({OrderStatus.PLACED}),
    OrderStatus.READY: frozenset({OrderStatus.PREPARING}),
    OrderStatus.COLLECTED: frozenset({OrderStatus.READY}),
    OrderStatus.CANCELLED: frozenset(OPEN_STATUSES),
    OrderStatus.NO_SHOW: frozenset(OPEN_STATUSES),
}

_STOCK_EFFECT: dict[str, str] = {
    OrderStatus.COLLECTED: MovementReason.SALE,
    OrderStatus.CANCELLED: MovementReason.RELEASE,
    OrderStatus.NO_SHOW: MovementReason.RELEASE,
}


@dataclass(frozen=True)
class Actor:
    """Who changes the status: a client (and its signed-in user), or None for the system."""

    client: ApiClient | None = None
    user_id: int | None = None


def order_transition(
    *, order_id: int, to_status: str, actor: Actor, reason: str = "", customer_cutoff: bool = False
) -> bool:
    """Move an order to ``to_status``; True if it changed, False if it was
    there already. ``customer_cutoff`` applies the cancellation cut-off."""
    with transaction.atomic():
        locked = lock_order(order_id=order_id)
        if locked is None:
            raise ObjectNotFound()
        if locked.status == to_status:
            return False
        if locked.status not in ALLOWED_FROM[to_status]:
            raise TransitionNotAllowed(
                _("An order that is %(status)s cannot become %(target)s.")
                % {"status": locked.status, "target": to_status},
                extra={"status": locked.status},
            )
        if customer_cutoff:
            _check_cutoff(locked)
        _apply(locked=locked, to_status=to_status, actor=actor, reason=reason)
    return True


def _check_cutoff(locked: LockedOrder) -> None:
    cutoff_at = locked.starts_at - dt.timedelta(minutes=locked.cancel_cutoff_minutes)
    if locked.now >= cutoff_at:
        raise CancellationCutoffPassed(
            _("Orders can be cancelled until %(at)s; ask the store.") % {"at": instant_text(cutoff_at)},
            extra={"cutoff_at": instant_text(cutoff_at)},
        )


def _apply(*, locked: LockedOrder, to_status: str, actor: Actor, reason: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            ORDER_STATUS_SET,
            {"status": to_status, "order": locked.id, "from_status": locked.status,
             "actor_client": actor.client.pk if actor.client else None, "actor_user": actor.user_id,
             "reason": reason},
        )  # fmt: skip
        order, lines = _changed_order(cursor.fetchone(), locked=locked, db=connection.alias)
    # Loyalty first (coupon counters, then the member), then the slot and the
    # stock: the lock order placing an order follows.
    if order.program_id is not None:
        _loyalty_effect(order=order, lines=lines, to_status=to_status)
    if to_status in (OrderStatus.CANCELLED, OrderStatus.NO_SHOW):
        slot_unit_return(slot_id=locked.slot_id)
    effect = _STOCK_EFFECT.get(to_status)
    if effect is not None:
        stock_apply(
            location_id=locked.store_id,
            lines=[StockLine(product_id=line.product_id, quantity=line.quantity) for line in lines],
            reason=effect,
            actor=actor.client,
            reference=f"order:{locked.public_id}:{to_status}",
        )
    owners = {line.product_id: line.product.owner_id for line in lines}
    events_record(
        events=order_events(
            "order.status_changed", order=order, owners=owners, lines=lines, extra={"previous_status": locked.status}
        )
    )


_ORDER_WIDTH = len(Order._meta.concrete_fields)


def _changed_order(row: tuple[Any, ...], *, locked: LockedOrder, db: str) -> tuple[Order, list[OrderLine]]:
    """The order and lines ``ORDER_STATUS_SET`` answers: the order with its
    store (id, code) and slot (id, start, end) as the lock read them, the
    lines with their product (id, owner, category); other fields of the
    related rows and of the lines are deferred (read if asked)."""
    width = _ORDER_WIDTH
    order = instance_of_row(Order, row[:width])
    Order.store.field.set_cached_value(
        order, partial_instance(Location, db, id=locked.store_id, code=locked.store_code)
    )
    Order.slot.field.set_cached_value(
        order, partial_instance(PickupSlot, db, id=locked.slot_id, starts_at=locked.starts_at, ends_at=locked.ends_at)
    )
    lines = []
    for line_id, product_id, sku, quantity, unit_price, owner_id, category in json.loads(row[width] or "[]"):
        line = partial_instance(
            OrderLine, db, id=line_id, order_id=order.pk, product_id=product_id, sku=sku, quantity=quantity,
            unit_price_amount=Decimal(unit_price),
        )  # fmt: skip
        OrderLine.order.field.set_cached_value(line, order)
        OrderLine.product.field.set_cached_value(
            line, partial_instance(Product, db, id=product_id, owner_id=owner_id, category=category)
        )
        lines.append(line)
    return order, lines


def _loyalty_effect(*, order: Order, lines: list[OrderLine], to_status: str) -> None:
    reference = f"order:{order.public_id}"
    if to_status == OrderStatus.COLLECTED:
        checkout_collected(
            program_id=order.program_id,  # type: ignore[arg-type]  # checked by the caller
            member_id=order.member_id,
            reference=reference,
            points_to_earn=order.points_to_earn,
            points_spent=order.points_spent,
            store_id=order.store_id,
            categories=[line.product.category for line in lines],
            at=timezone.now(),
        )
    elif to_status in (OrderStatus.CANCELLED, OrderStatus.NO_SHOW):
        checkout_released(member_id=order.member_id, reference=reference, reason=to_status)


def orders_mark_no_show(*, batch: int = 200) -> int:
    """Turn every open order whose slot ended more than the grace time ago
    (database clock) into no_show; each in its own transaction. Safe to run
    twice at once: the order lock makes the second see no_show and skip."""
    changed = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(ORDERS_DUE_NO_SHOW, [DEFAULT_NO_SHOW_GRACE_MINUTES, batch])
            due = [row[0] for row in cursor.fetchall()]
        for order_id in due:
            try:
                changed += order_transition(order_id=order_id, to_status=OrderStatus.NO_SHOW, actor=Actor())
            except TransitionNotAllowed:
                continue  # collected or cancelled meanwhile
        if len(due) < batch:
            return changed
