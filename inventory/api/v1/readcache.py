"""What inventory's hot reads depend on, for the read cache
(gateway/api/readcache.py): the version keys of an answer and the caller's
visibility class (``inventory.selectors.availability.visibility_class``),
both known without SQL. Two callers of one class always get the same answer,
and no answer is ever served to another class."""

from rest_framework.request import Request

from gateway.api import readcache
from inventory.selectors.availability import visibility_class
from partners.callers import Caller

# A product answer may be kept this long by the app or a private cache, then revalidated with its ETag.
PRODUCT_MAX_AGE_S = 30
PRODUCT_CACHE_CONTROL = f"private, max-age={PRODUCT_MAX_AGE_S}"


def availability_read(
    request: Request, caller: Caller, skus: list[str], *, store: str | None, clock: bool
) -> readcache.Read:
    """At ``store`` (its code) the answer depends on the SKUs' stock there and
    at the supply locations, near a point on their stock anywhere. ``clock``:
    the answer depends on the time (a store's today, without ``at``)."""
    parts = (readcache.request_key(request), visibility_class(caller=caller), readcache.minute() if clock else None)
    if store is None:
        by_sku = {readcache.sku_key(sku) for sku in skus}
    else:
        by_sku = {readcache.sku_level_key(sku, store) for sku in skus} | {readcache.sku_supply_key(sku) for sku in skus}
    return readcache.Read("av", parts, (readcache.LOCATIONS, *sorted(by_sku)))


def product_read(request: Request, caller: Caller, product_id: int) -> readcache.Read:
    parts = (readcache.request_key(request), visibility_class(caller=caller))
    return readcache.Read("product", parts, (readcache.product_key(product_id),), PRODUCT_CACHE_CONTROL)


def products_read(request: Request, caller: Caller) -> readcache.Read:
    """A page of the catalogue: any product's change retires every page."""
    parts = (readcache.request_key(request), visibility_class(caller=caller))
    return readcache.Read("products", parts, (readcache.CATALOGUE,), PRODUCT_CACHE_CONTROL)
