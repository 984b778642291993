"""Exact stock levels, scoped to where the caller reads stock
(inventory.selectors.locations.stock_locations_of).

A location holds only its owner's products (the retailer's at its stores
and warehouses, a partner's at the partner's locations), so a SKU at a
location is unambiguous: it is the location owner's product with that SKU."""

import datetime as dt

from django.db.models import QuerySet

from inventory.errors import NotFound, ProductNotFound, StockLevelNotFound
from inventory.models import Location, Product, StockLevel
from inventory.selectors.locations import stock_location_get, stock_locations_of
from inventory.selectors.products import product_get
from partners.callers import Caller
from partners.models import CallerKind

STOCK_READERS = frozenset({CallerKind.OPERATOR, CallerKind.PARTNER, CallerKind.STORE})


def stock_levels_at(*, caller: Caller, code: str, updated_since: dt.datetime | None = None) -> QuerySet[StockLevel]:
    location = stock_location_get(caller=caller, code=code)
    levels = StockLevel.objects.filter(location=location).select_related("product", "location")
    if updated_since is not None:
        levels = levels.filter(updated_at__gte=updated_since)
    return levels


def stock_levels_of_product(
    *, caller: Caller, product_id: int, updated_since: dt.datetime | None = None
) -> QuerySet[StockLevel]:
    if caller.kind not in STOCK_READERS:
        raise NotFound
    product = product_get(caller=caller, product_id=product_id)
    levels = StockLevel.objects.filter(product=product, location__in=stock_locations_of(caller=caller)).select_related(
        "product", "location"
    )
    if updated_since is not None:
        levels = levels.filter(updated_at__gte=updated_since)
    return levels


def product_at_location(*, location: Location, sku: str) -> Product:
    """The product a SKU names at a location: the location owner's."""
    product = Product.objects.filter(owner_id=location.owner_id, sku=sku).first()
    if product is None:
        raise ProductNotFound
    return product


def stock_target_get(*, caller: Caller, code: str, sku: str) -> tuple[Location, Product]:
    """The location and product of ``/locations/{code}/stock/{sku}``, if the caller reads stock there."""
    location = stock_location_get(caller=caller, code=code)
    return location, product_at_location(location=location, sku=sku)


def stock_level_get(*, caller: Caller, code: str, sku: str) -> StockLevel:
    location, product = stock_target_get(caller=caller, code=code, sku=sku)
    level = StockLevel.objects.filter(location=location, product=product).first()
    if level is None:
        raise StockLevelNotFound
    level.location, level.product = location, product
    return level
