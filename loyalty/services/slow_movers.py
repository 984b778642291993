"""Clearance campaigns drafted from a store's slow movers.

A draft targets the slow movers holding stock in excess (what they hold
beyond the target cover), priced in the program's currency: percent off
those SKUs, at that store only, automatic (no code) for the members who
bought their categories at that store in the last 90 days. Its money budget
is the excess stock's value times the percentage (the discount clearing
the whole excess would cost), rounded half-up to minor units. The figures it
was drafted from are kept in ``source_figures`` (the report's baseline and
the weekly proposal's ISO week). It stays a draft until an operator
activates it (``POST .../campaigns/{id}/state``).

One category: the live "bought category C in 90 days at the store"
audience. Several: the campaign model names one category per audience, so
the draft lists the members (who consented to targeted offers) who bought
any of them there in those 90 days, as of the draft."""

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gateway.api.instants import instant_text
from gateway.api.money import money_round
from gateway.api.problems import FieldInvalid
from inventory.models import Location, LocationKind
from loyalty.dates import local_date
from loyalty.errors import NoSlowMovers
from loyalty.locks import lock_slow_mover_proposal
from loyalty.models import (
    AudienceKind,
    BenefitKind,
    BudgetScope,
    Campaign,
    CampaignOrigin,
    Member,
    MemberPurchase,
    Program,
)
from loyalty.selectors.slow_movers import (
    DEFAULT_MIN_DAYS_COVER,
    DEFAULT_MIN_DAYS_SINCE_SALE,
    SALES_WINDOW_DAYS,
    ProductFigures,
    SlowMovers,
    slow_movers_at,
)
from loyalty.services.catalog import campaign_create

DEFAULT_PERCENT = Decimal(20)
DEFAULT_DAYS = 14
# Who bought the category recently enough to care: the 90 days.
AUDIENCE_DAYS = 90


def slow_mover_campaign_draft(
    *,
    program: Program,
    store: Location,
    percent: Decimal = DEFAULT_PERCENT,
    days: int = DEFAULT_DAYS,
    skus: Sequence[str] | None = None,
    min_days_cover: int = DEFAULT_MIN_DAYS_COVER,
    min_days_since_sale: int = DEFAULT_MIN_DAYS_SINCE_SALE,
    now: dt.datetime | None = None,
    week: str = "",
) -> Campaign:
    """Draft a clearance campaign for the store's slow movers (all of them, or
    those among ``skus``). Raises ``NoSlowMovers`` when none holds stock in
    excess, and ``FieldInvalid`` on ``skus`` naming a SKU that is not one of
    the store's slow movers."""
    now = now or timezone.now()
    found = slow_movers_at(
        store=store, min_days_cover=min_days_cover, min_days_since_sale=min_days_since_sale, as_of=now
    )
    targets = _targets(found.products, skus, program.currency)
    budget = money_round(sum((t.excess_value for t in targets), Decimal(0)) * percent / 100, program.currency)
    categories = sorted({t.category for t in targets if t.category})
    owners = {t.owner_id for t in targets}
    owner_id = owners.pop() if len(owners) == 1 else None
    fields = {
        "name_fr": f"Déstockage {store.code} : -{percent.normalize():f} %",
        "name_en": f"Clearance at {store.code}: {percent.normalize():f}% off",
        "origin": CampaignOrigin.SLOW_MOVERS,
        "starts_at": now,
        "ends_at": now + dt.timedelta(days=days),
        "requires_code": False,
        "audience": AudienceKind.CATEGORY_BUYERS if len(categories) == 1 else AudienceKind.LIST,
        "audience_category": categories[0] if len(categories) == 1 else "",
        "audience_days": AUDIENCE_DAYS,
        "eligible_skus": sorted({t.sku for t in targets}),
        "eligible_owner_id": owner_id,
        "owner_id": owner_id,
        "benefit": BenefitKind.PERCENT_OFF_LINES,
        "benefit_percent": percent,
        "source_figures": _source_figures(found, targets, percent=percent, budget=budget, week=week),
    }
    with transaction.atomic():
        campaign = campaign_create(
            program=program,
            fields=fields,
            budgets=[{"scope": BudgetScope.TOTAL, "limit_amount": budget}],
            stores=[store],
            audience_stores=[store],
        )
        if campaign.audience == AudienceKind.LIST:
            campaign.audience_members.set(_category_buyers(program, store, categories, now))
    return campaign


def _targets(products: list[ProductFigures], skus: Sequence[str] | None, currency: str) -> list[ProductFigures]:
    if skus:
        slow = {p.sku for p in products}
        unknown = [sku for sku in skus if sku not in slow]
        if unknown:
            raise FieldInvalid(
                "skus",
                _("%(sku)s is not a slow mover at this store.") % {"sku": unknown[0]},
                code="not_a_slow_mover",
            )
        products = [p for p in products if p.sku in set(skus)]
    targets = [p for p in products if p.excess_units > 0 and p.currency == currency]
    if not targets:
        raise NoSlowMovers(_("Nothing at this store holds slow-moving stock in excess."))
    return targets


def _category_buyers(program: Program, store: Location, categories: list[str], now: dt.datetime) -> list[int]:
    since = local_date(now, program.time_zone) - dt.timedelta(days=AUDIENCE_DAYS)
    bought = MemberPurchase.objects.filter(store=store, category__in=categories, last_bought_on__gte=since)
    return list(
        Member.objects.filter(
            program=program, is_active=True, consent_targeted_offers=True, pk__in=bought.values("member_id")
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _source_figures(
    found: SlowMovers, targets: list[ProductFigures], *, percent: Decimal, budget: Decimal, week: str
) -> dict[str, object]:
    return {
        "store": found.store.code,
        "as_of": instant_text(found.as_of),
        "week": week,
        "percent": str(percent),
        "budget": str(budget),
        "window_days": SALES_WINDOW_DAYS,
        "min_days_cover": found.min_days_cover,
        "min_days_since_sale": found.min_days_since_sale,
        "target_days_cover": found.target_days_cover,
        "products": [
            {
                "sku": t.sku,
                "product_id": t.product_id,
                "category": t.category,
                "on_hand": t.on_hand,
                "units_sold": t.units_sold,
                "excess_units": t.excess_units,
                "excess_value": str(t.excess_value),
            }
            for t in targets
        ],
    }


def iso_week(instant: dt.datetime) -> str:
    """``2026-W49``: the ISO week of an instant in UTC (beat runs on UTC)."""
    year, week, _weekday = instant.astimezone(dt.UTC).isocalendar()
    return f"{year}-W{week:02d}"


def slow_mover_campaigns_propose(*, now: dt.datetime | None = None) -> list[int]:
    """The weekly proposal: for every active program and every active store,
    a draft for the store's slow movers, once per ISO week (a re-run, or a
    second worker given the same message, finds the week's draft and adds
    nothing: each (program, store, week) is decided under an advisory lock).
    Returns the ids of the drafts made."""
    now = now or timezone.now()
    week = iso_week(now)
    drafted: list[int] = []
    stores = list(Location.objects.filter(kind=LocationKind.STORE, is_active=True).order_by("pk"))
    for program in Program.objects.filter(is_active=True).order_by("pk"):
        for store in stores:
            with transaction.atomic():
                lock_slow_mover_proposal(program_id=program.pk, store_id=store.pk, week=week)
                if _proposed(program, store, week):
                    continue
                try:
                    drafted.append(slow_mover_campaign_draft(program=program, store=store, now=now, week=week).pk)
                except NoSlowMovers:
                    continue
    return drafted


def _proposed(program: Program, store: Location, week: str) -> bool:
    return Campaign.objects.filter(
        program=program,
        origin=CampaignOrigin.SLOW_MOVERS,
        source_figures__store=store.code,
        source_figures__week=week,
    ).exists()
