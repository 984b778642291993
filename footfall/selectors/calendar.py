"""Reads of the stores' calendars (closed, event and holiday days), scoped
to the caller like every footfall read: the operator every store, a store
client its own; another store's day is absent (404)."""

from django.db.models import QuerySet

from footfall.errors import CalendarDayNotFound, StoreNotFound
from footfall.models import StoreCalendarDay
from footfall.selectors import stores_readable_by
from gateway.api.problems import CallerNotAllowed
from inventory.models import Location
from partners.callers import Caller
from partners.models import CallerKind


def calendar_days_visible_to(*, caller: Caller) -> QuerySet[StoreCalendarDay]:
    return StoreCalendarDay.objects.filter(store__in=stores_readable_by(caller=caller)).select_related("store")


def calendar_day_get(*, caller: Caller, day_id: int) -> StoreCalendarDay:
    day = calendar_days_visible_to(caller=caller).filter(pk=day_id).first()
    if day is None:
        raise CalendarDayNotFound
    return day


def store_for_calendar(*, caller: Caller, code: str | None) -> Location:
    """The store whose calendar the caller writes: the operator names any
    store, a store client its own (named or not); devices count, they do
    not keep calendars (403)."""
    if caller.kind == CallerKind.DEVICE:
        raise CallerNotAllowed
    stores = stores_readable_by(caller=caller)
    if code:
        stores = stores.filter(code=code)
    elif caller.is_operator:
        raise StoreNotFound
    store = stores.first()
    if store is None:
        raise StoreNotFound
    return store
