"""What inventory's hot reads depend on, for the read cache
(gateway/api/readcache.py): the version keys of an answer and the caller's
visibility class (``inventory.selectors.availability.visibility_class``),
both known without SQL. Two callers of one class always get the same answer,
and no answer is ever served to another class."""

from rest_framework.request import Request

from gateway.api import readcache
from inventory.selectors.availability import Availability, visibility_class
from partners.callers import Caller

# A product answer may be kept this long by the app or a private cache, then revalidated with its ETag.
PRODUCT_MAX_AGE_S = 30
PRODUCT_CACHE_CONTROL = f"private, max-age={PRODUCT_MAX_AGE_S}"


def availability_read(request: Request, caller: Caller, skus: list[str], *, store: str, clock: bool) -> readcache.Read:
    """At ``store`` (its code) the answer depends on the SKUs' stock there and
    at the supply locations. ``clock``: the answer depends on the time (a
    store's today, without ``at``), through the store's date only."""
    day = readcache.quarter_hour() if clock else None
    parts = (readcache.request_key(request), visibility_class(caller=caller), day)
    by_sku = {readcache.sku_level_key(sku, store) for sku in skus} | {readcache.sku_supply_key(sku) for sku in skus}
    return readcache.Read("av", parts, (readcache.LOCATIONS, *sorted(by_sku)))


def near_read(request: Request, caller: Caller, skus: list[str], computed: list[Availability]) -> readcache.Read:
    """Near a point the answer depends on the SKUs' products and on their
    stock at the stores of its reach (``Availability.reach``), which the
    computation appends to ``computed``; until one was computed, or past
    REACH_MAX stores, on their stock at every store."""
    parts = (readcache.request_key(request), visibility_class(caller=caller))
    asked = sorted(set(skus))

    def reach_keys() -> tuple[str, ...] | None:
        reach = computed[-1].reach if computed else None
        if reach is None:
            return None
        keys: set[str] = set()
        for sku in asked:
            codes = reach.get(sku, ())  # no active product: no store's stock matters
            if codes is None:
                keys.add(readcache.sku_stores_key(sku))
            else:
                keys.update(readcache.sku_level_key(sku, code) for code in codes)
        return tuple(sorted(keys))

    return readcache.Read(
        "near",
        parts,
        (readcache.LOCATIONS, *(readcache.sku_key(sku) for sku in asked)),
        learn=readcache.Learned(tuple(readcache.sku_stores_key(sku) for sku in asked), reach_keys),
    )


def product_read(request: Request, caller: Caller, product_id: int) -> readcache.Read:
    parts = (readcache.request_key(request), visibility_class(caller=caller))
    return readcache.Read("product", parts, (readcache.product_key(product_id),), PRODUCT_CACHE_CONTROL)


def products_read(request: Request, caller: Caller) -> readcache.Read:
    """A page of the catalogue: any product's change retires every page."""
    parts = (readcache.request_key(request), visibility_class(caller=caller))
    return readcache.Read("products", parts, (readcache.CATALOGUE,), PRODUCT_CACHE_CONTROL)
