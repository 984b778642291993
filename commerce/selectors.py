"""Reads on click-and-collect, scoped to the caller. Another tenant's object
is absent (404), never forbidden.

Who sees which orders: a shopper its own (as customer); a store client those
of its store; the operator all; partners and devices none. Collected orders
as sales (``collected_orders``) are read by the project itself (footfall),
not by a caller."""

import datetime as dt
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import IntegerField, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Now

from commerce.errors import ObjectNotFound
from commerce.models import Order, OrderStatus, OrderStatusChange, PickupSlot, SlotHold, SlotSchedule
from commerce.sql.slots import REMAINING_OF_SLOT_ROWS
from inventory.models import Location, LocationKind
from inventory.selectors import store_id_of_caller
from loyalty.models import SourceKind
from loyalty.selectors.redemptions import source_redemptions
from partners.callers import Caller
from partners.models import CallerKind


def click_and_collect_store(*, store_id: int, location: Location | None = None) -> Location:
    """A store that takes click-and-collect orders (any caller may look at its
    slots). ``location``: the store's row if the caller already read it."""
    if location is None:
        location = Location.objects.filter(pk=store_id).first()
    if location is None or location.pk != store_id or location.kind != LocationKind.STORE:
        raise ObjectNotFound()
    if not (location.is_active and location.click_and_collect):
        raise ObjectNotFound()
    return location


def pickup_slots_open(
    *, store_id: int, date_from: dt.date, date_to: dt.date, only_available: bool = False
) -> QuerySet[PickupSlot]:
    """Released, open, future slots of a store between two store-local dates,
    with ``remaining``: capacity minus bookings minus live holds (holds past
    their expiry no longer count, even before the sweep gives them back)."""
    slots = PickupSlot.objects.filter(
        store_id=store_id,
        local_date__gte=date_from,
        local_date__lte=date_to,
        release_at__lte=Now(),
        starts_at__gt=Now(),
        is_closed=False,
    )
    slots = with_remaining(slots)
    if only_available:
        slots = slots.filter(Q(remaining__gt=0))
    return slots.order_by("starts_at")


def with_remaining(slots: QuerySet[PickupSlot]) -> QuerySet[PickupSlot]:
    """``slots`` with ``remaining`` (capacity minus bookings minus live holds,
    defined once in ``commerce.sql.slots``)."""
    return slots.annotate(remaining=RawSQL(REMAINING_OF_SLOT_ROWS, (), output_field=IntegerField()))  # noqa: S611  constant SQL


def pickup_slot_open(*, slot_id: int) -> PickupSlot:
    """One released slot of a click-and-collect store (closed or past ones too)."""
    slot = with_remaining(
        PickupSlot.objects.filter(
            pk=slot_id, release_at__lte=Now(), store__is_active=True, store__click_and_collect=True
        ).select_related("store")
    ).first()
    if slot is None:
        raise ObjectNotFound()
    return slot


def staff_store_id(*, caller: Caller) -> int | None:
    """None for the operator (every store), the bound store for a store
    client, 0 (no store) for anyone else."""
    if caller.kind == CallerKind.OPERATOR:
        return None
    if caller.kind == CallerKind.STORE:
        return store_id_of_caller(caller=caller) or 0
    return 0


def store_for_staff(*, caller: Caller, store_id: int) -> Location:
    """A store whose schedule and slots the caller manages (operator: any; store client: its own)."""
    allowed = staff_store_id(caller=caller)
    if allowed is not None and allowed != store_id:
        raise ObjectNotFound()
    store = Location.objects.filter(pk=store_id, kind=LocationKind.STORE).first()
    if store is None:
        raise ObjectNotFound()
    return store


def schedule_for_staff(*, caller: Caller, store_id: int) -> SlotSchedule:
    store = store_for_staff(caller=caller, store_id=store_id)
    schedule = (
        SlotSchedule.objects.filter(store=store).select_related("store").prefetch_related("windows", "exceptions")
    ).first()
    if schedule is None:
        raise ObjectNotFound()
    return schedule


def slot_for_staff(*, caller: Caller, slot_id: int) -> PickupSlot:
    slots = PickupSlot.objects.filter(pk=slot_id)
    allowed = staff_store_id(caller=caller)
    if allowed is not None:
        slots = slots.filter(store_id=allowed)
    slot = slots.first()
    if slot is None:
        raise ObjectNotFound()
    return slot


def orders_visible_to(*, caller: Caller) -> QuerySet[Order]:
    orders = Order.objects.select_related("store", "slot")
    if caller.kind == CallerKind.SHOPPER:
        return orders.filter(customer_id=caller.user_id) if caller.user_id else orders.none()
    allowed = staff_store_id(caller=caller)
    if allowed is None:
        return orders
    return orders.filter(store_id=allowed) if allowed else orders.none()


def order_get(*, caller: Caller, order_id: uuid.UUID) -> Order:
    """One order with its lines and status history."""
    order = (
        orders_visible_to(caller=caller)
        .filter(public_id=order_id)
        .select_related("program", "member")
        .prefetch_related(
            "lines", Prefetch("history", queryset=OrderStatusChange.objects.select_related("actor_client"))
        )
        .first()
    )
    if order is None:
        raise ObjectNotFound()
    if order.program_id is not None:
        order.redemptions = source_redemptions(  # type: ignore[attr-defined]  # read by the output serializer
            source_kind=SourceKind.ORDER, source_reference=f"order:{order.public_id}"
        )
    return order


def slot_order_queue(*, slot: PickupSlot, statuses: list[str] | None) -> QuerySet[Order]:
    """The orders of one slot (from slot_for_staff) to prepare, with their lines and customers, oldest first."""
    orders = (
        Order.objects.filter(slot=slot)
        .select_related("customer", "store", "slot")
        .prefetch_related("lines")
        .order_by("created_at", "pk")
    )
    if statuses:
        orders = orders.filter(status__in=statuses)
    return orders


def orders_filter(
    orders: QuerySet[Order],
    *,
    statuses: list[str] | None = None,
    store_id: int | None = None,
    slot_id: int | None = None,
    updated_since: dt.datetime | None = None,
) -> QuerySet[Order]:
    conditions = Q()
    if statuses:
        conditions &= Q(status__in=statuses)
    if store_id is not None:
        conditions &= Q(store_id=store_id)
    if slot_id is not None:
        conditions &= Q(slot_id=slot_id)
    if updated_since is not None:
        conditions &= Q(updated_at__gte=updated_since)
    return orders.filter(conditions)


@dataclass(frozen=True)
class CollectedOrder:
    """A click-and-collect order handed over to its customer: a sale of
    ``total`` at ``store_id``, at the instant of the ``collected`` status
    (database clock)."""

    order_id: int
    store_id: int
    collected_at: dt.datetime
    total: Decimal
    currency: str


def collected_orders(
    *, public_ids: Collection[uuid.UUID | str] | None = None, after_id: int = 0, limit: int | None = None
) -> list[CollectedOrder]:
    """Orders whose status is ``collected`` (placed, cancelled and no-show
    orders are no sales), by public id, or all of them by ascending id after
    ``after_id`` (``limit`` per page). Two index reads: the orders (primary
    key or public id), then their ``collected`` history rows (order, at)."""
    orders = Order.objects.filter(status=OrderStatus.COLLECTED, pk__gt=after_id).order_by("pk")
    if public_ids is not None:
        orders = orders.filter(public_id__in=list(public_ids))
    rows = list(orders.values_list("pk", "store_id", "total_amount", "currency")[:limit])
    changes = OrderStatusChange.objects.filter(order_id__in=[row[0] for row in rows], to_status=OrderStatus.COLLECTED)
    collected_at: dict[int, dt.datetime] = {}
    for order_id, at in changes.order_by("at").values_list("order_id", "at"):
        collected_at.setdefault(order_id, at)
    return [
        CollectedOrder(order_id=pk, store_id=store_id, collected_at=collected_at[pk], total=total, currency=currency)
        for pk, store_id, total, currency in rows
        if pk in collected_at
    ]


def store_of_slot_or_hold(*, slot_id: int | None, hold_id: uuid.UUID | None) -> int | None:
    """The store a slot (or a hold's slot) is at, read before an order's
    transaction to price its loyalty part; None when there is no such slot
    or hold (booking it then refuses the order)."""
    if hold_id is not None:
        return SlotHold.objects.filter(public_id=hold_id).values_list("slot__store_id", flat=True).first()
    return PickupSlot.objects.filter(pk=slot_id or 0).values_list("store_id", flat=True).first()
