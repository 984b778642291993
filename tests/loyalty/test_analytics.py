"""The analytics and ERP feed: per campaign, store and local day, the
redemptions per state, the discount net of rollbacks, the revenue of the
baskets, points, and the budget counters; a partner sees only the campaigns
on its own products; bad inputs are problem+json 4xx."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from loyalty.models import BudgetCounter, BudgetScope, Campaign, CampaignBudget, Program, Redemption
from partners.models import CallerKind
from tests.factories import LocationFactory, PartnerFactory, api_as, make_client
from tests.loyalty.factories import ProgramFactory, campaign

pytestmark = pytest.mark.django_db

# 23:30 UTC on 1 December is 00:30 on 2 December in Paris: the program's local day.
LATE_EVENING = dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.UTC)
NOON = dt.datetime(2026, 12, 2, 11, 0, tzinfo=dt.UTC)

_sources = iter(range(1, 10_000))


def redeemed(
    target: Campaign,
    store: Any,
    state: str,
    *,
    discount: str,
    basket: str,
    at: dt.datetime = NOON,
    rolled_back: str = "0",
    earned: int = 0,
    burned: int = 0,
) -> Redemption:
    return Redemption.objects.create(
        program=target.program,
        campaign=target,
        store=store,
        source_kind="ticket",
        source_reference=f"T-{next(_sources)}",
        state=state,
        currency="EUR",
        discount_amount=Decimal(discount),
        rolled_back_amount=Decimal(rolled_back),
        basket_amount=Decimal(basket),
        points_earned=earned,
        points_burned=burned,
        occurred_at=at,
        confirmed_at=at if state in ("confirmed", "rolled_back") else None,
        closed_at=at if state in ("released", "rolled_back") else None,
    )


@pytest.fixture
def world() -> dict[str, Any]:
    program: Program = ProgramFactory.create(code="club", time_zone="Europe/Paris")
    acme, other = PartnerFactory.create(), PartnerFactory.create()
    paris, lyon = LocationFactory.create(code="PAR01"), LocationFactory.create(code="LYO01")
    acme_offer = campaign(program, owner=acme, eligible_owner=acme, budgets=[("total", None, "100.00")])
    CampaignBudget.objects.create(campaign=acme_offer, scope=BudgetScope.STORE, limit_count=50)
    house_offer = campaign(program)
    # acme's offer at Paris on 2 December (local): one of each state
    redeemed(acme_offer, paris, "confirmed", discount="5.00", basket="50.00", earned=50)
    redeemed(
        acme_offer, paris, "rolled_back", discount="4.00", rolled_back="1.50", basket="40.00", earned=40, burned=100
    )
    redeemed(acme_offer, paris, "released", discount="3.00", basket="30.00")
    redeemed(acme_offer, paris, "reserved", discount="2.00", basket="20.00", at=LATE_EVENING)
    # at Lyon the same day, and at Paris on 3 December
    redeemed(acme_offer, lyon, "confirmed", discount="10.00", basket="100.00", earned=100)
    redeemed(acme_offer, paris, "confirmed", discount="1.00", basket="11.00", at=NOON + dt.timedelta(days=1))
    # the house's own offer
    redeemed(house_offer, paris, "confirmed", discount="7.00", basket="70.00")
    # the counters as the reservations left them
    total = acme_offer.budgets.get(scope=BudgetScope.TOTAL)
    BudgetCounter.objects.create(budget=total, key="", limit_amount=Decimal("100.00"), used_count=5, used_amount=22)
    per_store = acme_offer.budgets.get(scope=BudgetScope.STORE)
    BudgetCounter.objects.create(budget=per_store, key=f"s{paris.pk}", limit_count=50, used_count=4)
    return {
        "acme": acme,
        "other": other,
        "acme_offer": acme_offer,
        "house_offer": house_offer,
        "paris": paris,
        "lyon": lyon,
        "operator": api_as(make_client(CallerKind.OPERATOR)),
    }


def rows(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def problem(response: Any, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code
    if field is not None:
        assert [error["field"] for error in body["errors"]] == [field]


QUERY = "from=2026-12-01&to=2026-12-07"


def test_rows_sum_each_campaign_store_and_local_day(world) -> None:
    acme_offer, paris = world["acme_offer"], world["paris"]
    found = rows(world["operator"].get(f"/api/v1/loyalty/analytics?{QUERY}&campaign={acme_offer.pk}"))

    assert [(r["store"], r["day"]) for r in found] == [
        ("LYO01", "2026-12-02"),
        ("PAR01", "2026-12-02"),
        ("PAR01", "2026-12-03"),
    ]
    paris_day = found[1]
    assert paris_day["campaign_id"] == acme_offer.pk
    # the reservation at 23:30 UTC on 1 December falls on Paris's 2 December
    assert paris_day["redemptions"] == {"confirmed": 1, "reserved": 1, "released": 1, "rolled_back": 1}
    # discount: 5.00 + (4.00 - 1.50); revenue: 50.00 + 40.00 (the released and reserved ones spent nothing)
    assert paris_day["discount"] == {"amount": "7.50", "currency": "EUR"}
    assert paris_day["revenue"] == {"amount": "90.00", "currency": "EUR"}
    assert (paris_day["points_earned"], paris_day["points_burned"]) == (90, 100)
    assert paris_day["budget"]["total"] == {
        "used_count": 5,
        "limit_count": None,
        "left_count": None,
        "used_amount": {"amount": "22.00", "currency": "EUR"},
        "limit_amount": {"amount": "100.00", "currency": "EUR"},
        "left_amount": {"amount": "78.00", "currency": "EUR"},
    }
    assert paris_day["budget"]["store"]["used_count"] == 4
    assert paris_day["budget"]["store"]["left_count"] == 46
    assert paris_day["budget"]["day"] is None
    assert found[0]["budget"]["store"] is None  # Lyon's counter was never used
    assert paris.code == "PAR01"


def test_filters_by_store_and_dates(world) -> None:
    operator = world["operator"]
    paris_only = rows(operator.get(f"/api/v1/loyalty/analytics?{QUERY}&store=PAR01"))
    assert {(r["campaign_id"], r["day"]) for r in paris_only} == {
        (world["acme_offer"].pk, "2026-12-02"),
        (world["acme_offer"].pk, "2026-12-03"),
        (world["house_offer"].pk, "2026-12-02"),
    }
    assert all(r["store"] == "PAR01" for r in paris_only)
    one_day = rows(operator.get("/api/v1/loyalty/analytics?from=2026-12-03&to=2026-12-03"))
    assert [(r["store"], r["day"], r["discount"]["amount"]) for r in one_day] == [("PAR01", "2026-12-03", "1.00")]
    before = rows(operator.get("/api/v1/loyalty/analytics?from=2026-11-01&to=2026-12-01"))
    assert before == []


def test_a_partner_sees_only_the_campaigns_on_its_own_products(world) -> None:
    acme = api_as(make_client(CallerKind.PARTNER, partner=world["acme"]))
    other = api_as(make_client(CallerKind.PARTNER, partner=world["other"]))
    acme_offer, house_offer = world["acme_offer"], world["house_offer"]

    assert {r["campaign_id"] for r in rows(acme.get(f"/api/v1/loyalty/analytics?{QUERY}"))} == {acme_offer.pk}
    assert rows(other.get(f"/api/v1/loyalty/analytics?{QUERY}")) == []
    problem(acme.get(f"/api/v1/loyalty/analytics?{QUERY}&campaign={house_offer.pk}"), 404, "not_found")
    problem(other.get(f"/api/v1/loyalty/analytics?{QUERY}&campaign={acme_offer.pk}"), 404, "not_found")
    # the same for reports
    assert acme.get(f"/api/v1/loyalty/campaigns/{acme_offer.pk}/report").status_code == 200
    problem(other.get(f"/api/v1/loyalty/campaigns/{acme_offer.pk}/report"), 404, "not_found")
    problem(acme.get(f"/api/v1/loyalty/campaigns/{house_offer.pk}/report"), 404, "not_found")
    problem(acme.get("/api/v1/loyalty/campaigns/999999/report"), 404, "not_found")


def test_stores_and_shoppers_do_not_read_analytics(world) -> None:
    store = api_as(make_client(CallerKind.STORE, store=world["paris"]))
    problem(store.get(f"/api/v1/loyalty/analytics?{QUERY}"), 403, "permission_denied")
    problem(store.get(f"/api/v1/loyalty/campaigns/{world['acme_offer'].pk}/report"), 403, "permission_denied")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-13-01&to=2026-12-07", "from"),
        ("from=2026-12-01&to=07-12-2026", "to"),
        ("from=2026-12-07&to=2026-12-01", "to"),
        ("from=2026-01-01&to=2026-12-31", "to"),
        ("campaign=abc", "campaign"),
        ("campaign=0", "campaign"),
        ("store=NOPE", "store"),
    ],
)
def test_a_bad_query_is_400_naming_the_parameter(world, query: str, field: str) -> None:
    problem(world["operator"].get(f"/api/v1/loyalty/analytics?{query}"), 400, "invalid_query_parameter", field)


def test_without_dates_the_last_30_days_are_read(world) -> None:
    response = world["operator"].get("/api/v1/loyalty/analytics")
    assert response.status_code == 200, response.content
    body = response.json()
    first, last = dt.date.fromisoformat(body["date_from"]), dt.date.fromisoformat(body["date_to"])
    assert (last - first).days == 29
    assert body["truncated"] is False


def test_the_feed_runs_the_same_queries_however_many_rows(world) -> None:
    operator = world["operator"]

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert operator.get(f"/api/v1/loyalty/analytics?{QUERY}").status_code == 200
        return len(captured)

    before = queries()
    more_stores = [LocationFactory.create() for _ in range(3)]
    for day in range(4):
        for store in more_stores:
            redeemed(
                world["acme_offer"],
                store,
                "confirmed",
                discount="1.00",
                basket="9.00",
                at=NOON + dt.timedelta(days=day),
            )
    assert queries() == before
