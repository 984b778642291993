"""What the discount engine needs to price one basket: the campaigns of the
program that apply without a code, the codes entered, and for each campaign
whether its budget counters (for this member, store and local day) still
have room. One plain statement (``loyalty.sql.OFFER_CAMPAIGNS``) whatever
the number of codes; tests/loyalty/test_offers_sql.py holds it equal to the
ORM selector it replaced."""

import datetime as dt
import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection

from loyalty import pricing
from loyalty.dates import local_date
from loyalty.models import AudienceKind, BudgetScope, CampaignState, Program
from loyalty.pricing import CodeEntry, Offer
from loyalty.sql import OFFER_CAMPAIGNS


def budget_counter_key(scope: str, *, member_id: int | None, store_id: int | None, day: dt.date) -> str | None:
    """The key of the counter a budget of ``scope`` keeps for a basket: "" for
    a total, ``m<member>``, ``s<store>`` (``s-`` without one), ``d<local
    date>``; None for a per-member budget of an anonymous basket."""
    if scope == BudgetScope.TOTAL:
        return ""
    if scope == BudgetScope.MEMBER:
        return f"m{member_id}" if member_id is not None else None
    if scope == BudgetScope.STORE:
        return f"s{store_id}" if store_id is not None else "s-"
    return f"d{day.isoformat()}"


@dataclass(frozen=True)
class _Budget:
    """A budget of a campaign and what its counter concerned (for this
    basket) has used: nothing when it has no counter yet."""

    id: int
    scope: str
    limit_count: int | None
    limit_amount: Decimal | None
    used_count: int
    used_amount: Decimal


def _budget_room(budgets: Iterable[_Budget]) -> tuple[bool, Decimal | None]:
    """(a counter concerned is full, the least money any of them has left)."""
    full, money = False, None
    for budget in budgets:
        if budget.limit_count is not None and budget.used_count >= budget.limit_count:
            full = True
        if budget.limit_amount is not None:
            left = budget.limit_amount - budget.used_amount
            money = left if money is None else min(money, left)
            full = full or left <= 0
    return full, money


def state_at(state: str, ended_at: dt.datetime | None, at: dt.datetime) -> str:
    """A campaign's state as it was at ``at``: an ended campaign was still
    live before it ended (a late till ticket rung up inside its window
    counts; ``ends_at`` still bounds it)."""
    if state == CampaignState.ENDED and ended_at is not None and at < ended_at:
        return CampaignState.ACTIVE
    return state


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
    ticket would have got, to tell the offers it lost to a spent budget).
    One statement (``loyalty.sql.OFFER_CAMPAIGNS``): the campaigns, their
    stores, audiences, budgets with their counters, and the codes."""
    texts = list(dict.fromkeys(codes))
    day = local_date(at, program.time_zone)
    keys = {
        scope: key
        for scope in BudgetScope.values
        if (key := budget_counter_key(scope, member_id=member_id, store_id=store_id, day=day)) is not None
    }
    with connection.cursor() as cursor:
        cursor.execute(
            OFFER_CAMPAIGNS,
            {"program": program.pk, "codes": [t.upper() for t in texts], "at": at, "member": member_id, "day": day,
             "scopes": list(keys), "keys": list(keys.values())},
        )  # fmt: skip
        rows = cursor.fetchall()
    offers: dict[int, Offer] = {}
    automatic: list[Offer] = []
    found: dict[str, tuple[int, int | None, bool]] = {}  # code -> (campaign, member, uses left)
    for row in rows:
        (pk, name, benefit, starts_at, ends_at, state, ended_at, requires_code, weekdays, hours_from, hours_to,
         audience, min_basket, eligible_skus, eligible_categories, eligible_owner_id, amount, percent, cap,
         max_units, multiplier, exclusive, stacking_class, combinable_with, priority, is_automatic, store_ids,
         in_audience, budget_ids, scopes, limit_counts, limit_amounts, used_counts, used_amounts,
         code_texts, code_members, usage_limits, code_uses) = row  # fmt: skip
        if budgets_ignored:
            room: tuple[bool, Decimal | None] = (False, None)
        else:
            room = _budget_room(
                map(_Budget, budget_ids, scopes, limit_counts, limit_amounts, used_counts, used_amounts)
            )
        if pk in unavailable:
            room = (True, room[1])
        offer = Offer(
            campaign_id=pk,
            name=name,
            benefit=benefit,
            starts_at=starts_at,
            ends_at=ends_at,
            zone=program.time_zone,
            state=state_at(state, ended_at, at),
            requires_code=requires_code,
            weekdays=weekdays,
            hours_from=hours_from,
            hours_to=hours_to,
            store_ids=frozenset(store_ids),
            audience=(
                None
                if audience == AudienceKind.ALL
                else frozenset({member_id})
                if member_id is not None and in_audience
                else frozenset()
            ),
            min_basket=min_basket,
            eligible_skus=frozenset(_json(eligible_skus)),
            eligible_categories=frozenset(_json(eligible_categories)),
            eligible_owner_id=eligible_owner_id,
            amount=amount,
            percent=percent,
            cap=cap,
            max_units=max_units,
            multiplier=multiplier,
            exclusive=exclusive,
            stacking_class=stacking_class,
            combinable_with=frozenset(_json(combinable_with)),
            priority=priority,
            budget_used_up=room[0],
            money_left=room[1],
        )
        offers[pk] = offer
        if is_automatic:
            automatic.append(offer)
        for text, owner, limit, used in zip(code_texts, code_members, usage_limits, code_uses, strict=True):
            found[text] = (pk, owner, limit is None or used < limit)
    entries = []
    for text in texts:
        entered = found.get(text.upper())
        if entered is None:
            entries.append(CodeEntry(text, None))
            continue
        campaign_id, owner, uses_left = entered
        entries.append(CodeEntry(text, offers[campaign_id], owner, uses_left))
    return automatic, entries


def _json(value: Any) -> Any:
    """A JSON column read by a plain statement (text with Django's psycopg setup)."""
    return json.loads(value) if isinstance(value, str) else value


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
