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
from dataclasses import dataclass

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
    OrderStatusChange,
)
from commerce.services.orders import order_events
from commerce.services.slots import slot_unit_return
from commerce.sql.orders import ORDER_STATUS_SET, ORDERS_DUE_NO_SHOW
from gateway.api.instants import instant_text
from inventory.models import MovementReason
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
        cursor.execute(ORDER_STATUS_SET, [to_status, locked.id])
    lines = list(
        OrderLine.objects.filter(order_id=locked.id)
        .select_related("product")
        .only(
            "id", "order_id", "product_id", "sku", "quantity", "unit_price_amount", "product__owner_id",
            "product__category",
        )
    )  # fmt: skip
    order = Order.objects.select_related("store", "slot").get(pk=locked.id)
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
    OrderStatusChange.objects.create(
        order_id=locked.id,
        from_status=locked.status,
        to_status=to_status,
        actor_client=actor.client,
        actor_user_id=actor.user_id,
        reason=reason,
    )
    owners = {line.product_id: line.product.owner_id for line in lines}
    events_record(
        events=order_events(
            "order.status_changed", order=order, owners=owners, lines=lines, extra={"previous_status": locked.status}
        )
    )


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
