"""The loyalty API: the operator sets up a program, a campaign, codes and
members; shoppers and stores quote baskets and get a reason for every code
that does not apply; a shopper sees only their own member; every bad input
is a precise problem+json."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from loyalty.models import CampaignState, CodeGenerationJob, CouponCode, Member
from loyalty.services.catalog import check_character, codes_generate
from loyalty.services.points import points_earn
from partners.models import CallerKind
from tests.commerce.factories import ProductFactory
from tests.factories import LocationFactory, UserFactory, api_as, make_client
from tests.loyalty.factories import MemberFactory, ProgramFactory, campaign, card_number, code

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator() -> Any:
    return api_as(make_client(CallerKind.OPERATOR))


@pytest.fixture
def world() -> dict[str, Any]:
    program = ProgramFactory.create(code="club")
    store = LocationFactory.create(code="PAR01")
    user = UserFactory.create()
    shopper_app = make_client(CallerKind.SHOPPER)
    member = MemberFactory.create(program=program, user=user, home_store=store)
    apples = ProductFactory.create(sku="APPLE", category="pip fruit", price_amount=Decimal("0.45"))
    wine = ProductFactory.create(sku="WINE", category="wine", price_amount=Decimal("45.00"))
    ten_off = campaign(program, min_basket_amount=Decimal("100.00"), budgets=[("total", None, "1000")])
    code(ten_off, "TEN")
    return {
        "program": program,
        "store": store,
        "member": member,
        "shopper": api_as(shopper_app, user=user),
        "apples": apples,
        "wine": wine,
        "ten_off": ten_off,
    }


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


def test_the_operator_sets_up_a_campaign_and_a_shopper_redeems_it_in_a_quote(operator, world) -> None:
    # given a campaign created by the operator, activated, with a public code
    now = timezone.now()
    created = operator.post(
        "/api/v1/loyalty/campaigns",
        {
            "program": "club",
            "name_fr": "5 € sur le vin",
            "starts_at": (now - dt.timedelta(hours=1)).isoformat(),
            "ends_at": (now + dt.timedelta(days=7)).isoformat(),
            "benefit": "amount_off_product",
            "benefit_amount": "5.00",
            "eligible_categories": ["wine"],
            "stacking_class": "wine",
            "budgets": [{"scope": "total", "limit_count": 100}, {"scope": "member", "limit_count": 1}],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    campaign_id = created.json()["id"]
    assert created.json()["state"] == CampaignState.DRAFT
    assert (
        operator.post(f"/api/v1/loyalty/campaigns/{campaign_id}/codes", {"code": "vino5"}, format="json").status_code
        == 201
    )
    activated = operator.post(f"/api/v1/loyalty/campaigns/{campaign_id}/state", {"state": "active"}, format="json")
    assert activated.json()["state"] == "active"

    # when the shopper quotes two bottles and ten apples with that code and TEN
    quoted = world["shopper"].post(
        "/api/v1/loyalty/quote",
        {
            "program": "club",
            "store": "PAR01",
            "codes": ["VINO5", "TEN"],
            "lines": [
                {"product_id": world["wine"].pk, "quantity": 2},
                {"product_id": world["apples"].pk, "quantity": 10},
            ],
        },
        format="json",
    )

    # then the wine code applies on the wine line, TEN is refused with the amount missing, points are counted
    assert quoted.status_code == 200, quoted.content
    body = quoted.json()
    assert body["subtotal"] == {"amount": "94.50", "currency": "EUR"}
    assert body["discount"] == {"amount": "5.00", "currency": "EUR"}
    assert body["card_number"] == world["member"].card_number
    assert [(a["code"], a["lines"]) for a in body["applied"]] == [
        ("VINO5", [{"key": "0", "discount": {"amount": "5.00", "currency": "EUR"}}])
    ]
    assert body["refused"] == [
        {
            "code": "TEN",
            "reason": "minimum_not_met",
            "message": body["refused"][0]["message"],
            "campaign_id": world["ten_off"].pk,
            "details": {"missing": "5.50", "minimum": "100.00"},
        }
    ]
    assert body["points"] == 89
    assert body["lines"][1] == {
        "key": "1",
        "product_id": world["apples"].pk,
        "subtotal": {"amount": "4.50", "currency": "EUR"},
        "discount": {"amount": "0.00", "currency": "EUR"},
        "total": {"amount": "4.50", "currency": "EUR"},
    }


def test_a_quote_writes_nothing(world) -> None:
    before = CouponCode.objects.get(code="TEN").used_count
    body = {"program": "club", "codes": ["TEN"], "lines": [{"product_id": world["wine"].pk, "quantity": 3}]}
    assert world["shopper"].post("/api/v1/loyalty/quote", body, format="json").json()["discount"]["amount"] == "10.00"
    assert CouponCode.objects.get(code="TEN").used_count == before


def test_a_store_quotes_for_its_own_store_with_a_presented_card(world) -> None:
    till = api_as(make_client(CallerKind.STORE, store=world["store"]))
    other = LocationFactory.create(code="LYO01")
    body = {
        "program": "club",
        "card_number": world["member"].card_number,
        "lines": [{"product_id": world["apples"].pk, "quantity": 1}],
    }

    assert till.post("/api/v1/loyalty/quote", body, format="json").json()["store"] == "PAR01"
    refused = till.post("/api/v1/loyalty/quote", {**body, "store": other.code}, format="json")
    assert problem(refused, 422, "validation_failed")["errors"][0]["field"] == "store"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lines": [{"product_id": 1, "quantity": -1}]}, "lines.0.quantity"),
        ({"lines": [{"product_id": 1, "quantity": "2"}]}, "lines.0.quantity"),
        ({"lines": []}, "lines"),
        ({"card_number": "2900000000019"}, "card_number"),
        ({"card_number": "29000"}, "card_number"),
        ({"codes": ["TE\u0000N"]}, "codes.0"),
        ({"surprise": 1}, "surprise"),
        ({"at": "2027-01-01T10:00:00"}, "at"),
        ({"lines": [{"product_id": 999999, "quantity": 1}]}, "lines.0.product_id"),
        ({"program": "nope"}, "program"),
    ],
)
def test_bad_quote_bodies_are_precise_422s(world, change, field) -> None:
    body = {"program": "club", "lines": [{"product_id": world["apples"].pk, "quantity": 1}], **change}

    response = world["shopper"].post("/api/v1/loyalty/quote", body, format="json")

    assert problem(response, 422, "validation_failed")["errors"][0]["field"] == field


def test_unknown_and_foreign_codes_get_reasons_not_errors(world) -> None:
    bob = MemberFactory.create(program=world["program"])
    code(campaign(world["program"]), "BOBONLY", usage_limit=1, member=bob)
    body = {
        "program": "club",
        "codes": ["NOSUCH", "BOBONLY"],
        "lines": [{"product_id": world["wine"].pk, "quantity": 3}],
    }

    refused = world["shopper"].post("/api/v1/loyalty/quote", body, format="json").json()["refused"]

    assert [(r["code"], r["reason"]) for r in refused] == [("NOSUCH", "unknown_code"), ("BOBONLY", "not_for_member")]


def test_a_shopper_sees_only_their_own_member(world) -> None:
    points_earn(
        program=world["program"], member_id=world["member"].pk, points=42, source="order:1", earned_at=timezone.now()
    )
    other = MemberFactory.create(program=world["program"])
    shopper = world["shopper"]

    me = shopper.get("/api/v1/loyalty/me")
    assert me.status_code == 200
    assert me.json()["points"] == {"balance": 0, "pending": 42, "active": 0, "debt": 0}
    assert shopper.get(f"/api/v1/loyalty/members/{world['member'].card_number}").status_code == 200
    problem(shopper.get(f"/api/v1/loyalty/members/{other.card_number}"), 404, "not_found")
    history = shopper.get("/api/v1/loyalty/me/movements").json()["results"]
    assert [(m["kind"], m["delta_pending"]) for m in history] == [("earn", 42)]
    assert shopper.get("/api/v1/loyalty/me/coupons").json() == []
    # another shopper without a membership
    stranger = api_as(make_client(CallerKind.SHOPPER), user=UserFactory.create())
    problem(stranger.get("/api/v1/loyalty/me"), 404, "not_found")


def test_management_is_the_operators(world) -> None:
    store = api_as(make_client(CallerKind.STORE, store=world["store"]))
    problem(store.get("/api/v1/loyalty/campaigns"), 403, "insufficient_scope")
    partner_with_scope = api_as(make_client(CallerKind.PARTNER), scopes=["loyalty:manage"])
    assert partner_with_scope.get("/api/v1/loyalty/campaigns").status_code in (403,)


def test_the_operator_enrols_members_with_a_checked_card(operator, world) -> None:
    issued = operator.post("/api/v1/loyalty/members", {"program": "club", "home_store": "PAR01"}, format="json")
    assert issued.status_code == 201, issued.content
    assert Member.objects.filter(card_number=issued.json()["card_number"]).exists()

    number = card_number()
    assert (
        operator.post("/api/v1/loyalty/members", {"program": "club", "card_number": number}, format="json").status_code
        == 201
    )
    problem(
        operator.post("/api/v1/loyalty/members", {"program": "club", "card_number": number}, format="json"),
        409,
        "card_number_taken",
    )
    bad = operator.post(
        "/api/v1/loyalty/members",
        {"program": "club", "card_number": number[:-1] + "0" if number[-1] != "0" else number[:-1] + "1"},
        format="json",
    )
    assert problem(bad, 422, "validation_failed")["errors"][0]["field"] == "card_number"
    problem(
        operator.post(
            "/api/v1/loyalty/members", {"program": "club", "user_id": world["member"].user_id}, format="json"
        ),
        409,
        "member_exists",
    )


def test_campaign_state_machine_and_bad_campaigns(operator, world) -> None:
    target = world["ten_off"]
    problem(
        operator.post(f"/api/v1/loyalty/campaigns/{target.pk}/state", {"state": "draft"}, format="json"),
        422,
        "validation_failed",
    )
    assert (
        operator.post(f"/api/v1/loyalty/campaigns/{target.pk}/state", {"state": "ended"}, format="json").status_code
        == 200
    )
    problem(
        operator.post(f"/api/v1/loyalty/campaigns/{target.pk}/state", {"state": "active"}, format="json"),
        409,
        "campaign_state_conflict",
    )
    now = timezone.now()
    base = {
        "program": "club",
        "name_fr": "x",
        "starts_at": now.isoformat(),
        "ends_at": (now + dt.timedelta(days=1)).isoformat(),
    }
    no_percent = operator.post("/api/v1/loyalty/campaigns", {**base, "benefit": "percent_off_lines"}, format="json")
    assert problem(no_percent, 422, "validation_failed")["errors"][0]["field"] == "benefit_percent"
    backwards = operator.post(
        "/api/v1/loyalty/campaigns",
        {**base, "ends_at": base["starts_at"], "benefit": "amount_off_basket", "benefit_amount": "1.00"},
        format="json",
    )
    assert problem(backwards, 422, "validation_failed")["errors"][0]["field"] == "ends_at"
    problem(operator.get("/api/v1/loyalty/campaigns/999999"), 404, "not_found")


def test_code_jobs_generate_unique_codes_with_a_check_character_and_show_progress(operator, world) -> None:
    created = operator.post(
        f"/api/v1/loyalty/campaigns/{world['ten_off'].pk}/code-jobs",
        {"requested": 2500, "prefix": "AB-", "random_length": 6, "charset": "ABCDEFGHJK23456789"},
        format="json",
    )
    assert created.status_code == 202, created.content
    job_id = created.json()["id"]
    assert created.json()["progress"] == 0.0

    # the Celery task's work, run here
    codes_generate(job_id=job_id)

    job = operator.get(f"/api/v1/loyalty/code-jobs/{job_id}").json()
    assert (job["state"], job["generated"], job["progress"]) == ("done", 2500, 1.0)
    codes = list(CouponCode.objects.filter(job_id=job_id).values_list("code", flat=True))
    assert len(set(codes)) == 2500
    assert all(
        c.startswith("AB-") and len(c) == 10 and check_character(c[:-1].replace("-", ""), "ABCDEFGHJK23456789") == c[-1]
        for c in codes
    )
    assert CodeGenerationJob.objects.get(pk=job_id).state == CodeGenerationJob.State.DONE
    too_many = operator.post(
        f"/api/v1/loyalty/campaigns/{world['ten_off'].pk}/code-jobs", {"requested": 1_000_001}, format="json"
    )
    problem(too_many, 422, "validation_failed")


def test_a_single_use_generated_code_reads_as_used_up_once_used(world) -> None:
    coupon = code(world["ten_off"], "ONCE-ONLY", usage_limit=1)
    CouponCode.objects.filter(pk=coupon.pk).update(used_count=1)
    body = {"program": "club", "codes": ["once-only"], "lines": [{"product_id": world["wine"].pk, "quantity": 3}]}

    refused = world["shopper"].post("/api/v1/loyalty/quote", body, format="json").json()["refused"]

    assert [(r["code"], r["reason"]) for r in refused] == [("once-only", "code_used_up")]
