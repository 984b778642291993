"""Network availability: where shoppers can get SKUs, read by everyone with
``inventory:read``, in one SQL statement per question.

- near a point: active click-and-collect stores within a radius holding the
  SKU, nearest first. A bounding box on the indexed latitude/longitude picks
  candidates, the haversine distance then decides (no PostGIS needed);
- at a store: the store's own stock, and warehouses and partner stores that
  hold the SKU with the date their lead time brings it to that store, in the
  store's time zone.

Quantities of others are capped (AVAILABILITY_QUANTITY_CAP): the operator
sees exact figures, a partner exact figures at its own locations, a store
client at its own store; everyone else sees at most the cap.

The selectors return data (``Availability``); the API layer
(inventory/api/v1/availability_output.py) writes the answer."""

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection

from gateway.sql import instance_of_row
from inventory.models import Location, LocationKind
from inventory.opening_hours import delivery_date, local_date
from inventory.selectors.callers import store_id_of_caller
from inventory.sql import AVAILABILITY_AT_STORE, AVAILABILITY_NEAR, RETAIL_STORE_BY_CODE
from partners.callers import Caller
from partners.models import CallerKind

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
KM_PER_DEGREE_LATITUDE = 111.32


@dataclass(frozen=True)
class Visibility:
    """Whose exact figures the caller may see."""

    exact_everywhere: bool
    own_partner_id: int | None
    own_store_id: int | None
    cap: int

    def shown(self, available: int, location_id: int, owner_id: int | None) -> int:
        if (
            self.exact_everywhere
            or (self.own_partner_id is not None and owner_id == self.own_partner_id)
            or location_id == self.own_store_id
        ):
            return available
        return min(available, self.cap)


def visibility_of(*, caller: Caller) -> Visibility:
    return Visibility(
        exact_everywhere=caller.is_operator,
        own_partner_id=caller.partner_id if caller.kind == CallerKind.PARTNER else None,
        own_store_id=store_id_of_caller(caller=caller) if caller.kind == CallerKind.STORE else None,
        cap=settings.AVAILABILITY_QUANTITY_CAP,
    )


def visibility_class(*, caller: Caller) -> tuple[Any, ...]:
    """Which callers see the same figures and products as ``caller``, known
    without SQL (the read cache keys answers by it: gateway/api/readcache.py).
    The operator sees exact figures and every product; a partner its own; a
    store client its own store exactly (which store is a binding, whose change
    bumps the cache's ``LOCATIONS`` version); shoppers the capped figures and
    the active catalogue."""
    if caller.is_operator:
        return ("operator",)
    if caller.kind == CallerKind.PARTNER:
        return ("partner", caller.partner_id)
    if caller.kind == CallerKind.STORE:
        return ("store-client", caller.client.pk)
    if caller.kind == CallerKind.SHOPPER:
        return ("capped",)
    return ("kind", caller.kind)


def _bounding_box(lat: float, lng: float, radius_km: float) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """Latitude and longitude bounds of a circle (longitude unbounded near the poles)."""
    d_lat = radius_km / KM_PER_DEGREE_LATITUDE
    cos_lat = math.cos(math.radians(lat))
    d_lng = 180.0 if cos_lat < 0.01 else min(radius_km / (KM_PER_DEGREE_LATITUDE * cos_lat), 180.0)
    low_lng, high_lng = lng - d_lng, lng + d_lng
    if low_lng < -180 or high_lng > 180:  # the box crosses the antimeridian: keep every longitude
        low_lng, high_lng = -180.0, 180.0
    return (
        Decimal(f"{max(lat - d_lat, -90.0):.6f}"),
        Decimal(f"{min(lat + d_lat, 90.0):.6f}"),
        Decimal(f"{low_lng:.6f}"),
        Decimal(f"{high_lng:.6f}"),
    )


@dataclass(frozen=True, slots=True)
class AvailableAt:
    """What one location holds of one product, as the caller may see it.
    Near mode gives ``distance_km``; store mode ``source`` (``store``: the
    store's own stock, ``supply``: a warehouse or partner store),
    ``lead_time_days`` and ``available_on`` (the store-local day the units can
    be collected there, None when none can)."""

    code: str
    name: str
    kind: str
    available: int
    distance_km: float | None = None
    source: str | None = None
    lead_time_days: int | None = None
    available_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class ProductAvailability:
    product_id: int
    sku: str
    name_fr: str
    name_en: str
    locations: list[AvailableAt]


@dataclass(frozen=True, slots=True)
class Availability:
    """The answer to one availability question: the products asked that exist
    (in the order asked), the SKUs of no active product, and the cap on others'
    figures (None: the caller sees exact figures). ``near`` (latitude,
    longitude, radius in km) or ``store`` with its ``local_date`` says which
    question it was."""

    products: list[ProductAvailability]
    unknown_skus: list[str]
    quantity_cap: int | None
    near: tuple[float, float, float] | None = None
    store: Location | None = None
    local_date: dt.date | None = None
    # Near a point: per SKU answered, the codes of the stores whose stock can
    # change its part of the answer (AVAILABILITY_NEAR's reach), or None when
    # more than REACH_MAX are (then any store's may). SKUs of no active
    # product have none.
    reach: dict[str, tuple[str, ...] | None] | None = None


# The most stores a near answer's reach names, per SKU; past it the answer is
# kept under the SKU's stock at every store (the read cache's coarse key).
REACH_MAX = 32


def availability_near(
    *, caller: Caller, skus: list[str], lat: float, lng: float, radius_km: float, limit: int
) -> Availability:
    """Active click-and-collect stores within ``radius_km`` of the point that
    hold each SKU, nearest first, at most ``limit`` per SKU."""
    lat_min, lat_max, lng_min, lng_max = _bounding_box(lat, lng, radius_km)
    params: dict[str, Any] = {
        "skus": skus,
        "lat": lat,
        "lng": lng,
        "radius": radius_km,
        "limit": limit,
        "earth": EARTH_RADIUS_KM,
        "lat_min": lat_min,
        "lat_max": lat_max,
        "lng_min": lng_min,
        "lng_max": lng_max,
        "reach_max": REACH_MAX,
    }
    with connection.cursor() as cursor:
        cursor.execute(AVAILABILITY_NEAR, params)
        rows = cursor.fetchall()
    seen = visibility_of(caller=caller)
    store = LocationKind.STORE.value
    # The reach is the sixth column, the same on every row of a product; a
    # SKU's is its products' together (None if one's is too wide).
    reach: dict[str, set[str] | None] = {}
    for sku, codes in {row[0]: (row[1], row[5]) for row in rows}.values():
        known = reach.get(sku, set())
        reach[sku] = None if codes is None or known is None else known | set(codes)
    products = [
        ProductAvailability(
            product_id,
            sku,
            name_fr,
            name_en,
            [
                AvailableAt(code, name, store, seen.shown(available, location_id, owner_id), round(km, 3))
                for location_id, code, name, owner_id, available, km in locations
            ],
        )
        for (product_id, sku, name_fr, name_en, _owner), locations in _rows_by_product(
            [(*row[:5], *row[6:]) for row in rows]
        )
    ]
    return _availability(
        skus,
        products,
        seen,
        near=(lat, lng, radius_km),
        reach={sku: None if codes is None else tuple(sorted(codes)) for sku, codes in reach.items()},
    )


def availability_at_store(
    *,
    caller: Caller,
    skus: list[str],
    store: Location,
    at: dt.datetime,
    limit: int,
    product_ids: Sequence[int] = (),
) -> Availability:
    """The store's own stock (always listed, 0 when it holds none) and the
    supply locations that can bring each SKU (or each product of
    ``product_ids``) to it, soonest first. Only active products are answered."""
    with connection.cursor() as cursor:
        cursor.execute(
            AVAILABILITY_AT_STORE,
            {"skus": skus, "ids": list(product_ids), "store": store.pk, "limit": limit + 1},
        )
        rows = cursor.fetchall()
    seen = visibility_of(caller=caller)
    today = local_date(at, store.time_zone)
    store_id = store.pk
    # The collection day depends on the lead time only (same store, same instant).
    when_by_lead: dict[int, dt.date | None] = {}
    products = []
    for (product_id, sku, name_fr, name_en, _owner), locations in _rows_by_product(rows):
        entries: list[AvailableAt] = []
        if not locations or locations[0][0] != store_id:
            entries.append(_store_entry(store, 0, today))
        for location_id, code, name, kind, owner_id, lead, available in locations:
            if location_id == store_id:
                entries.append(_store_entry(store, seen.shown(available, location_id, owner_id), today))
                continue
            if lead not in when_by_lead:
                when_by_lead[lead] = delivery_date(
                    at=at, time_zone=store.time_zone, hours=store.opening_hours, lead_time_days=lead
                )
            when = when_by_lead[lead]
            entries.append(
                AvailableAt(code, name, kind, seen.shown(available, location_id, owner_id), None, "supply", lead, when)
            )
        del entries[limit + 1 :]
        products.append(ProductAvailability(product_id, sku, name_fr, name_en, entries))
    return _availability(skus, products, seen, store=store, local_date=today)


def _store_entry(store: Location, available: int, today: dt.date) -> AvailableAt:
    return AvailableAt(
        store.code, store.name, store.kind, available, None, "store", 0, today if available > 0 else None
    )


ProductKey = tuple[int, str, str, str, int | None]


def _rows_by_product(rows: list[tuple[Any, ...]]) -> list[tuple[ProductKey, list[tuple[Any, ...]]]]:
    """Rows (product columns first, then location columns or NULLs) grouped per product, order kept."""
    grouped: dict[ProductKey, list[tuple[Any, ...]]] = {}
    for row in rows:
        locations = grouped.setdefault(row[:5], [])
        if row[5] is not None:
            locations.append(row[5:])
    return list(grouped.items())


def _availability(
    skus: list[str],
    products: list[ProductAvailability],
    seen: Visibility,
    *,
    near: tuple[float, float, float] | None = None,
    store: Location | None = None,
    local_date: dt.date | None = None,
    reach: dict[str, tuple[str, ...] | None] | None = None,
) -> Availability:
    """The products in the order their SKUs were asked (several owners' products
    may share a SKU: then by id), and the SKUs that named none."""
    known = {product.sku for product in products}
    order = {sku: position for position, sku in enumerate(skus)}
    products.sort(key=lambda product: (order.get(product.sku, 0), product.product_id))
    return Availability(
        products=products,
        unknown_skus=[sku for sku in skus if sku not in known],
        quantity_cap=None if seen.exact_everywhere else seen.cap,
        near=near,
        store=store,
        local_date=local_date,
        reach=reach,
    )


def availability_store_get(*, code: str) -> Location | None:
    """The store an availability question is about: any active store of the
    retailer. One plain statement: on a cached answer's miss the ORM's
    compilation of this lookup cost as much as the availability query
    itself; tests/inventory/test_location_visibility.py holds it equal to
    the ORM filter it replaced."""
    with connection.cursor() as cursor:
        cursor.execute(RETAIL_STORE_BY_CODE, {"code": code})
        row = cursor.fetchone()
    return None if row is None else instance_of_row(Location, row)
