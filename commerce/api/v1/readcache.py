"""What a store's open pickup slots depend on, for the read cache
(gateway/api/readcache.py): the version of each store-local day asked
(bumped by every booking, hold, hold given back or expired, cancellation,
capacity change and release of that day: commerce/services/slots.py,
schedules.py, release.py) and of the locations, the caller's visibility class
(which stores a code may name for it) and the minute (slots start, holds
expire and days are released as the clock moves, on whole minutes).

The versions of a day need the store's id and zone before any SQL: each
process keeps them per (visibility class, code) in ``STORES``, valid while the
epoch and the locations' version it read them under hold; a miss lists the
slots with the store so kept, without reading it again."""

import datetime as dt
from collections.abc import Callable
from typing import NamedTuple

from rest_framework.request import Request

from gateway.api import readcache
from gateway.api.params import date_range_params
from inventory.local_time import zone
from inventory.selectors.availability import visibility_class
from partners.callers import Caller

STORES = readcache.Memo()


class SlotStore(NamedTuple):
    """What a slot list needs of its store: its id, code and time zone."""

    id: int
    code: str
    time_zone: str


def slots_read(
    request: Request,
    caller: Caller,
    code: str,
    *,
    resolve: Callable[[], SlotStore],
    max_days: int,
    default_days: int,
) -> tuple[readcache.Read, Callable[[], SlotStore]] | None:
    """The cached read of ``GET /pickup-slots`` for the store ``code``, and
    what gives its store to a miss (the kept one; read again if the read
    found it stale), or None when it cannot be cached (the cache is off or
    out of reach, or the store is named by its deprecated numeric id).
    ``resolve`` reads the store (SQL, and its 400 for an unknown code)."""
    if not readcache.enabled() or code.isdigit():
        return None
    visibility = visibility_class(caller=caller)
    name = (visibility, code)
    memo = STORES.get(name)
    if memo is None:
        guard = readcache.VERSIONS.read([readcache.LOCATIONS])
        if guard is None:
            return None
        facts = resolve()
        STORES.put(name, guard, facts)
    else:
        guard, facts = memo
    store: SlotStore = facts
    today = dt.datetime.now(dt.UTC).astimezone(zone(store.time_zone)).date()
    first, last = date_range_params(request, max_days=max_days, default_from=today, default_days=default_days)
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    keys = (readcache.LOCATIONS, *(readcache.slot_day_key(store.id, day) for day in days))
    parts = (readcache.request_key(request), visibility, store.id, readcache.minute())
    stale: list[bool] = []

    def drop() -> None:
        STORES.drop(name)
        stale.append(True)

    def current() -> SlotStore:
        return resolve() if stale else store

    return readcache.Read("slots", parts, keys, guard=guard, stale=drop), current
