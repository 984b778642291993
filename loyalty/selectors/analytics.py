"""What campaigns did: the analytics and ERP feed (per campaign, store and
local day) and a campaign's report (units of its products sold during the
campaign against the weeks before).

Who reads them (``loyalty:read``): the operator every campaign; a partner
only the campaigns on its own products (the campaign's owner or its rule's
owning partner is the partner); another partner's campaign is absent (404),
never forbidden. Other callers may not read them at all.

Money counts what was spent: the discount of confirmed redemptions, less
what returns rolled back (a rolled-back redemption keeps the part not given
back). Reserved redemptions are counted apart (not spent yet), released ones
never were. Revenue is the basket amount before discounts of the redemptions
that went through (confirmed or rolled back)."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from gateway.api.problems import CallerNotAllowed
from inventory.models import Location
from loyalty.dates import local_midnight
from loyalty.errors import LoyaltyObjectNotFound
from loyalty.models import BudgetCounter, BudgetScope, Campaign, Redemption, RedemptionState
from loyalty.selectors.slow_movers import SALES_WINDOW_DAYS
from loyalty.sql import ANALYTICS_ROWS, PRODUCT_UNITS_AT_STORES
from partners.callers import Caller
from partners.models import CallerKind

MAX_ANALYTICS_DAYS = 92
MAX_ANALYTICS_ROWS = 5000


def campaigns_readable_by(*, caller: Caller) -> QuerySet[Campaign]:
    """The campaigns whose analytics the caller may read."""
    campaigns = Campaign.objects.select_related("program")
    if caller.is_operator:
        return campaigns
    if caller.kind == CallerKind.PARTNER and caller.partner_id is not None:
        return campaigns.filter(Q(owner_id=caller.partner_id) | Q(eligible_owner_id=caller.partner_id))
    raise CallerNotAllowed(_("Only the operator and partners read campaign analytics."))


def campaign_readable(*, caller: Caller, campaign_id: int) -> Campaign:
    campaign = campaigns_readable_by(caller=caller).filter(pk=campaign_id).first()
    if campaign is None:
        raise LoyaltyObjectNotFound()
    return campaign


@dataclass(frozen=True)
class BudgetFigures:
    """One budget counter: used, and what is left (``None``: no limit)."""

    used_count: int
    used_amount: Decimal
    limit_count: int | None
    limit_amount: Decimal | None

    @property
    def left_count(self) -> int | None:
        return None if self.limit_count is None else self.limit_count - self.used_count

    @property
    def left_amount(self) -> Decimal | None:
        return None if self.limit_amount is None else self.limit_amount - self.used_amount


@dataclass(frozen=True)
class AnalyticsRow:
    campaign_id: int
    store_code: str | None
    day: dt.date
    currency: str
    confirmed: int
    reserved: int
    released: int
    rolled_back: int
    discount: Decimal
    revenue: Decimal
    points_earned: int
    points_burned: int
    budget_total: BudgetFigures | None
    budget_store: BudgetFigures | None
    budget_day: BudgetFigures | None


def campaign_analytics(
    *,
    caller: Caller,
    first: dt.date,
    last: dt.date,
    campaign_id: int | None = None,
    store: Location | None = None,
    limit: int = MAX_ANALYTICS_ROWS,
) -> list[AnalyticsRow]:
    """Rows per (campaign, store, local day of the program's zone) from
    ``first`` to ``last`` (both included), by campaign, day, store. Budget
    figures are the counters as they stand now: the campaign's total, the
    row's store's and the row's day's (where the campaign has such a budget).
    Rows come by campaign, day, then store code."""
    campaigns = campaigns_readable_by(caller=caller)
    if campaign_id is not None:
        campaigns = campaigns.filter(pk=campaign_id)
    by_zone: dict[str, list[Campaign]] = defaultdict(list)
    for campaign in campaigns.order_by("pk"):
        by_zone[campaign.program.time_zone].append(campaign)
    if campaign_id is not None and not by_zone:
        raise LoyaltyObjectNotFound()
    currency = {c.pk: c.program.currency for group in by_zone.values() for c in group}
    rows: list[tuple[Any, ...]] = []
    for zone, group in sorted(by_zone.items()):
        params: dict[str, Any] = {
            "zone": zone,
            "campaigns": [c.pk for c in group],
            "from_at": local_midnight(first, zone),
            "until": local_midnight(last + dt.timedelta(days=1), zone),
            "store": store.pk if store is not None else None,
            "limit": limit,
        }
        with connection.cursor() as cursor:
            cursor.execute(ANALYTICS_ROWS, params)
            rows.extend(cursor.fetchall())
    rows.sort(key=lambda r: (r[0], r[2], r[1] or 0))
    rows = rows[:limit]
    counters = _counters([r[0] for r in rows])
    stores = dict(Location.objects.filter(pk__in={r[1] for r in rows if r[1]}).values_list("pk", "code"))
    found = [_row(row, currency, counters, stores) for row in rows]
    return sorted(found, key=lambda r: (r.campaign_id, r.day, r.store_code or ""))


def _counters(campaign_ids: list[int]) -> dict[tuple[int, str, str], BudgetFigures]:
    """(campaign, scope, key) -> figures of the counters of these campaigns."""
    found = BudgetCounter.objects.filter(budget__campaign_id__in=set(campaign_ids)).values_list(
        "budget__campaign_id", "budget__scope", "key", "used_count", "used_amount", "limit_count", "limit_amount"
    )
    return {(c, scope, key): BudgetFigures(uc, ua, lc, la) for c, scope, key, uc, ua, lc, la in found}


def _row(
    row: tuple[Any, ...],
    currency: dict[int, str],
    counters: dict[tuple[int, str, str], BudgetFigures],
    stores: dict[int, str],
) -> AnalyticsRow:
    campaign_id, store_id, day, confirmed, reserved, released, rolled_back, discount, revenue, earned, burned = row
    cid: int = campaign_id
    store_key = f"s{store_id}" if store_id is not None else "s-"
    return AnalyticsRow(
        campaign_id=cid,
        store_code=stores.get(store_id) if store_id is not None else None,
        day=day,
        currency=currency[cid],
        confirmed=confirmed,
        reserved=reserved,
        released=released,
        rolled_back=rolled_back,
        discount=discount,
        revenue=revenue,
        points_earned=earned,
        points_burned=burned,
        budget_total=counters.get((cid, BudgetScope.TOTAL, "")),
        budget_store=counters.get((cid, BudgetScope.STORE, store_key)),
        budget_day=counters.get((cid, BudgetScope.DAY, f"d{day.isoformat()}")),
    )


@dataclass(frozen=True)
class ProductUnits:
    product_id: int
    sku: str
    units_before: int
    units_during: int


@dataclass(frozen=True)
class CampaignReport:
    """Units of the campaign's products sold at its stores during the
    campaign (so far) against the ``SALES_WINDOW_DAYS`` days before it,
    with its redemptions."""

    campaign: Campaign
    store_codes: list[str]
    before_from: dt.datetime
    during_from: dt.datetime
    during_until: dt.datetime
    products: list[ProductUnits]
    confirmed: int
    rolled_back: int
    reserved: int
    discount: Decimal
    revenue: Decimal

    @property
    def units_before(self) -> int:
        return sum(p.units_before for p in self.products)

    @property
    def units_during(self) -> int:
        return sum(p.units_during for p in self.products)

    @property
    def days_before(self) -> Decimal:
        return _days(self.during_from - self.before_from)

    @property
    def days_during(self) -> Decimal:
        return _days(max(self.during_until - self.during_from, dt.timedelta(0)))


def _days(span: dt.timedelta) -> Decimal:
    return (Decimal(span.total_seconds()) / 86400).quantize(Decimal("0.01"))


def campaign_report(*, caller: Caller, campaign_id: int, now: dt.datetime | None = None) -> CampaignReport:
    """The campaign's products are its eligible SKUs held at its stores
    (its slow-mover draft's store when it names none)."""
    now = now or timezone.now()
    campaign = campaign_readable(caller=caller, campaign_id=campaign_id)
    stores = list(campaign.stores.all())
    if not stores and campaign.source_figures.get("store"):
        stores = list(Location.objects.filter(code=campaign.source_figures["store"]))
    end = min(now, campaign.ended_at or campaign.ends_at, campaign.ends_at)
    during_from = campaign.starts_at
    before_from = during_from - dt.timedelta(days=SALES_WINDOW_DAYS)
    products = _product_units(campaign, stores, before_from, during_from, max(end, during_from))
    totals = _redemption_totals(campaign)
    return CampaignReport(
        campaign=campaign,
        store_codes=sorted(s.code for s in stores),
        before_from=before_from,
        during_from=during_from,
        during_until=max(end, during_from),
        products=products,
        **totals,
    )


def _product_units(
    campaign: Campaign, stores: list[Location], before_from: dt.datetime, during_from: dt.datetime, until: dt.datetime
) -> list[ProductUnits]:
    if not stores or not campaign.eligible_skus:
        return []
    params = {
        "stores": [s.pk for s in stores],
        "skus": list(campaign.eligible_skus),
        "owner": campaign.eligible_owner_id,
        "since": before_from,
        "during_from": during_from,
        "until": until,
    }
    with connection.cursor() as cursor:
        cursor.execute(PRODUCT_UNITS_AT_STORES, params)
        return [ProductUnits(*row) for row in cursor.fetchall()]


def _redemption_totals(campaign: Campaign) -> dict[str, Any]:
    spent = Q(state__in=[RedemptionState.CONFIRMED, RedemptionState.ROLLED_BACK])
    totals = Redemption.objects.filter(campaign=campaign).aggregate(
        confirmed=Count("pk", filter=Q(state=RedemptionState.CONFIRMED)),
        rolled_back=Count("pk", filter=Q(state=RedemptionState.ROLLED_BACK)),
        reserved=Count("pk", filter=Q(state=RedemptionState.RESERVED)),
        discount=Coalesce(Sum(F("discount_amount") - F("rolled_back_amount"), filter=spent), Decimal(0)),
        revenue=Coalesce(Sum("basket_amount", filter=spent), Decimal(0)),
    )
    return dict(totals)
