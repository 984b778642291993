"""Slow movers: the figures of a small seeded ledger computed by hand (days
of cover, days since the last sale, the nulls of "never" and "nothing in the
window"), the thresholds, the clearance draft (targets, audience, budget),
its idempotency, the weekly proposal once per ISO week, the campaign report
and every bad input as a problem+json 4xx."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.models import Location, Product, StockMovement
from inventory.services import stock_adjust, stock_set
from loyalty.models import (
    AudienceKind,
    BenefitKind,
    Campaign,
    CampaignOrigin,
    CampaignState,
    MemberPurchase,
    Program,
    Redemption,
    TillTicket,
)
from loyalty.services.slow_movers import slow_mover_campaign_draft, slow_mover_campaigns_propose
from partners.models import CallerKind
from tests.commerce.factories import ProductFactory
from tests.factories import LocationFactory, api_as, make_client
from tests.loyalty.factories import MemberFactory, ProgramFactory, campaign

pytestmark = pytest.mark.django_db

_references = iter(range(1, 10_000))


def sold(store: Location, product: Product, units: int, days_ago: float, *, reference: str = "") -> None:
    """A sale movement of the ledger ``days_ago`` days before now."""
    reference = reference or f"test-sale:{next(_references)}"
    stock_adjust(location=store, product=product, delta=-units, reason="sale", reference=reference)
    StockMovement.objects.filter(reference=reference).update(created_at=timezone.now() - dt.timedelta(days=days_ago))


def ticket(program: Program, store: Location, ticket_id: str, lines: Any, days_ago: float) -> TillTicket:
    return TillTicket.objects.create(
        program=program,
        store=store,
        ticket_id=ticket_id,
        till_time=timezone.now() - dt.timedelta(days=days_ago),
        fingerprint=ticket_id,
        currency="EUR",
        subtotal_amount=Decimal("10.00"),
        lines=lines,
    )


def stocked(store: Location, sku: str, category: str, price: str, on_hand: int) -> Product:
    product = ProductFactory.create(sku=sku, category=category, price_amount=Decimal(price))
    stock_set(location=store, product=product, on_hand=on_hand)
    return product


@pytest.fixture
def world() -> dict[str, Any]:
    """At LYO01, by hand (window 28 days, target cover 28 days):

    - SARDINE 2.00, 114 then 14 sold 2 days ago: on hand 100, 0.50/day, cover 200.0, 2 days since,
      keeps 14, excess 86 (172.00);
    - MILK 1.00, 86 then 28 + 28 sold 1 and 10 days ago: on hand 30, 2.00/day, cover 15.0: not slow;
    - CAVIAR 50.00, 5, never sold: cover and days since null, excess 5 (250.00);
    - OLDJAM 3.00, 12 then 2 sold 40 days ago: on hand 10, nothing in the window (cover null),
      40 days since, excess 10 (30.00);
    - TEA 4.00, 24 then 4 sold by the till 5 days ago (ticket T1: 3 by SKU + 1 by product id, its
      malformed lines skipped; the stock movement referencing the ticket not counted again):
      on hand 20, 0.14/day, cover 140.0, 5 days since, keeps 4, excess 16 (64.00).
    """
    program = ProgramFactory.create(code="club")
    store = LocationFactory.create(code="LYO01")
    other = LocationFactory.create(code="LYO02")
    products = {
        "SARDINE": stocked(store, "SARDINE", "canned fish", "2.00", 114),
        "MILK": stocked(store, "MILK", "dairy", "1.00", 86),
        "CAVIAR": stocked(store, "CAVIAR", "canned fish", "50.00", 5),
        "OLDJAM": stocked(store, "OLDJAM", "jam", "3.00", 12),
        "TEA": stocked(store, "TEA", "tea", "4.00", 24),
    }
    sold(store, products["SARDINE"], 14, 2)
    sold(store, products["MILK"], 28, 1)
    sold(store, products["MILK"], 28, 10)
    sold(store, products["OLDJAM"], 2, 40)
    sold(store, products["TEA"], 4, 5, reference="ticket:LYO01:T1")
    tea = products["TEA"]
    ticket(
        program,
        store,
        "T1",
        [
            {"sku": "TEA", "quantity": 3},
            {"product_id": tea.pk, "quantity": 1},
            {"sku": "TEA", "quantity": "9"},
            {"sku": "TEA", "quantity": 2.5},
            {"sku": "TEA", "quantity": -4},
            {"sku": ["TEA"], "quantity": 1},
            "TEA x 5",
            None,
        ],
        5,
    )
    ticket(program, store, "T2", {"not": "a list"}, 3)
    # the same SKU sold at another store does not count here
    stock_set(location=other, product=tea, on_hand=50)
    ticket(program, other, "T1", [{"sku": "TEA", "quantity": 30}], 1)
    return {"program": program, "store": store, "other": other, "products": products}


@pytest.fixture
def operator() -> Any:
    return api_as(make_client(CallerKind.OPERATOR))


def problem(response: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    if field is not None:
        assert [error["field"] for error in body["errors"]] == [field]
    return body


def by_sku(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["sku"]: row for row in body["results"]}


def test_the_figures_of_each_slow_mover_are_those_computed_by_hand(operator, world) -> None:
    response = operator.get("/api/v1/loyalty/slow-movers?store=LYO01")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["store"], body["window_days"], body["min_days_cover"], body["min_days_since_sale"]) == (
        "LYO01",
        28,
        60,
        21,
    )
    assert [row["sku"] for row in body["results"]] == ["CAVIAR", "SARDINE", "TEA", "OLDJAM"]
    assert body["count"] == 4
    rows = by_sku(body)
    figures = {
        sku: (
            row["on_hand"],
            row["units_sold"],
            row["average_daily_sales"],
            row["days_of_cover"],
            row["days_since_last_sale"],
            row["excess_units"],
            row["excess_value"]["amount"],
            row["stock_value"]["amount"],
        )
        for sku, row in rows.items()
    }
    assert figures == {
        "SARDINE": (100, 14, "0.50", "200.0", 2, 86, "172.00", "200.00"),
        "CAVIAR": (5, 0, "0.00", None, None, 5, "250.00", "250.00"),
        "OLDJAM": (10, 0, "0.00", None, 40, 10, "30.00", "30.00"),
        "TEA": (20, 4, "0.14", "140.0", 5, 16, "64.00", "80.00"),
    }
    assert rows["CAVIAR"]["last_sold_at"] is None
    assert rows["SARDINE"]["category"] == "canned fish"
    assert rows["SARDINE"]["price"] == {"amount": "2.00", "currency": "EUR"}


def test_the_thresholds_choose_the_slow_movers(operator, world) -> None:
    # cover 200 and 140 are under 250, and 2 and 5 days under 30: only the infinite covers stay
    strict = operator.get("/api/v1/loyalty/slow-movers?store=LYO01&min_days_cover=250&min_days_since_sale=30")
    assert [row["sku"] for row in strict.json()["results"]] == ["CAVIAR", "OLDJAM"]

    # a low cover threshold brings in the milk (cover 15.0)
    loose = operator.get("/api/v1/loyalty/slow-movers?store=LYO01&min_days_cover=15&limit=2")
    assert loose.json()["count"] == 5
    assert [row["sku"] for row in loose.json()["results"]] == ["CAVIAR", "SARDINE"]


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ("", "store", "required"),
        ("store=NOPE", "store", "unknown_store"),
        ("store=LYO01&min_days_cover=0", "min_days_cover", None),
        ("store=LYO01&min_days_cover=abc", "min_days_cover", None),
        ("store=LYO01&min_days_since_sale=-3", "min_days_since_sale", None),
        ("store=LYO01&min_days_since_sale=99999", "min_days_since_sale", None),
        ("store=LYO01&limit=501", "limit", None),
        ("store=LYO01&target_days_cover=1.5", "target_days_cover", None),
    ],
)
def test_a_bad_query_is_400_naming_the_parameter(operator, world, query: str, field: str, code: str | None) -> None:
    body = problem(operator.get(f"/api/v1/loyalty/slow-movers?{query}"), 400, "invalid_query_parameter", field)
    if code is not None:
        assert body["errors"][0]["code"] == code


def test_only_the_operator_reads_slow_movers_and_drafts(world) -> None:
    partner = api_as(make_client(CallerKind.PARTNER))
    problem(partner.get("/api/v1/loyalty/slow-movers?store=LYO01"), 403, "insufficient_scope")
    problem(
        partner.post("/api/v1/loyalty/slow-movers/campaigns", {"program": "club", "store": "LYO01"}, format="json"),
        403,
        "insufficient_scope",
    )


def test_a_draft_targets_the_slow_movers_for_the_buyers_of_their_categories_there(operator, world) -> None:
    # given members who bought the categories at LYO01 recently (and others who did not, or did not consent)
    program, store, other = world["program"], world["store"], world["other"]
    today = timezone.localdate()
    recent = MemberFactory.create(program=program)
    elsewhere = MemberFactory.create(program=program)
    long_ago = MemberFactory.create(program=program)
    no_consent = MemberFactory.create(program=program, consent_targeted_offers=False)
    for member, where, category, days in [
        (recent, store, "jam", 10),
        (elsewhere, other, "canned fish", 1),
        (long_ago, store, "tea", 100),
        (no_consent, store, "canned fish", 1),
    ]:
        MemberPurchase.objects.create(
            member=member, store=where, category=category, last_bought_on=today - dt.timedelta(days=days)
        )

    # when the operator drafts a campaign
    response = operator.post(
        "/api/v1/loyalty/slow-movers/campaigns",
        {"program": "club", "store": "LYO01", "percent": "20", "days": 14},
        format="json",
    )

    # then it is a draft, 20 % off the four slow movers with excess, at LYO01 only, for two weeks
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"/api/v1/loyalty/campaigns/{body['id']}"
    assert (body["state"], body["origin"], body["benefit"], body["benefit_percent"]) == (
        CampaignState.DRAFT,
        CampaignOrigin.SLOW_MOVERS,
        BenefitKind.PERCENT_OFF_LINES,
        "20.00",
    )
    assert body["eligible_skus"] == ["CAVIAR", "OLDJAM", "SARDINE", "TEA"]
    assert body["stores"] == ["LYO01"]
    assert body["requires_code"] is False
    starts, ends = dt.datetime.fromisoformat(body["starts_at"]), dt.datetime.fromisoformat(body["ends_at"])
    assert ends - starts == dt.timedelta(days=14)
    # budget: (250.00 + 172.00 + 64.00 + 30.00) x 20 % = 103.20
    assert body["budgets"] == [{"scope": "total", "limit_count": None, "limit_amount": "103.20"}]
    # three categories: the consenting members who bought one of them at LYO01 in 90 days, listed
    drafted = Campaign.objects.get(pk=body["id"])
    assert drafted.audience == AudienceKind.LIST
    assert list(drafted.audience_members.values_list("pk", flat=True)) == [recent.pk]
    assert drafted.source_figures["budget"] == "103.20"
    assert [p["sku"] for p in drafted.source_figures["products"]] == ["CAVIAR", "SARDINE", "TEA", "OLDJAM"]


def test_a_draft_of_one_category_uses_the_live_category_audience(operator, world) -> None:
    response = operator.post(
        "/api/v1/loyalty/slow-movers/campaigns",
        {"program": "club", "store": "LYO01", "percent": "12.5", "skus": ["SARDINE", "CAVIAR"]},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["audience"], body["audience_category"], body["audience_days"]) == (
        AudienceKind.CATEGORY_BUYERS,
        "canned fish",
        90,
    )
    assert list(Campaign.objects.get(pk=body["id"]).audience_stores.values_list("code", flat=True)) == ["LYO01"]
    assert body["eligible_skus"] == ["CAVIAR", "SARDINE"]
    # (250.00 + 172.00) x 12.5 % = 52.75
    assert body["budgets"][0]["limit_amount"] == "52.75"
    # default length: 14 days
    assert dt.datetime.fromisoformat(body["ends_at"]) - dt.datetime.fromisoformat(body["starts_at"]) == dt.timedelta(
        days=14
    )


def test_the_same_idempotency_key_drafts_once(operator, world) -> None:
    body = {"program": "club", "store": "LYO01"}
    first = operator.post("/api/v1/loyalty/slow-movers/campaigns", body, format="json", HTTP_IDEMPOTENCY_KEY="d-1")
    again = operator.post("/api/v1/loyalty/slow-movers/campaigns", body, format="json", HTTP_IDEMPOTENCY_KEY="d-1")

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Campaign.objects.filter(origin=CampaignOrigin.SLOW_MOVERS).count() == 1
    other = {**body, "percent": "30"}
    problem(
        operator.post("/api/v1/loyalty/slow-movers/campaigns", other, format="json", HTTP_IDEMPOTENCY_KEY="d-1"),
        422,
        "idempotency_key_reused",
    )


def test_nothing_to_clear_is_422_no_slow_movers(operator, world) -> None:
    # a store whose only product sells well
    store = LocationFactory.create(code="LYO03")
    fresh = stocked(store, "BREAD", "bakery", "1.20", 40)
    sold(store, fresh, 30, 1)

    problem(
        operator.post("/api/v1/loyalty/slow-movers/campaigns", {"program": "club", "store": "LYO03"}, format="json"),
        422,
        "no_slow_movers",
    )
    assert not Campaign.objects.exists()


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"program": "club", "store": "NOPE"}, 422, "validation_failed", "store"),
        ({"program": "nope", "store": "LYO01"}, 422, "validation_failed", "program"),
        ({"program": "club", "store": "LYO01", "skus": ["MILK"]}, 422, "validation_failed", "skus"),
        ({"program": "club", "store": "LYO01", "percent": "0"}, 422, "validation_failed", "percent"),
        ({"program": "club", "store": "LYO01", "percent": "101"}, 422, "validation_failed", "percent"),
        ({"program": "club", "store": "LYO01", "percent": 20}, 422, "validation_failed", "percent"),
        ({"program": "club", "store": "LYO01", "days": 0}, 422, "validation_failed", "days"),
        ({"program": "club", "store": "LYO01", "days": "7"}, 422, "validation_failed", "days"),
        ({"program": "club", "store": "LYO01", "colour": "red"}, 422, "validation_failed", "colour"),
        ({"store": "LYO01"}, 422, "validation_failed", "program"),
    ],
)
def test_a_bad_draft_is_a_precise_4xx(
    operator, world, body: dict[str, Any], status: int, code: str, field: str
) -> None:
    problem(operator.post("/api/v1/loyalty/slow-movers/campaigns", body, format="json"), status, code, field)
    assert not Campaign.objects.exists()


def test_the_weekly_proposal_drafts_once_per_store_and_iso_week(world) -> None:
    # given two active programs, an inactive one, and stores of which only LYO01 has slow movers
    second = ProgramFactory.create(code="second")
    ProgramFactory.create(code="asleep", is_active=False)
    monday = dt.datetime(2026, 12, 7, 4, 0, tzinfo=dt.UTC)

    first_run = slow_mover_campaigns_propose(now=monday)
    rerun = slow_mover_campaigns_propose(now=monday + dt.timedelta(hours=2))

    drafted = Campaign.objects.filter(pk__in=first_run).order_by("program_id")
    assert [(c.program.code, list(c.stores.values_list("code", flat=True))) for c in drafted] == [
        ("club", ["LYO01"]),
        (second.code, ["LYO01"]),
    ]
    assert all(c.state == CampaignState.DRAFT and c.source_figures["week"] == "2026-W50" for c in drafted)
    assert rerun == []
    assert Campaign.objects.count() == 2

    # the next week proposes again
    assert len(slow_mover_campaigns_propose(now=monday + dt.timedelta(days=7))) == 2


def test_the_report_compares_units_during_the_campaign_with_the_weeks_before(world) -> None:
    # given a campaign on SARDINE and TEA at LYO01 that started 3 days ago: TEA sold 4 (by till) 5 days
    # ago, before it; SARDINE 14 two days ago and 6 now, during it; OLDJAM is not targeted
    program, store = world["program"], world["store"]
    now = timezone.now()
    clearance = campaign(
        program,
        benefit=BenefitKind.PERCENT_OFF_LINES,
        amount=None,
        benefit_percent=Decimal(20),
        eligible_skus=["SARDINE", "TEA"],
        starts_at=now - dt.timedelta(days=3),
        ends_at=now + dt.timedelta(days=11),
    )
    clearance.stores.set([store])
    sold(store, world["products"]["SARDINE"], 6, 0.01)
    sold(store, world["products"]["SARDINE"], 50, 40)  # long before: outside both windows
    for state, discount, rolled_back, basket in [
        ("confirmed", "2.00", "0", "10.00"),
        ("rolled_back", "3.00", "1.00", "20.00"),
        ("reserved", "4.00", "0", "30.00"),
    ]:
        Redemption.objects.create(
            program=program,
            campaign=clearance,
            store=store,
            source_kind="ticket",
            source_reference=f"LYO01:{state}",
            state=state,
            currency="EUR",
            discount_amount=Decimal(discount),
            rolled_back_amount=Decimal(rolled_back),
            basket_amount=Decimal(basket),
            occurred_at=now,
            confirmed_at=now if state != "reserved" else None,
            closed_at=now if state == "rolled_back" else None,
        )

    response = api_as(make_client(CallerKind.OPERATOR)).get(f"/api/v1/loyalty/campaigns/{clearance.pk}/report")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["stores"] == ["LYO01"]
    assert [(p["sku"], p["units_before"], p["units_during"]) for p in body["products"]] == [
        ("SARDINE", 0, 20),
        ("TEA", 4, 0),
    ]
    assert (body["before"]["units"], body["before"]["days"]) == (4, "28.00")
    assert (body["during"]["units"], body["during"]["days"]) == (20, "3.00")
    assert body["redemptions"] == {
        "confirmed": 1,
        "rolled_back": 1,
        "reserved": 1,
        "discount": {"amount": "4.00", "currency": "EUR"},
        "revenue": {"amount": "30.00", "currency": "EUR"},
    }


def test_a_slow_mover_draft_reports_on_its_own_store(world) -> None:
    drafted = slow_mover_campaign_draft(program=world["program"], store=world["store"])
    response = api_as(make_client(CallerKind.OPERATOR)).get(f"/api/v1/loyalty/campaigns/{drafted.pk}/report")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "draft"
    # the 28 days before: SARDINE 14, TEA 4 (CAVIAR never sold; OLDJAM's sale is 40 days old)
    assert {p["sku"]: p["units_before"] for p in body["products"]} == {
        "CAVIAR": 0,
        "OLDJAM": 0,
        "SARDINE": 14,
        "TEA": 4,
    }
    assert body["during"]["units"] == 0


def test_the_list_runs_the_same_queries_however_many_products(operator, world) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert operator.get("/api/v1/loyalty/slow-movers?store=LYO01").status_code == 200
        return len(captured)

    before = queries()
    for n in range(10):
        product = stocked(world["store"], f"MORE-{n}", f"category {n}", "1.00", 50)
        sold(world["store"], product, 1, n + 1)
    assert queries() == before
