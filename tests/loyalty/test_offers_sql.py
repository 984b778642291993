"""``offers_for_basket`` reads the campaigns, their stores, audiences,
budgets with their counters and the codes in one plain statement
(``loyalty.sql.OFFER_CAMPAIGNS``). Held here equal to the ORM selector it
replaced (below, as it was) on a program with campaigns of every kind: live
automatic ones and ones by code, windows not open or over, an ended one
still live before its end, paused and draft ones, weekdays and hours, store
lists, list and category audiences (with and without audience stores),
budgets of every scope spent or not, codes of a member, used up, unknown, of
another program; for anonymous baskets and members, at several stores and
instants, with campaigns unavailable and budgets ignored."""

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, Prefetch, Q
from django.test.utils import CaptureQueriesContext

from inventory.models import Location
from loyalty.dates import local_date
from loyalty.models import (
    AudienceKind,
    BenefitKind,
    BudgetCounter,
    Campaign,
    CampaignBudget,
    CampaignState,
    CouponCode,
    MemberPurchase,
    Program,
)
from loyalty.pricing import CodeEntry, Offer
from loyalty.selectors.offers import budget_counter_key, offers_for_basket
from tests.factories import LocationFactory
from tests.loyalty.factories import MemberFactory, ProgramFactory, campaign, code

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- the ORM selector, as it was


def _orm_budget_room(
    campaigns: Sequence[Campaign], *, member_id: int | None, store_id: int | None, day: dt.date
) -> dict[int, tuple[bool, Decimal | None]]:
    wanted = {
        (budget.pk, key)
        for target in campaigns
        for budget in target.budgets.all()
        if (key := budget_counter_key(budget.scope, member_id=member_id, store_id=store_id, day=day)) is not None
    }
    condition = Q(pk__in=[])
    for budget_id, key in wanted:
        condition |= Q(budget_id=budget_id, key=key)
    counters = {(c.budget_id, c.key): c for c in BudgetCounter.objects.filter(condition)} if wanted else {}
    room: dict[int, tuple[bool, Decimal | None]] = {}
    for target in campaigns:
        full, money = False, None
        for budget in target.budgets.all():
            key = budget_counter_key(budget.scope, member_id=member_id, store_id=store_id, day=day)
            counter = counters.get((budget.pk, key)) if key is not None else None
            used_count = counter.used_count if counter else 0
            used_amount = counter.used_amount if counter else Decimal(0)
            if budget.limit_count is not None and used_count >= budget.limit_count:
                full = True
            if budget.limit_amount is not None:
                left = budget.limit_amount - used_amount
                money = left if money is None else min(money, left)
                full = full or left <= 0
        room[target.pk] = (full, money)
    return room


def _orm_audience(
    campaign: Campaign, member_id: int | None, today: dt.date, listed: Collection[int] = ()
) -> frozenset[int] | None:
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


def _orm_state_at(campaign: Campaign, at: dt.datetime) -> str:
    if campaign.state == CampaignState.ENDED and campaign.ended_at is not None and at < campaign.ended_at:
        return CampaignState.ACTIVE
    return campaign.state


def _orm_offer_of(
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
        state=_orm_state_at(campaign, at),
        requires_code=campaign.requires_code,
        weekdays=campaign.weekdays,
        hours_from=campaign.hours_from,
        hours_to=campaign.hours_to,
        store_ids=frozenset(s.pk for s in campaign.stores.all()),
        audience=_orm_audience(campaign, member_id, today, listed),
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


def _orm_offers_for_basket(
    *,
    program: Program,
    codes: Iterable[str],
    member_id: int | None,
    store_id: int | None,
    at: dt.datetime,
    unavailable: Collection[int] = (),
    budgets_ignored: bool = False,
) -> tuple[list[Offer], list[CodeEntry]]:
    texts = list(dict.fromkeys(codes))
    found = {
        c.code: c
        for c in CouponCode.objects.filter(code__in=[t.upper() for t in texts], campaign__program=program).only(
            "id", "code", "campaign_id", "member_id", "usage_limit", "used_count"
        )
    }
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
    room = _orm_budget_room(prefetched, member_id=member_id, store_id=store_id, day=day)
    if budgets_ignored:
        room = dict.fromkeys(room, (False, None))
    room.update({pk: (True, room[pk][1]) for pk in unavailable if pk in room})
    offers = {
        c.pk: _orm_offer_of(c, program=program, member_id=member_id, today=day, room=room[c.pk], at=at, listed=listed)
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


# ---------------------------------------------------------------- the data


NOW = dt.datetime(2026, 12, 4, 15, 30, tzinfo=dt.UTC)  # a Friday, 16:30 in Paris


def _counter(target: Campaign, scope: str, key: str, *, count: int, amount: str) -> None:
    budget = CampaignBudget.objects.get(campaign=target, scope=scope)
    BudgetCounter.objects.create(
        budget=budget, key=key, limit_count=budget.limit_count, limit_amount=budget.limit_amount,
        used_count=count, used_amount=Decimal(amount),
    )  # fmt: skip


def _world() -> dict[str, Any]:
    program = ProgramFactory.create()
    other_program = ProgramFactory.create()
    paris, lyon, lille = (LocationFactory.create(code=c) for c in ("PAR01", "LYO01", "LIL01"))
    listed, buyer, stranger = (MemberFactory.create(program=program) for _ in range(3))
    day = local_date(NOW, program.time_zone)
    MemberPurchase.objects.create(member=buyer, store=paris, category="wine", last_bought_on=day - dt.timedelta(days=5))
    MemberPurchase.objects.create(
        member=buyer, store=lyon, category="cheese", last_bought_on=day - dt.timedelta(days=40)
    )
    MemberPurchase.objects.create(
        member=listed, store=lille, category="wine", last_bought_on=day - dt.timedelta(days=1)
    )
    window: dict[str, Any] = {"starts_at": NOW - dt.timedelta(days=3), "ends_at": NOW + dt.timedelta(days=3)}
    auto = lambda **kw: campaign(program, requires_code=False, **{**window, **kw})  # noqa: E731
    # automatic: plain, with stores, budgets of every scope (spent or not), hours and weekdays
    auto(name_fr="Plain", eligible_skus=["A", "B"], eligible_categories=["fruit"], combinable_with=["x"])
    in_stores = auto(name_fr="Stores", benefit=BenefitKind.PERCENT_OFF_LINES, amount=None,
                     benefit_percent=Decimal("12.50"), benefit_cap=Decimal("4.00"), priority=3)  # fmt: skip
    in_stores.stores.set([paris, lyon])
    budgeted = auto(name_fr="Budgets", budgets=[("total", 10, "100.00"), ("member", 1, None), ("store", None, "20.00"),
                                                ("day", 5, None)])  # fmt: skip
    _counter(budgeted, "total", "", count=3, amount="30.00")
    _counter(budgeted, "member", f"m{listed.pk}", count=1, amount="10.00")
    _counter(budgeted, "store", f"s{paris.pk}", count=2, amount="20.00")
    _counter(budgeted, "store", "s-", count=1, amount="5.00")
    _counter(budgeted, "day", f"d{day.isoformat()}", count=4, amount="40.00")
    _counter(budgeted, "day", f"d{(day - dt.timedelta(days=1)).isoformat()}", count=5, amount="50.00")
    spent_total = auto(name_fr="Spent", budgets=[("total", 2, None)], benefit=BenefitKind.POINTS_MULTIPLIER,
                       amount=None, benefit_multiplier=Decimal("2.00"))  # fmt: skip
    _counter(spent_total, "total", "", count=2, amount="0.00")
    auto(name_fr="Evenings", hours_from=dt.time(18), hours_to=dt.time(21), weekdays=0b0010000,
         benefit=BenefitKind.AMOUNT_OFF_PRODUCT, benefit_max_units=2, exclusive=True,
         stacking_class="solo")  # fmt: skip
    # audiences
    listing = auto(name_fr="Listed", audience=AudienceKind.LIST)
    listing.audience_members.set([listed])
    auto(name_fr="Wine buyers", audience=AudienceKind.CATEGORY_BUYERS, audience_category="wine", audience_days=30)
    at_paris = auto(name_fr="Wine buyers in Paris", audience=AudienceKind.CATEGORY_BUYERS, audience_category="wine",
                    audience_days=30)  # fmt: skip
    at_paris.audience_stores.set([paris])
    auto(name_fr="Cheese buyers", audience=AudienceKind.CATEGORY_BUYERS, audience_category="cheese", audience_days=30)
    # windows and states
    auto(name_fr="Not yet", starts_at=NOW + dt.timedelta(hours=1))
    auto(name_fr="Over", starts_at=NOW - dt.timedelta(days=9), ends_at=NOW - dt.timedelta(minutes=1))
    auto(name_fr="Ended later", state=CampaignState.ENDED, ended_at=NOW + dt.timedelta(hours=2))
    auto(name_fr="Ended before", state=CampaignState.ENDED, ended_at=NOW - dt.timedelta(hours=2))
    auto(name_fr="Ended, no date", state=CampaignState.ENDED)
    auto(name_fr="Paused", state=CampaignState.PAUSED)
    auto(name_fr="Draft", state=CampaignState.DRAFT)
    campaign(other_program, requires_code=False, name_fr="Other program", **window)
    # by code
    coded = campaign(program, name_fr="Coded", budgets=[("total", 5, None)], **window)
    _counter(coded, "total", "", count=5, amount="50.00")
    code(coded, "PUBLIC10")
    code(coded, "ALSO10")
    unique = campaign(program, name_fr="Unique", audience=AudienceKind.LIST, **window)
    code(unique, "ONCE-1", usage_limit=1, member=listed)
    used = code(unique, "ONCE-2", usage_limit=1)
    CouponCode.objects.filter(pk=used.pk).update(used_count=1)
    code(campaign(program, name_fr="Paused coded", state=CampaignState.PAUSED, **window), "PAUSED5")
    code(campaign(program, name_fr="Over coded", starts_at=NOW - dt.timedelta(days=9),
                  ends_at=NOW - dt.timedelta(days=1)), "OVER5")  # fmt: skip
    code(campaign(program, name_fr="Automatic coded", requires_code=False, **window), "AUTO5")
    code(campaign(other_program, name_fr="Other coded", **window), "OTHER5")
    return {"program": program, "members": [None, listed.pk, buyer.pk, stranger.pk],
            "stores": [None, paris.pk, lyon.pk, lille.pk], "coded": coded.pk, "budgeted": budgeted.pk}  # fmt: skip


CODES = [[], ["public10", "ONCE-1", "ONCE-2", "NOPE", "PUBLIC10"], ["PAUSED5", "OVER5", "AUTO5", "OTHER5", "also10"]]


def test_the_plain_statement_prices_what_the_orm_selector_priced() -> None:
    world = _world()
    program = world["program"]
    instants = [NOW, NOW + dt.timedelta(hours=2, minutes=30), NOW + dt.timedelta(hours=2, minutes=30, days=1),
                NOW - dt.timedelta(days=2, hours=20)]  # fmt: skip
    compared = 0
    for at in instants:
        for member_id in world["members"]:
            for store_id in world["stores"]:
                for codes in CODES:
                    for options in ({}, {"unavailable": {world["coded"], world["budgeted"]}},
                                    {"budgets_ignored": True}):  # fmt: skip
                        args = {"program": program, "codes": codes, "member_id": member_id, "store_id": store_id,
                                "at": at, **options}  # fmt: skip
                        assert offers_for_basket(**args) == _orm_offers_for_basket(**args), args
                        compared += 1
    assert compared == 4 * 4 * 4 * 3 * 3
    # The data reach every branch: automatic offers with and without room, audiences hit and missed, codes found.
    automatic, entries = offers_for_basket(
        program=program, codes=CODES[1], member_id=world["members"][2], store_id=world["stores"][1], at=NOW
    )
    names = {offer.name: offer for offer in automatic}
    assert {"Plain", "Stores", "Budgets", "Spent", "Evenings", "Listed", "Wine buyers", "Wine buyers in Paris",
            "Cheese buyers", "Ended later", "Automatic coded"} == set(names)  # fmt: skip
    assert names["Spent"].budget_used_up
    assert names["Budgets"].budget_used_up
    assert names["Budgets"].money_left == Decimal("0.00")
    assert names["Wine buyers in Paris"].audience == {world["members"][2]}
    assert names["Cheese buyers"].audience == frozenset()
    assert names["Plain"].audience is None
    assert names["Stores"].store_ids == {world["stores"][1], world["stores"][2]}
    assert [(e.text, e.offer.name if e.offer else None, e.uses_left) for e in entries] == [
        ("public10", "Coded", True), ("ONCE-1", "Unique", True), ("ONCE-2", "Unique", False), ("NOPE", None, True),
        ("PUBLIC10", "Coded", True),
    ]  # fmt: skip


def test_one_statement_whatever_the_codes() -> None:
    world = _world()
    with CaptureQueriesContext(connection) as queries:
        offers_for_basket(program=world["program"], codes=CODES[1] + CODES[2], member_id=world["members"][1],
                          store_id=world["stores"][1], at=NOW)  # fmt: skip
    assert len(queries) == 1
