"""Reads on click-and-collect, scoped to the caller. Another tenant's object
is absent (404), never forbidden.

Who sees which orders: a shopper its own (as customer); a store client those
of its store; the operator all; partners and devices none. Collected orders
as sales (``collected_orders``) are read by the project itself (footfall),
not by a caller."""

import datetime as dt
import json
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import IntegerField, Model, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Now

from commerce.errors import ObjectNotFound
from commerce.models import Order, OrderLine, OrderStatus, OrderStatusChange, PickupSlot, SlotHold, SlotSchedule
from commerce.sql.orders import ORDER_DETAIL, ORDER_PK_VISIBLE
from commerce.sql.slots import REMAINING_OF_SLOT_ROWS
from gateway.sql import instance_of_row, partial_instance
from inventory.models import Location, LocationKind
from inventory.selectors import store_id_of_caller
from loyalty.models import Member, Program, SourceKind
from loyalty.selectors.redemptions import source_redemptions
from partners.callers import Caller
from partners.models import ApiClient, CallerKind


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


def order_scope(*, caller: Caller) -> tuple[int | None, int | None] | None:
    """The orders a caller sees, as (customer id, store id), each None when it
    does not limit; None when the caller sees no order. The one rule of
    ``orders_visible_to`` and of the plain reads of one order below."""
    if caller.kind == CallerKind.SHOPPER:
        return (caller.user_id, None) if caller.user_id else None
    allowed = staff_store_id(caller=caller)
    if allowed is None:
        return (None, None)
    return (None, allowed) if allowed else None


def orders_visible_to(*, caller: Caller) -> QuerySet[Order]:
    orders = Order.objects.select_related("store", "slot")
    scope = order_scope(caller=caller)
    if scope is None:
        return orders.none()
    customer_id, store_id = scope
    if customer_id is not None:
        orders = orders.filter(customer_id=customer_id)
    if store_id is not None:
        orders = orders.filter(store_id=store_id)
    return orders


def _visible_order_row(sql: str, *, caller: Caller, order_id: uuid.UUID) -> tuple[Any, ...]:
    """The row ``sql`` reads of one order the caller sees (params: order,
    customer, store: ``order_scope``), or ObjectNotFound."""
    scope = order_scope(caller=caller)
    if scope is None:
        raise ObjectNotFound()
    with connection.cursor() as cursor:
        cursor.execute(sql, {"order": order_id, "customer": scope[0], "store": scope[1]})
        row = cursor.fetchone()
    if row is None:
        raise ObjectNotFound()
    return tuple(row)


def order_pk(*, caller: Caller, order_id: uuid.UUID) -> int:
    """The primary key of an order the caller sees (ObjectNotFound otherwise):
    what a status change needs before it locks the order. One plain statement
    with the condition of ``orders_visible_to``."""
    pk: int = _visible_order_row(ORDER_PK_VISIBLE, caller=caller, order_id=order_id)[0]
    return pk


def order_get(*, caller: Caller, order_id: uuid.UUID) -> Order:
    """One order with its lines and status history, read by one plain
    statement (with the condition of ``orders_visible_to``): the ORM's
    compilation of the order, lines and history queries cost more than the
    rest of an order detail or a status change. The order comes with its
    store (id, code), slot (id, start, end), program (id, code) and member
    (id, card number), its lines and history prefetched, each history row
    with its actor client (id, kind, client id); other fields of the related
    rows are deferred (read if asked)."""
    order = _order_from_row(_visible_order_row(ORDER_DETAIL, caller=caller, order_id=order_id), db=connection.alias)
    if order.program_id is not None:
        order.redemptions = source_redemptions(  # type: ignore[attr-defined]  # read by the output serializer
            source_kind=SourceKind.ORDER, source_reference=f"order:{order.public_id}"
        )
    return order


_ORDER_WIDTH = len(Order._meta.concrete_fields)
_LINE_FIELDS = [field.attname for field in OrderLine._meta.concrete_fields]
# What JSON cannot carry as the ORM gives it: numerics (sent as text) and uuids.
_FROM_JSON: dict[str, Callable[[Any], Any]] = {"DecimalField": Decimal, "UUIDField": uuid.UUID}
_LINE_CONVERTERS = [
    (index, _FROM_JSON[kind])
    for index, field in enumerate(OrderLine._meta.concrete_fields)
    if (kind := getattr(field, "target_field", field).get_internal_type()) in _FROM_JSON
]
# In the model's field order, as Model.from_db reads them.
_CHANGE_FIELDS = ["id", "order_id", "from_status", "to_status", "at", "actor_client_id", "actor_user_id", "reason"]


def _order_from_row(row: tuple[Any, ...], *, db: str) -> Order:
    """The instances ``ORDER_DETAIL``'s row describes, related as the ORM's
    select_related and prefetch_related relate them."""
    width = _ORDER_WIDTH
    order = instance_of_row(Order, row[:width])
    store_code, starts_at, ends_at, program_code, card_number, lines_json, history_json = row[width:]
    _cache(order, "store", partial_instance(Location, db, id=order.store_id, code=store_code))
    _cache(order, "slot", partial_instance(PickupSlot, db, id=order.slot_id, starts_at=starts_at, ends_at=ends_at))
    program = (
        None if order.program_id is None else partial_instance(Program, db, id=order.program_id, code=program_code)
    )
    member = (
        None if order.member_id is None else partial_instance(Member, db, id=order.member_id, card_number=card_number)
    )
    _cache(order, "program", program)
    _cache(order, "member", member)
    lines = []
    for values in json.loads(lines_json) if lines_json else []:
        for index, convert in _LINE_CONVERTERS:
            if values[index] is not None:
                values[index] = convert(values[index])
        line = OrderLine.from_db(db, _LINE_FIELDS, values)
        _cache(line, "order", order)
        lines.append(line)
    history = []
    for change_id, from_status, to_status, at, client_id, user_id, reason, kind, client_key in (
        json.loads(history_json) if history_json else []
    ):
        change = OrderStatusChange.from_db(
            db,
            _CHANGE_FIELDS,
            [change_id, order.id, from_status, to_status, dt.datetime.fromisoformat(at), client_id, user_id, reason],
        )
        client = (
            None
            if client_id is None
            else partial_instance(ApiClient, db, id=client_id, kind=kind, client_id=client_key)
        )
        _cache(change, "actor_client", client)
        _cache(change, "order", order)
        history.append(change)
    _prefetched(order, "lines", lines)
    _prefetched(order, "history", history)
    return order


def _cache(instance: Model, name: str, related: Model | None) -> None:
    """``related`` as the instance's ``name`` relation, as select_related sets it."""
    instance._meta.get_field(name).set_cached_value(instance, related)  # type: ignore[union-attr]


def _prefetched(order: Order, name: str, rows: list[Any]) -> None:
    """``rows`` as the order's ``name`` relation, as prefetch_related sets it:
    a queryset of that relation whose results are already in hand."""
    manager = getattr(order, name)
    queryset = manager.get_queryset()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    cache = order.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[manager.field.remote_field.cache_name] = queryset


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
