"""The coupon rush lab: seed_coupon_rush adds to a midnight plan a program
whose rush campaign has a budget smaller than the coupon demand, the codes
the shoppers carry and a 30-line quote that prices with 20 active campaigns;
a shopper whose coupon is refused orders without it."""

import json
import random

import pytest
from django.core.management import call_command

from inventory.models import Product
from loadtests.shoppers import GIVEN_UP, RETRY, Basket, order_next_step
from loyalty.models import BudgetScope, Campaign, CampaignState, CouponCode

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("bench_settings")]


def _seed(tmp_path) -> dict:
    plan_path = tmp_path / "plan.json"
    call_command(
        "seed_midnight_release",
        *("--shoppers", "20", "--stores", "1", "--products", "4", "--out", str(plan_path)),
    )
    call_command("seed_coupon_rush", "--plan", str(plan_path))
    return json.loads(plan_path.read_text())


def test_seed_coupon_rush_adds_a_campaign_smaller_than_demand_to_the_plan(tmp_path) -> None:
    # When a midnight release gets its coupon campaign
    plan = _seed(tmp_path)

    # Then 60 % of the shoppers carry a code: half the public one, half single-use codes shared by two
    loyalty = plan["loyalty"]
    carried = [code for code in loyalty["codes"] if code]
    assert len(loyalty["codes"]) == 20
    assert len(carried) == 12
    unique = [code for code in carried if code != loyalty["public_code"]]
    assert len(unique) == 6
    assert set(unique) == set(
        CouponCode.objects.filter(kind=CouponCode.Kind.UNIQUE, usage_limit=1).values_list("code", flat=True)
    )
    assert max(unique.count(code) for code in unique) == 2
    # and the budget is 30 % of that demand
    rush = Campaign.objects.get(pk=loyalty["campaign_id"])
    budget = rush.budgets.get()
    assert (budget.scope, budget.limit_count, loyalty["budget_count"]) == (BudgetScope.TOTAL, 4, 4)
    # and the program has 20 active campaigns
    assert Campaign.objects.filter(program=rush.program, state=CampaignState.ACTIVE).count() == 20


def test_the_quote_basket_has_30_catalogue_lines_and_a_code_of_its_own(tmp_path) -> None:
    plan = _seed(tmp_path)

    quote = plan["quote"]
    assert len(quote["lines"]) == 30
    assert Product.objects.filter(pk__in=[line["product_id"] for line in quote["lines"]], is_active=True).count() == 30
    assert CouponCode.objects.get(code=quote["codes"][0]).campaign.program.code == quote["program"]


def test_a_shopper_whose_coupon_is_refused_orders_without_it() -> None:
    rng = random.Random(1)
    loyalty = {"program": "rush", "codes": ["RUSH-1"]}
    basket = Basket(index=0, token="t", slot_ids=[1], product_ids=[10], rng=rng, lines=(1, 1), loyalty=loyalty)
    assert basket.body()["loyalty"] == loyalty
    first_key = basket.key

    def step(code: str) -> str:
        return order_next_step(
            basket, status=409, code=code, data={}, headers={}, rng=rng, sku_of={},
            reload_available=lambda: set(), sleep=lambda _seconds: None,
        )  # fmt: skip

    assert step("budget_exhausted") == RETRY
    assert "loyalty" not in basket.body()
    assert basket.key != first_key
    # and a coupon refusal of a basket without coupon is final
    assert step("coupon_not_applicable") == GIVEN_UP
