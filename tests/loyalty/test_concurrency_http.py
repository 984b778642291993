"""Coupons under real concurrency over HTTP: crowds of shoppers placing
click-and-collect orders with codes against the served gateway (granian,
two worker processes, each request on its own connection and its own
database session). A single-use code is redeemed once, a money budget is
never overspent, a per-member limit holds when the same member orders from
two apps at once, and every refused order leaves nothing behind."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from commerce.models import Order
from loyalty.models import BudgetCounter, BudgetScope, CouponCode, Redemption, RedemptionState
from tests.commerce.factories import (
    crowd_tokens,
    ledger_matches_levels,
    open_slot,
    shopper_app,
    shopper_token,
    stock_of,
    stocked_product,
    store_with_schedule,
)
from tests.commerce.test_concurrency_http import outcome, post_order
from tests.factories import UserFactory
from tests.loyalty.factories import MemberFactory, ProgramFactory, campaign, code

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

REFUSED = {"409 coupon_used_up", "409 coupon_not_applicable", "409 budget_exhausted"}


def crowd(url: str, tokens: list[str], body: dict[str, Any]) -> Counter[str]:
    with ThreadPoolExecutor(max_workers=64) as pool:
        return Counter(pool.map(lambda token: outcome(post_order(url, token, body, timeout=60)), tokens))


def live(campaign_id: int) -> int:
    return Redemption.objects.filter(
        campaign_id=campaign_id, state__in=[RedemptionState.RESERVED, RedemptionState.CONFIRMED]
    ).count()


def setting(*, capacity: int, on_hand: int) -> tuple[Any, Any, Any]:
    store = store_with_schedule()
    return store, open_slot(store, capacity=capacity), stocked_product(store, on_hand=on_hand, price="12.00")


def test_200_shoppers_on_one_single_use_code_give_one_redemption(gateway_server) -> None:
    # given a single-use code and a slot and stock for everyone
    store, slot, wine = setting(capacity=250, on_hand=500)
    program = ProgramFactory.create()
    offer = campaign(program, amount="5.00")
    code(offer, "UNIQUE-ONE", usage_limit=1)
    body = {
        "slot_id": slot.pk,
        "lines": [{"product_id": wine.pk, "quantity": 1}],
        "loyalty": {"program": program.code, "codes": ["UNIQUE-ONE"]},
    }
    # when 200 shoppers order with it at once
    outcomes = crowd(gateway_server.url, crowd_tokens(shopper_app(), 200), body)
    # then one order has it and every other is refused, with nothing taken
    assert outcomes["201"] == 1, outcomes
    assert set(outcomes) - {"201"} <= REFUSED, outcomes
    assert sum(outcomes.values()) == 200
    assert CouponCode.objects.get(code="UNIQUE-ONE").used_count == 1
    assert live(offer.pk) == 1
    assert Order.objects.filter(slot=slot).count() == 1
    slot.refresh_from_db()
    assert slot.booked == 1
    assert stock_of(store, wine).reserved == 1
    assert ledger_matches_levels()


def test_300_orders_on_a_100_eur_budget_of_10_eur_coupons_take_exactly_10(gateway_server) -> None:
    # given 10 EUR off baskets of 100 EUR, with a money budget of 100 EUR, and 300 shoppers with 120 EUR baskets
    store, slot, wine = setting(capacity=400, on_hand=5000)
    program = ProgramFactory.create()
    offer = campaign(program, min_basket_amount=Decimal("100.00"), budgets=[(BudgetScope.TOTAL, None, "100.00")])
    code(offer, "RUSH10")
    body = {
        "slot_id": slot.pk,
        "lines": [{"product_id": wine.pk, "quantity": 10}],
        "loyalty": {"program": program.code, "codes": ["RUSH10"]},
    }
    # when they all order at once
    outcomes = crowd(gateway_server.url, crowd_tokens(shopper_app(), 300), body)
    # then exactly ten orders carry the discount: the budget is spent to the cent and never beyond
    assert outcomes["201"] == 10, outcomes
    assert set(outcomes) - {"201"} <= REFUSED, outcomes
    counter = BudgetCounter.objects.get(budget__campaign=offer, key="")
    assert (counter.used_count, counter.used_amount) == (10, Decimal("100.00"))
    assert live(offer.pk) == 10
    orders = Order.objects.filter(slot=slot)
    assert orders.count() == 10
    assert all(order.discount_amount == Decimal("10.00") for order in orders)
    slot.refresh_from_db()
    assert slot.booked == 10
    assert stock_of(store, wine).reserved == 100
    assert ledger_matches_levels()


def test_a_per_member_limit_holds_for_one_member_on_two_apps_at_once(gateway_server) -> None:
    # given a member allowed the offer once, signed in on the web shop and the mobile app
    store, slot, wine = setting(capacity=100, on_hand=500)
    program = ProgramFactory.create()
    offer = campaign(program, amount="3.00", budgets=[(BudgetScope.MEMBER, 1, None)])
    code(offer, "ONCE-EACH")
    user = UserFactory.create()
    MemberFactory.create(program=program, user=user)
    tokens = [shopper_token(shopper_app(), user) for _ in range(2)] * 20
    body = {
        "slot_id": slot.pk,
        "lines": [{"product_id": wine.pk, "quantity": 1}],
        "loyalty": {"program": program.code, "codes": ["ONCE-EACH"]},
    }
    # when 40 orders come from both apps at once
    outcomes = crowd(gateway_server.url, tokens, body)
    # then one order has the offer and the others are refused, leaving nothing behind
    assert outcomes["201"] == 1, outcomes
    assert set(outcomes) - {"201"} <= REFUSED, outcomes
    assert live(offer.pk) == 1
    assert Order.objects.filter(slot=slot).count() == 1
    assert stock_of(store, wine).reserved == 1
