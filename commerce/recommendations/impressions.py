"""What was recommended and what it sold: every recommendations answer is
recorded as shown (its id is the ``recommendation_id`` the app sends back on
the order lines it led to), an order line naming one is attributed to the
offer's kind and source, and the analytics count per source and kind the
offers shown, the orders, units and revenue that came from them."""

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.utils.translation import gettext as _

from commerce.recommendations.offers import Offers
from commerce.sql.recommendations import IMPRESSION_INSERT, IMPRESSIONS_BY_SOURCE, IMPRESSIONS_ITEMS, ORDERED_BY_SOURCE
from gateway.api.problems import FieldInvalid
from partners.callers import Caller


def impression_record(*, offers: Offers, caller: Caller) -> uuid.UUID | None:
    """Record the answer as shown; None (nothing recorded) when it offers nothing."""
    items = [[o.product_id, o.kind, o.source] for o in (*offers.cross_sell, *offers.upsell)]
    if not items:
        return None
    shown = uuid.uuid4()
    with connection.cursor() as cursor:
        cursor.execute(
            IMPRESSION_INSERT,
            [shown, offers.store.pk, caller.client.pk if caller.client else None, json.dumps(items)],
        )
    return shown


@dataclass(frozen=True)
class Attribution:
    recommendation_id: uuid.UUID
    kind: str
    source: str


def order_line_attributions(lines: Sequence[tuple[int, uuid.UUID | None]]) -> dict[int, Attribution]:
    """For order lines given as (product id, recommendation id or None): by
    line index, the offer each came from. A recommendation id that names no
    answer, or an answer that did not offer that product, is a 422 on
    ``lines.N.recommendation_id``: an order never claims an offer it was not
    shown."""
    wanted = sorted({rid for _product, rid in lines if rid is not None})
    if not wanted:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(IMPRESSIONS_ITEMS, [wanted])
        # Django's psycopg loaders hand jsonb over as text
        shown = {row[0]: json.loads(row[1]) for row in cursor.fetchall()}
    attributions = {}
    for index, (product_id, rid) in enumerate(lines):
        if rid is None:
            continue
        items = shown.get(rid)
        offer = next((item for item in items or [] if item[0] == product_id), None)
        if offer is None:
            raise FieldInvalid(
                f"lines.{index}.recommendation_id",
                _("No recommendation with this id offered this product."),
                code="not_recommended",
            )
        attributions[index] = Attribution(rid, offer[1], offer[2])
    return attributions


@dataclass
class SourceFigures:
    source: str
    kind: str
    impressions: int = 0
    answers: int = 0
    orders: int = 0
    units: int = 0
    revenue: dict[str, Decimal] = field(default_factory=dict)


def recommendation_analytics(*, since: dt.datetime, until: dt.datetime, store_id: int | None) -> list[SourceFigures]:
    """Per offer source and kind, for the answers shown in [since, until):
    offers shown (impressions) and answers holding one, then the orders
    (neither cancelled nor uncollected), units and revenue (after discounts,
    per currency) of the lines that named those answers."""
    params = {"from": since, "to": until, "store": store_id}
    figures: dict[tuple[str, str], SourceFigures] = {}
    with connection.cursor() as cursor:
        cursor.execute(IMPRESSIONS_BY_SOURCE, params)
        for source, kind, impressions, answers in cursor.fetchall():
            figures[(source, kind)] = SourceFigures(source, kind, impressions=impressions, answers=answers)
        cursor.execute(ORDERED_BY_SOURCE, params)
        for source, kind, currency, orders, units, revenue in cursor.fetchall():
            row = figures.setdefault((source, kind), SourceFigures(source, kind))
            row.orders += orders
            row.units += units
            row.revenue[currency] = revenue
    return sorted(figures.values(), key=lambda row: (row.source, row.kind))
