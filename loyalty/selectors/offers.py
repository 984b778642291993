"""What the discount engine needs to price one basket: the campaigns of the
program that apply without a code, the codes entered, and for each campaign
whether its budget counters (for this member, store and local day) still
have room. A fixed number of queries whatever the number of codes."""

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from decimal import Decimal

from django.db.models import BooleanField, ExpressionWrapper, Prefetch, Q

from inventory.models import Location
from loyalty import pricing
from loyalty.dates import local_date
from loyalty.models import (
    AudienceKind,
    BudgetCounter,
    BudgetScope,
    Campaign,
    CampaignState,
    CouponCode,
    MemberPurchase,
    Program,
)
from loyalty.pricing import CodeEntry, Offer


def _counter_key(scope: str, *, member_id: int | None, store_id: int | None, day: dt.date) -> str | None:
    if scope == BudgetScope.TOTAL:
        return ""
    if scope == BudgetScope.MEMBER:
        return f"m{member_id}" if member_id is not None else None
    if scope == BudgetScope.STORE:
        return f"s{store_id}" if store_id is not None else "s-"
    return f"d{day.isoformat()}"


def _budget_room(
    campaigns: Sequence[Campaign], *, member_id: int | None, store_id: int | None, day: dt.date
) -> dict[int, tuple[bool, Decimal | None]]:
    """Per campaign: (a counter concerned is full, the least money any of them
    has left). A counter not created yet has used nothing. One query."""
    wanted = {
        (budget.pk, key)
        for campaign in campaigns
        for budget in campaign.budgets.all()
        if (key := _counter_key(budget.scope, member_id=member_id, store_id=store_id, day=day)) is not None
    }
    condition = Q(pk__in=[])
    for budget_id, key in wanted:
        condition |= Q(budget_id=budget_id, key=key)
    counters = {(c.budget_id, c.key): c for c in BudgetCounter.objects.filter(condition)} if wanted else {}
    room: dict[int, tuple[bool, Decimal | None]] = {}
    for campaign in campaigns:
        full, money = False, None
        for budget in campaign.budgets.all():
            key = _counter_key(budget.scope, member_id=member_id, store_id=store_id, day=day)
            counter = counters.get((budget.pk, key)) if key is not None else None
            used_count = counter.used_count if counter else 0
            used_amount = counter.used_amount if counter else Decimal(0)
            if budget.limit_count is not None and used_count >= budget.limit_count:
                full = True
            if budget.limit_amount is not None:
                left = budget.limit_amount - used_amount
                money = left if money is None else min(money, left)
                full = full or left <= 0
        room[campaign.pk] = (full, money)
    return room


def _audience(
    campaign: Campaign, member_id: int | None, today: dt.date, listed: Collection[int] = ()
) -> frozenset[int] | None:
    """``listed``: the campaigns whose list audience holds the member (read
    once for all of them: a list may hold a million members, never loaded)."""
    if campaign.audience == AudienceKind.ALL:
        return None
    if member_id is None:
        return frozenset()
    if campaign.audience == AudienceKind.LIST:
        return frozenset({member_id}) if campaign.pk in listed else frozenset()
    since = today - dt.timedelta(days=campaign.audience_days)
    purchases = MemberPurchase.objects.filter(
        member_id=member_id, category=campaign.audience_category, last_bought_on__gte=since
    )
    stores = [s.pk for s in campaign.audience_stores.all()]
    if stores:
        purchases = purchases.filter(store_id__in=stores)
    return frozenset({member_id}) if purchases.exists() else frozenset()


def state_at(campaign: Campaign, at: dt.datetime) -> str:
    """The campaign's state as it was at ``at``: an ended campaign was still
    live before it ended (a late till ticket rung up inside its window
    counts; ``ends_at`` still bounds it)."""
    if campaign.state == CampaignState.ENDED and campaign.ended_at is not None and at < campaign.ended_at:
        return CampaignState.ACTIVE
    return campaign.state


def offer_of(
    campaign: Campaign,
    *,
    program: Program,
    member_id: int | None,
    today: dt.date,
    room: tuple[bool, Decimal | None],
    at: dt.datetime,
    listed: Collection[int] = (),
) -> Offer:
    return Offer(
        campaign_id=campaign.pk,
        name=campaign.name_fr,
        benefit=campaign.benefit,
        starts_at=campaign.starts_at,
        ends_at=campaign.ends_at,
        zone=program.time_zone,
        state=state_at(campaign, at),
        requires_code=campaign.requires_code,
        weekdays=campaign.weekdays,
        hours_from=campaign.hours_from,
        hours_to=campaign.hours_to,
        store_ids=frozenset(s.pk for s in campaign.stores.all()),
        audience=_audience(campaign, member_id, today, listed),
        min_basket=campaign.min_basket_amount,
        eligible_skus=frozenset(campaign.eligible_skus),
        eligible_categories=frozenset(campaign.eligible_categories),
        eligible_owner_id=campaign.eligible_owner_id,
        amount=campaign.benefit_amount,
        percent=campaign.benefit_percent,
        cap=campaign.benefit_cap,
        max_units=campaign.benefit_max_units,
        multiplier=campaign.benefit_multiplier,
        exclusive=campaign.exclusive,
        stacking_class=campaign.stacking_class,
        combinable_with=frozenset(campaign.combinable_with),
        priority=campaign.priority,
        budget_used_up=room[0],
        money_left=room[1],
    )


def offers_for_basket(
    *,
    program: Program,
    codes: Iterable[str],
    member_id: int | None,
    store_id: int | None,
    at: dt.datetime,
    unavailable: Collection[int] = (),
    budgets_ignored: bool = False,
) -> tuple[list[Offer], list[CodeEntry]]:
    """The program's offers that apply without a code (live at ``at``) and
    an entry for each code (unknown codes and codes of another program have
    no offer). ``unavailable`` campaigns are priced as if their budget were
    used up (a till ticket whose reservation of them was just refused);
    ``budgets_ignored``: every budget is priced as having room (what a late
    ticket would have got, to tell the offers it lost to a spent budget)."""
    texts = list(dict.fromkeys(codes))
    found = {
        c.code: c
        for c in CouponCode.objects.filter(code__in=[t.upper() for t in texts], campaign__program=program).only(
            "id", "code", "campaign_id", "member_id", "usage_limit", "used_count"
        )
    }
    # One query for the live automatic offers and the codes' campaigns alike,
    # with only the ids of their stores (a Location row is wide).
    live_automatic = Q(
        Q(state=CampaignState.ACTIVE) | Q(state=CampaignState.ENDED, ended_at__gt=at),
        requires_code=False,
        starts_at__lte=at,
        ends_at__gt=at,
    )
    ids = Location.objects.only("id")
    prefetched = list(
        Campaign.objects.filter(live_automatic | Q(pk__in={c.campaign_id for c in found.values()}), program=program)
        .annotate(automatic=ExpressionWrapper(live_automatic, output_field=BooleanField()))
        .prefetch_related("budgets", Prefetch("stores", queryset=ids), Prefetch("audience_stores", queryset=ids))
        .order_by("pk")
    )
    automatic = [c for c in prefetched if c.automatic]
    lists = [c.pk for c in prefetched if c.audience == AudienceKind.LIST]
    listed = (
        frozenset(
            Campaign.audience_members.through.objects.filter(campaign_id__in=lists, member_id=member_id).values_list(
                "campaign_id", flat=True
            )
        )
        if lists and member_id is not None
        else frozenset()
    )
    day = local_date(at, program.time_zone)
    room = _budget_room(prefetched, member_id=member_id, store_id=store_id, day=day)
    if budgets_ignored:
        room = dict.fromkeys(room, (False, None))
    room.update({pk: (True, room[pk][1]) for pk in unavailable if pk in room})
    offers = {
        c.pk: offer_of(c, program=program, member_id=member_id, today=day, room=room[c.pk], at=at, listed=listed)
        for c in prefetched
    }
    entries = []
    for text in texts:
        entered = found.get(text.upper())
        if entered is None:
            entries.append(CodeEntry(text, None))
            continue
        uses_left = entered.usage_limit is None or entered.used_count < entered.usage_limit
        entries.append(CodeEntry(text, offers[entered.campaign_id], entered.member_id, uses_left))
    return [offers[c.pk] for c in automatic], entries


def basket_price(
    *,
    program: Program,
    store_id: int | None,
    member_id: int | None,
    lines: Sequence[pricing.Line],
    codes: Sequence[str],
    at: dt.datetime,
    unavailable: Collection[int] = (),
    budgets_ignored: bool = False,
) -> tuple[pricing.Basket, pricing.Quote]:
    """Price ``lines`` (prices, categories and owners as the caller read
    them from the catalogue or the till) with the program's live offers and
    the codes entered: what a quote shows and what an order or a ticket then
    reserves. Writes nothing. ``unavailable``, ``budgets_ignored``: see
    ``offers_for_basket``."""
    basket = pricing.Basket(
        currency=program.currency, at=at, store_id=store_id, member_id=member_id, lines=tuple(lines)
    )
    offers, entries = offers_for_basket(
        program=program, codes=codes, member_id=member_id, store_id=store_id, at=at, unavailable=unavailable,
        budgets_ignored=budgets_ignored,
    )  # fmt: skip
    return basket, pricing.quote(basket=basket, offers=offers, codes=entries, earn_rate=program.earn_rate)
