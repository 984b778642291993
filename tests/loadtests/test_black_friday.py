"""The Black Friday lab: the region seeding gives the scenario what its plan
says (with the tokens working as the callers they stand for and the ledger
reconciled), and the scenario's pure parts (the traffic mix, the steps, the
per-step verdict, the webhook receiver's signature check) do what the bench
relies on."""

import json
import random
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError
from django.utils import timezone

from commerce.models import PickupSlot, SlotRelease
from footfall.models import Sensor
from inventory.models import ClientLocation, Location, LocationKind, Product, StockLevel
from inventory.selectors.ledger import stock_ledger_mismatches
from loadtests import black_friday as scenario
from loadtests.harness import campaign_budget_checks
from loadtests.shoppers import GIVEN_UP, PLACED, RETRY, RETRY_SAME_KEY, Basket, order_next_step
from loyalty.models import BudgetCounter, Campaign, CampaignBudget, CouponCode, Member
from loyalty.selectors.ledger import points_ledger_report
from partners.models import ApiClient, CallerKind
from partners.services.signing import signature, webhook_secret_new

pytestmark = pytest.mark.django_db


def test_production_does_not_know_the_seeding_command() -> None:
    assert "seed_black_friday" not in get_commands()


# The lab's command and routes exist only under the bench settings.
lab = pytest.mark.usefixtures("bench_settings")


def _seed(tmp_path, *extra: str) -> dict:
    plan_path = tmp_path / "plan.json"
    call_command(
        "seed_black_friday",
        *("--stores", "3", "--products", "5", "--partners", "2", "--partner-stores", "2"),
        *("--partner-products", "4", "--shoppers", "6", "--capacity", "4", "--slot-minutes", "60"),
        *("--out", str(plan_path), *extra),
    )
    return json.loads(plan_path.read_text())


@lab
def test_seed_black_friday_writes_a_region_and_its_plan(tmp_path, client) -> None:
    # When the region is seeded
    plan = _seed(tmp_path)

    # Then the stores, the catalogue and the partners' own are there, stocked with a reconciled ledger
    stores = Location.objects.filter(code__startswith="BF-S")
    assert stores.count() == len(plan["stores"]) == 3
    assert set(stores.values_list("kind", "click_and_collect")) == {(LocationKind.STORE, True)}
    assert Product.objects.filter(owner=None, sku__startswith="BF-").count() == len(plan["products"]) == 5
    assert [len(p["locations"]) for p in plan["partners"]] == [2, 2]
    assert [len(p["skus"]) for p in plan["partners"]] == [4, 4]
    assert StockLevel.objects.count() == 3 * 5 + 2 * 2 * 4
    assert stock_ledger_mismatches() == (StockLevel.objects.count(), [])
    # and every store has two days of hourly slots around the clock, counted as released
    assert len(plan["dates"]) == 2
    for store in stores:
        slots = PickupSlot.objects.filter(store=store)
        assert slots.count() == 2 * 24
        assert {slot.capacity for slot in slots} == {4}
        assert SlotRelease.objects.filter(store=store).count() == 2
        assert Sensor.objects.filter(store=store).count() == 2
    # and store and device clients act for their own store
    bindings = ClientLocation.objects.select_related("client", "location")
    assert sorted((b.location.code, b.client.kind) for b in bindings) == sorted(
        (s["code"], kind) for s in plan["stores"] for kind in (CallerKind.STORE, CallerKind.DEVICE)
    )
    assert ApiClient.objects.filter(kind=CallerKind.PARTNER).count() == 2
    # and the tokens work as the callers they stand for
    store = plan["stores"][0]
    staff = client.get("/api/v1/orders", HTTP_AUTHORIZATION=f"Bearer {store['staff_token']}")
    assert staff.status_code == 200, staff.content
    shopper = client.get(
        f"/api/v1/pickup-slots?store={store['code']}&from={plan['dates'][0]}&to={plan['dates'][1]}",
        HTTP_AUTHORIZATION=f"Bearer {plan['shopper_tokens'][0]}",
    )
    assert shopper.status_code == 200, shopper.content
    partner = client.get("/api/v1/events", HTTP_AUTHORIZATION=f"Bearer {plan['partners'][0]['token']}")
    assert partner.status_code == 200, partner.content
    assert len(set(plan["shopper_tokens"])) == 6


@lab
def test_the_region_has_a_loyalty_program_its_members_and_a_black_friday_campaign(tmp_path, client) -> None:
    # When a region of 20 shoppers is seeded with the scenario's shares and a budget of 3
    plan = _seed(tmp_path, "--shoppers", "20", "--coupon-budget", "3")

    # Then half the shoppers are members, each with a valid card and their own account
    loyalty = plan["loyalty"]
    members = loyalty["members"]
    assert len(members) == round(20 * scenario.MEMBER_SHARE) == 10
    assert Member.objects.filter(program__code=loyalty["program"], user__isnull=False).count() == 10
    assert len({m["shopper"] for m in members}) == 10
    # and a fifth of them hold spendable points, earned through the ledger
    holders = [m for m in members if m["points"]]
    assert len(holders) == round(10 * scenario.POINTS_SHARE) == 2
    assert sorted(Member.objects.filter(points_active__gt=0).values_list("card_number", flat=True)) == sorted(
        m["card"] for m in holders
    )
    assert points_ledger_report(limit=10).ok
    # and 30 % carry a code of the campaign, half the public one, half a single-use code each
    codes = [m["code"] for m in members if m["code"]]
    assert len(codes) == 3
    campaign = Campaign.objects.get(pk=loyalty["campaign_id"])
    assert set(codes) <= set(CouponCode.objects.filter(campaign=campaign).values_list("code", flat=True))
    assert campaign.budgets.get().limit_count == 3
    assert campaign.benefit_amount == scenario.COUPON_DISCOUNT
    # and a shopper member quotes with the code, and a store's till posts a member's ticket
    member = members[0]
    store = plan["stores"][0]
    product = max(plan["products"], key=lambda row: Decimal(row["price"]))
    quote = client.post(
        "/api/v1/loyalty/quote",
        {
            "program": loyalty["program"],
            "store": store["code"],
            "lines": [{"product_id": product["id"], "quantity": 1}],
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {plan['shopper_tokens'][member['shopper']]}",
    )
    assert quote.status_code == 200, quote.content
    assert quote.json()["card_number"] == member["card"]
    ticket = client.post(
        "/api/v1/loyalty/tickets",
        {
            "program": loyalty["program"], "store": store["code"], "ticket_id": "T-1", "card_number": member["card"],
            "lines": [{"sku": product["sku"], "quantity": 1, "unit_price": product["price"]}],
            "till_time": timezone.now().isoformat(),
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {store['staff_token']}",
    )  # fmt: skip
    assert ticket.status_code == 201, ticket.content


@lab
def test_a_second_region_with_the_same_prefix_is_refused(tmp_path) -> None:
    _seed(tmp_path)

    with pytest.raises(CommandError, match="already seeded"):
        _seed(tmp_path)


def test_the_mix_follows_the_capacity_plan_at_the_normal_rate() -> None:
    # Given the classes' rates at 1x
    rates = scenario.class_rates(1.0)

    # Then shoppers make about twenty reads per order, and the region's orders are a quarter of the network's 2.4/s
    assert rates["shopper_reads"] / rates["orders"] == pytest.approx(20, rel=0.1)
    assert rates["orders"] == pytest.approx(2.4 * scenario.REGION_SHARE, rel=0.1)
    # and partner syncs and footfall double at most, while shoppers and staff follow the multiplier
    at_twelve = scenario.class_rates(12.0)
    assert at_twelve["orders"] == pytest.approx(12 * rates["orders"])
    assert at_twelve["sync_lines"] == pytest.approx(2 * rates["sync_lines"])
    assert at_twelve["footfall_posts"] == pytest.approx(2 * rates["footfall_posts"])
    # and half the orders carry a member's loyalty part, while member tickets follow the tills' own figures:
    # 450 stores x 32.5 tickets a quarter hour, half of them a member's (8.1/s), doubling at most
    assert rates["loyalty_orders"] == pytest.approx(rates["orders"] / 2)
    assert rates["member_tickets"] == pytest.approx(450 * 32.5 / 900 / 2)
    assert at_twelve["member_tickets"] == pytest.approx(2 * rates["member_tickets"])


def test_steps_go_up_from_the_normal_rate_and_stop_at_the_first_failing_step() -> None:
    assert scenario.multipliers(quick=False)[:6] == [1, 2, 4, 8, 10, 12]
    assert scenario.multipliers(quick=False) == sorted(scenario.multipliers(quick=False))
    ok = scenario.StepVerdict.judge(p95_by_class={"shopper": 120.0, "staff": 80.0}, server_errors=0, other_errors=0)
    slow = scenario.StepVerdict.judge(p95_by_class={"shopper": 501.0, "staff": 80.0}, server_errors=0, other_errors=0)
    failing = scenario.StepVerdict.judge(p95_by_class={"shopper": 20.0}, server_errors=1, other_errors=0)
    assert ok.held
    assert not slow.held
    assert "shopper" in slow.reason
    assert not failing.held
    assert "5xx" in failing.reason


def test_shed_answers_count_as_over_the_limit_in_a_steps_verdict() -> None:
    fast = [50.0] * 100
    # a few sheds among fast answers (under 5 % of the class): held
    few = scenario.p95_counting_sheds(fast, 4)
    assert few == 50.0
    assert scenario.StepVerdict.judge(p95_by_class={"shopper": few}, server_errors=0, other_errors=0, shed=4).held
    # more than 5 % of the class shed: not held, however fast the rest were
    many = scenario.p95_counting_sheds(fast, 6)
    verdict = scenario.StepVerdict.judge(p95_by_class={"shopper": many}, server_errors=0, other_errors=0, shed=6)
    assert not verdict.held
    assert "shopper" in verdict.reason
    assert "6 answers shed" in verdict.reason
    # a class entirely shed is not held either
    assert not scenario.StepVerdict.judge(
        p95_by_class={"till": scenario.p95_counting_sheds([], 3)}, server_errors=0, other_errors=0, shed=3
    ).held


def test_the_overload_answer_is_told_from_the_balancers_own_503() -> None:
    assert scenario.is_overload_answer(503, {"code": "overloaded"})
    assert not scenario.is_overload_answer(503, {"code": "service_unavailable"})
    assert not scenario.is_overload_answer(503, {})
    assert not scenario.is_overload_answer(429, {"code": "overloaded"})


def test_a_shed_order_is_posted_again_with_the_same_key_after_retry_after() -> None:
    rng = random.Random(1)
    basket = Basket(index=0, token="t", slot_ids=[1, 2], product_ids=[10, 11], rng=rng, lines=(1, 2))
    first_key, slept = basket.key, list[float]()
    outcome = order_next_step(
        basket, status=503, code="overloaded", data={"code": "overloaded", "retry_after": 3},
        headers={"Retry-After": "3"}, rng=rng, sku_of={}, reload_available=lambda: set(), sleep=slept.append,
    )  # fmt: skip
    assert outcome == RETRY_SAME_KEY
    assert basket.key == first_key
    assert slept == [3.0]


def test_the_webhook_receiver_accepts_only_the_project_signature() -> None:
    secret = webhook_secret_new()
    body = b'{"type": "order.created"}'
    good = signature(secret=secret, msg_id="evt_1", timestamp=1_700_000_000, body=body)

    assert scenario.signature_valid(secret, "evt_1", "1700000000", body, f"v1,bogus {good}")
    assert not scenario.signature_valid(secret, "evt_1", "1700000000", body + b" ", good)
    assert not scenario.signature_valid(webhook_secret_new(), "evt_1", "1700000000", body, good)


def test_the_checkout_retries_a_full_slot_with_an_alternative_and_keeps_the_key_on_a_5xx() -> None:
    rng = random.Random(1)
    basket = Basket(index=0, token="t", slot_ids=[1, 2, 3], product_ids=[10, 11], rng=rng, lines=(1, 2))
    first_key = basket.key

    def step(status: int, code: str = "", data: dict | None = None) -> str:
        return order_next_step(
            basket, status=status, code=code, data=data or {}, headers={}, rng=rng, sku_of={},
            reload_available=lambda: set(), sleep=lambda _seconds: None,
        )  # fmt: skip

    assert step(503) == RETRY_SAME_KEY
    assert basket.key == first_key
    assert step(409, "slot_full", {"alternatives": [{"id": 3}]}) == RETRY
    assert basket.slot_id == 3
    assert basket.key != first_key
    assert step(409, "slot_full", {"alternatives": []}) == GIVEN_UP
    assert step(201) == PLACED


@lab
@pytest.mark.django_db(transaction=True)
def test_the_budget_check_counts_live_redemptions_against_the_limits(tmp_path, client) -> None:
    # Given a region whose Black Friday budget is one redemption, and two member tickets with the public code
    plan = _seed(tmp_path, "--shoppers", "20", "--coupon-budget", "1", "--code-share", "1")
    loyalty, store = plan["loyalty"], plan["stores"][0]
    public = next(m["code"] for m in loyalty["members"] if m["code"] and "-FRIDAY-" not in m["code"])
    product = max(plan["products"], key=lambda row: Decimal(row["price"]))
    quantity = int(scenario.COUPON_MINIMUM / Decimal(product["price"])) + 1  # a basket above the code's minimum
    applied = []
    for number, member in enumerate(loyalty["members"][:2]):
        ticket = client.post(
            "/api/v1/loyalty/tickets",
            {
                "program": loyalty["program"], "store": store["code"], "ticket_id": f"T-{number}",
                "card_number": member["card"], "codes": [public],
                "lines": [{"sku": product["sku"], "quantity": quantity, "unit_price": product["price"]}],
                "till_time": timezone.now().isoformat(),
            },
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {store['staff_token']}",
        )  # fmt: skip
        assert ticket.status_code == 201, ticket.content
        applied.append(bool(ticket.json()["applied"]))
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"

    # When the bench's check reads the campaign
    checks = campaign_budget_checks(url, [loyalty["campaign_id"]])

    # Then one ticket got the discount, within the budget, and the counters agree with the redemptions
    assert applied == [True, False]
    assert checks == {
        "budget_overspend": 0.0,
        "budget_overspend_redemptions": 0,
        "single_use_double_redemptions": 0,
        "budget_counters_out_of_step": 0,
        "live_redemptions": 1,
        "live_discount": scenario.COUPON_DISCOUNT,
    }
    # and a budget smaller than what was redeemed, or a counter that drifted, is reported
    CampaignBudget.objects.filter(campaign_id=loyalty["campaign_id"]).update(limit_count=0, limit_amount=0)
    BudgetCounter.objects.filter(budget__campaign_id=loyalty["campaign_id"]).update(used_count=0)
    drifted = campaign_budget_checks(url, [loyalty["campaign_id"]])
    assert (drifted["budget_overspend"], drifted["budget_overspend_redemptions"]) == (5.0, 1)
    assert drifted["budget_counters_out_of_step"] == 1


def test_route_costs_are_what_ran_between_two_scrapes() -> None:
    """The bench's per-route table: requests and serving-thread CPU of the
    interval only, per request, with each route's share, costliest first."""
    from loadtests.harness import route_cost_table

    before = {("GET", "api/v1/products"): (100.0, 0.5), ("POST", "api/v1/orders"): (10.0, 0.1)}
    after = {
        ("GET", "api/v1/products"): (300.0, 1.1),  # 200 requests, 0.6 s
        ("POST", "api/v1/orders"): (10.0, 0.1),  # nothing ran
        ("POST", "api/v1/loyalty/tickets"): (50.0, 1.0),  # new route: 50 requests, 1.0 s
    }
    table = route_cost_table(before, after)
    assert [row["route"] for row in table] == ["api/v1/loyalty/tickets", "api/v1/products"]
    tickets, products = table
    assert tickets["requests"] == 50
    assert tickets["cpu_ms_per_request"] == pytest.approx(20.0)
    assert products["requests"] == 200
    assert products["cpu_ms_per_request"] == pytest.approx(3.0)
    assert tickets["cpu_share"] == pytest.approx(1.0 / 1.6)
