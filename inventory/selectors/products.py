"""Which products a caller sees: the operator all of them; a partner only its
own (another partner's product answers 404); stores and shoppers the active
catalogue of everyone."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from inventory.errors import ProductNotFound
from inventory.models import Product
from inventory.selectors.locations import ensure_catalog_editor
from inventory.sql import ORDERABLE_PRODUCTS, PRODUCTS_VISIBLE_BY_SKU
from partners.callers import Caller
from partners.models import CallerKind


def products_visible_to(*, caller: Caller) -> QuerySet[Product]:
    products = Product.objects.select_related("owner")
    if caller.is_operator:
        return products.all()
    if caller.kind == CallerKind.PARTNER:
        return products.filter(owner_id=caller.partner_id)
    if caller.kind in (CallerKind.STORE, CallerKind.SHOPPER):
        return products.filter(is_active=True)
    return products.none()


@dataclass(frozen=True, slots=True)
class VisibleProduct:
    product_id: int
    sku: str
    name_fr: str
    name_en: str
    category: str
    owner_id: int | None  # None: the retailer's own product


def products_visible_by_sku(*, caller: Caller, skus: Sequence[str]) -> list[VisibleProduct]:
    """The products ``skus`` name among those ``products_visible_to`` shows
    the caller (several owners' products may share a SKU), in one plain
    statement: a basket's products are looked up on every recommendation.
    Its condition is the selector's, held equal by
    tests/inventory/test_location_visibility.py for every kind of caller."""
    kind = caller.kind
    if not (caller.is_operator or kind in (CallerKind.PARTNER, CallerKind.STORE, CallerKind.SHOPPER)):
        return []
    params: dict[str, Any] = {
        "skus": sorted(set(skus)),
        "all": caller.is_operator,
        "partner": caller.partner_id if kind == CallerKind.PARTNER else None,
        "active": kind in (CallerKind.STORE, CallerKind.SHOPPER),
    }
    with connection.cursor() as cursor:
        cursor.execute(PRODUCTS_VISIBLE_BY_SKU, params)
        return [VisibleProduct(*row) for row in cursor.fetchall()]


def products_filtered(
    *,
    caller: Caller,
    updated_since: dt.datetime | None = None,
    category: str | None = None,
    owner: str | None = None,
    q: str | None = None,
    sku: str | None = None,
    gtin: str | None = None,
) -> QuerySet[Product]:
    """The list endpoint. ``owner`` ("retailer" or a partner slug) filters for
    the operator; other callers see what they see whatever it says."""
    products = products_visible_to(caller=caller)
    if owner and caller.is_operator:
        products = products.filter(owner__isnull=True) if owner == "retailer" else products.filter(owner__slug=owner)
    if updated_since is not None:
        products = products.filter(updated_at__gte=updated_since)
    if category:
        products = products.filter(category=category)
    if q:
        products = products.filter(Q(name_fr__icontains=q) | Q(name_en__icontains=q))
    if sku:
        products = products.filter(sku=sku)
    if gtin:
        products = products.filter(gtin=gtin)
    return products


def product_get(*, caller: Caller, product_id: int) -> Product:
    product = products_visible_to(caller=caller).filter(pk=product_id).first()
    if product is None:
        raise ProductNotFound
    return product


def product_get_for_edit(*, caller: Caller, product_id: int) -> Product:
    """A product the caller may edit: the operator any (the retailer's
    catalogue only it may edit), a partner its own."""
    ensure_catalog_editor(caller=caller)
    return product_get(caller=caller, product_id=product_id)


@dataclass(frozen=True, slots=True)
class OrderableProduct:
    """What an order line copies from the catalogue when it is placed."""

    product_id: int
    sku: str
    name_fr: str
    name_en: str
    price: Decimal
    currency: str
    owner_id: int | None
    category: str = ""


def orderable_products(*, product_ids: Sequence[int]) -> dict[int, OrderableProduct]:
    """The active products among ``product_ids``, by id (unknown or inactive
    ones are absent). Plain SQL: on the order path the ORM's query
    compilation costs more than the query."""
    with connection.cursor() as cursor:
        cursor.execute(ORDERABLE_PRODUCTS, [list(product_ids)])
        return {row[0]: OrderableProduct(*row) for row in cursor.fetchall()}
