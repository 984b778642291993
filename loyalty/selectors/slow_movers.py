"""Slow movers: the products a store holds too much of for what it sells.

For every product on hand at a store, the units sold over the last
``SALES_WINDOW_DAYS`` days (the stock ledger's sale movements and the till
tickets, ``loyalty.sql.STORE_STOCK_SALES``) give the average daily sales and
the days of cover (on hand / average daily sales; none when nothing sold in
the window: the cover is infinite), and the last sale gives the days since
(local dates in the store's zone; none when never sold). A product is slow
when its cover or its days since the last sale reach the thresholds. Its
excess is what it holds beyond ``target_days_cover`` days of its sales, and
that excess's value at the catalogue price sizes a clearance campaign."""

import datetime as dt
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from inventory.models import Location
from loyalty.dates import local_date
from loyalty.sql import STORE_STOCK_SALES

# Four whole weeks: every weekday counts the same number of times, so a
# store's weekly rhythm (busy Saturdays) does not bias the daily average.
SALES_WINDOW_DAYS = 28
# About two months of stock for a grocery line is what buyers call dead
# stock; three weeks without a single sale is the usual delisting review.
DEFAULT_MIN_DAYS_COVER = 60
DEFAULT_MIN_DAYS_SINCE_SALE = 21
# A clearance aims to bring the stock back to four weeks of sales.
DEFAULT_TARGET_DAYS_COVER = 28


@dataclass(frozen=True)
class ProductFigures:
    """One product's stock and sales at one store (``None`` days: infinite)."""

    product_id: int
    sku: str
    name_fr: str
    name_en: str
    category: str
    owner_id: int | None
    price: Decimal
    currency: str
    on_hand: int
    units_sold: int
    average_daily_sales: Decimal
    days_of_cover: Decimal | None
    last_sold_at: dt.datetime | None
    days_since_last_sale: int | None
    stock_value: Decimal
    excess_units: int
    excess_value: Decimal

    def is_slow(self, *, min_days_cover: int, min_days_since_sale: int) -> bool:
        cover_high = self.days_of_cover is None or self.days_of_cover >= min_days_cover
        idle = self.days_since_last_sale is None or self.days_since_last_sale >= min_days_since_sale
        return cover_high or idle


@dataclass(frozen=True)
class SlowMovers:
    """The slow movers of a store as of an instant, most excess value first."""

    store: Location
    as_of: dt.datetime
    min_days_cover: int
    min_days_since_sale: int
    target_days_cover: int
    products: list[ProductFigures]


def store_product_figures(
    *, store: Location, as_of: dt.datetime, target_days_cover: int = DEFAULT_TARGET_DAYS_COVER
) -> list[ProductFigures]:
    """Every active product the store holds (on hand above zero), by SKU."""
    window_from = as_of - dt.timedelta(days=SALES_WINDOW_DAYS)
    params: dict[str, Any] = {
        "store": store.pk,
        "stores": [store.pk],
        "since": None,
        "window_from": window_from,
        "until": as_of,
    }
    with connection.cursor() as cursor:
        cursor.execute(STORE_STOCK_SALES, params)
        rows = cursor.fetchall()
    today = local_date(as_of, store.time_zone)
    return [_figures(row, store=store, today=today, target_days_cover=target_days_cover) for row in rows]


def _figures(row: tuple[Any, ...], *, store: Location, today: dt.date, target_days_cover: int) -> ProductFigures:
    product_id, sku, name_fr, name_en, category, price, currency, owner_id, on_hand, units, last_sold_at = row
    average = (Decimal(units) / SALES_WINDOW_DAYS).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    cover = (
        (Decimal(on_hand) * SALES_WINDOW_DAYS / units).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        if units
        else None
    )
    since = (today - local_date(last_sold_at, store.time_zone)).days if last_sold_at is not None else None
    # The units four weeks of sales need, rounded up: a product that sells at all keeps at least one.
    kept = math.ceil(units * target_days_cover / SALES_WINDOW_DAYS)
    excess = max(0, on_hand - kept)
    return ProductFigures(
        product_id=product_id,
        sku=sku,
        name_fr=name_fr,
        name_en=name_en,
        category=category,
        owner_id=owner_id,
        price=price,
        currency=currency,
        on_hand=on_hand,
        units_sold=units,
        average_daily_sales=average,
        days_of_cover=cover,
        last_sold_at=last_sold_at,
        days_since_last_sale=since,
        stock_value=price * on_hand,
        excess_units=excess,
        excess_value=price * excess,
    )


def slow_movers_at(
    *,
    store: Location,
    min_days_cover: int = DEFAULT_MIN_DAYS_COVER,
    min_days_since_sale: int = DEFAULT_MIN_DAYS_SINCE_SALE,
    target_days_cover: int = DEFAULT_TARGET_DAYS_COVER,
    as_of: dt.datetime | None = None,
) -> SlowMovers:
    """The store's slow movers, most excess value first (then by SKU). The
    caller has already resolved ``store`` among the locations it may see."""
    as_of = as_of or timezone.now()
    figures = store_product_figures(store=store, as_of=as_of, target_days_cover=target_days_cover)
    slow = [f for f in figures if f.is_slow(min_days_cover=min_days_cover, min_days_since_sale=min_days_since_sale)]
    slow.sort(key=lambda f: (-f.excess_value, f.sku, f.product_id))
    return SlowMovers(
        store=store,
        as_of=as_of,
        min_days_cover=min_days_cover,
        min_days_since_sale=min_days_since_sale,
        target_days_cover=target_days_cover,
        products=slow,
    )
