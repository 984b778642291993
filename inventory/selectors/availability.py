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
client at its own store; everyone else sees at most the cap."""

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils.translation import get_language

from inventory.models import Location, LocationKind
from inventory.opening_hours import delivery_date, local_date
from inventory.selectors.callers import store_id_of_caller
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


_NEAR_SQL = """
WITH p AS (
    SELECT id, sku, owner_id, name_fr, name_en FROM inventory_product WHERE sku = ANY(%(skus)s) AND is_active
), candidates AS (
    SELECT id, code, name, owner_id, latitude::float8 AS lat, longitude::float8 AS lng
    FROM inventory_location
    WHERE kind = 'store' AND is_active AND click_and_collect
      AND latitude BETWEEN %(lat_min)s AND %(lat_max)s AND longitude BETWEEN %(lng_min)s AND %(lng_max)s
), hits AS (
    SELECT s.product_id, c.id AS location_id, c.code, c.name, c.owner_id, s.available,
           2 * %(earth)s * asin(sqrt(
               power(sin(radians(c.lat - %(lat)s) / 2), 2)
               + cos(radians(%(lat)s)) * cos(radians(c.lat)) * power(sin(radians(c.lng - %(lng)s) / 2), 2)
           )) AS km
    FROM candidates c
    JOIN inventory_stocklevel s ON s.location_id = c.id AND s.product_id IN (SELECT id FROM p) AND s.available > 0
), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY product_id ORDER BY km, code) AS position
    FROM hits WHERE km <= %(radius)s
)
SELECT p.id, p.sku, p.name_fr, p.name_en, p.owner_id,
       r.location_id, r.code, r.name, r.owner_id, r.available, r.km
FROM p LEFT JOIN ranked r ON r.product_id = p.id AND r.position <= %(limit)s
ORDER BY p.sku, p.id, r.position
"""


def availability_near(
    *, caller: Caller, skus: list[str], lat: float, lng: float, radius_km: float, limit: int
) -> dict[str, Any]:
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
    }
    with connection.cursor() as cursor:
        cursor.execute(_NEAR_SQL, params)
        rows = cursor.fetchall()
    seen = visibility_of(caller=caller)
    results = _group(rows)
    for product_row, locations in _rows_by_product(rows):
        results[product_row].extend(
            {
                "code": code,
                "name": name,
                "kind": LocationKind.STORE.value,
                "distance_km": round(km, 3),
                "available": seen.shown(available, location_id, owner_id),
            }
            for location_id, code, name, owner_id, available, km in locations
        )
    return _answer(
        skus,
        results,
        seen,
        {"mode": "near", "near": {"latitude": lat, "longitude": lng, "radius_km": radius_km}, "store": None},
    )


_STORE_SQL = """
WITH p AS (
    SELECT id, sku, owner_id, name_fr, name_en FROM inventory_product WHERE sku = ANY(%(skus)s) AND is_active
), hits AS (
    SELECT s.product_id, l.id AS location_id, l.code, l.name, l.kind, l.owner_id, l.lead_time_days, s.available,
           row_number() OVER (
               PARTITION BY s.product_id ORDER BY l.id <> %(store)s, l.lead_time_days, s.available DESC, l.code
           ) AS position
    FROM inventory_stocklevel s
    JOIN inventory_location l ON l.id = s.location_id
    WHERE s.product_id IN (SELECT id FROM p)
      AND (l.id = %(store)s OR (l.kind <> 'store' AND l.is_active AND s.available > 0))
)
SELECT p.id, p.sku, p.name_fr, p.name_en, p.owner_id,
       h.location_id, h.code, h.name, h.kind, h.owner_id, h.lead_time_days, h.available
FROM p LEFT JOIN hits h ON h.product_id = p.id AND h.position <= %(limit)s
ORDER BY p.sku, p.id, h.position
"""


def availability_at_store(
    *, caller: Caller, skus: list[str], store: Location, at: dt.datetime, limit: int
) -> dict[str, Any]:
    """The store's own stock (always listed, 0 when it holds none) and the
    supply locations that can bring each SKU to it, soonest first."""
    with connection.cursor() as cursor:
        cursor.execute(_STORE_SQL, {"skus": skus, "store": store.pk, "limit": limit + 1})
        rows = cursor.fetchall()
    seen = visibility_of(caller=caller)
    results = _group(rows)
    today = local_date(at, store.time_zone)
    for product_row, locations in _rows_by_product(rows):
        entries = results[product_row]
        if not locations or locations[0][0] != store.pk:
            entries.append(_store_entry(store, 0, today))
        for location_id, code, name, kind, owner_id, lead, available in locations:
            if location_id == store.pk:
                entries.append(_store_entry(store, seen.shown(available, location_id, owner_id), today))
                continue
            when = delivery_date(at=at, time_zone=store.time_zone, hours=store.opening_hours, lead_time_days=lead)
            entries.append(
                {
                    "code": code,
                    "name": name,
                    "kind": kind,
                    "source": "supply",
                    "available": seen.shown(available, location_id, owner_id),
                    "lead_time_days": lead,
                    "available_on": when.isoformat() if when else None,
                }
            )
        del entries[limit + 1 :]
    header = {
        "mode": "store",
        "near": None,
        "store": {
            "code": store.code,
            "name": store.name,
            "time_zone": store.time_zone,
            "local_date": today.isoformat(),
        },
    }
    return _answer(skus, results, seen, header)


def _store_entry(store: Location, available: int, today: dt.date) -> dict[str, Any]:
    return {
        "code": store.code,
        "name": store.name,
        "kind": store.kind,
        "source": "store",
        "available": available,
        "lead_time_days": 0,
        "available_on": today.isoformat() if available > 0 else None,
    }


ProductKey = tuple[int, str, str, str, int | None]


def _rows_by_product(rows: list[tuple[Any, ...]]) -> list[tuple[ProductKey, list[tuple[Any, ...]]]]:
    """Rows (product columns first, then location columns or NULLs) grouped per product, order kept."""
    grouped: dict[ProductKey, list[tuple[Any, ...]]] = {}
    for row in rows:
        locations = grouped.setdefault(row[:5], [])
        if row[5] is not None:
            locations.append(row[5:])
    return list(grouped.items())


def _group(rows: list[tuple[Any, ...]]) -> dict[ProductKey, list[dict[str, Any]]]:
    return {row[:5]: [] for row in rows}


def _answer(
    skus: list[str],
    results: dict[ProductKey, list[dict[str, Any]]],
    seen: Visibility,
    header: dict[str, Any],
) -> dict[str, Any]:
    english = (get_language() or "fr").startswith("en")
    known = {key[1] for key in results}
    order = {sku: position for position, sku in enumerate(skus)}
    products = sorted(results.items(), key=lambda item: (order.get(item[0][1], 0), item[0][0]))
    return {
        **header,
        "quantity_cap": None if seen.exact_everywhere else seen.cap,
        "results": [
            {
                "sku": sku,
                "product_id": product_id,
                "name": name_en if english and name_en else name_fr,
                "locations": locations,
            }
            for (product_id, sku, name_fr, name_en, _owner), locations in products
        ],
        "unknown_skus": [sku for sku in skus if sku not in known],
    }


def availability_store_get(*, code: str) -> Location | None:
    """The store an availability question is about: any active store of the retailer."""
    return Location.objects.filter(code=code, kind=LocationKind.STORE, is_active=True, owner__isnull=True).first()
