"""Till tickets: a store's till posts what it rang up and gets the discounts
and the points; the ticket id makes it idempotent; late tickets count in
their till time's campaign window, within the program's delay, and budgets
still hold (a late ticket finding a budget spent is counted on it); returns
take back discount and points per the program's policy; every bad input is
a precise problem+json that writes nothing; and many tills at once give one
ticket per ticket id and never more discounts than a budget holds."""

import datetime as dt
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from loyalty.models import (
    BudgetCounter,
    CampaignState,
    Member,
    MemberPurchase,
    PointsMovement,
    Redemption,
    RedemptionState,
    ReturnPolicy,
    TillTicket,
)
from partners.models import CallerKind, Event
from tests.commerce.factories import ProductFactory
from tests.factories import LocationFactory, PartnerFactory, UserFactory, api_as, api_with_token, make_client, token_for
from tests.loyalty.factories import MemberFactory, ProgramFactory, campaign, code
from tests.parallel import in_parallel

URL = "/api/v1/loyalty/tickets"


@pytest.fixture
def world(db: Any) -> dict[str, Any]:
    program = ProgramFactory.create(code="club", late_ticket_days=7, return_policy=ReturnPolicy.WITHIN_BALANCE)
    store = LocationFactory.create(code="PAR01")
    other_store = LocationFactory.create(code="LYO01")
    till = make_client(CallerKind.STORE, store=store)
    member = MemberFactory.create(program=program, home_store=store)
    ProductFactory.create(sku="APPLE", category="fruit", price_amount=Decimal("0.50"))
    ProductFactory.create(sku="WINE", category="wine", price_amount=Decimal("40.00"))
    ten_off = campaign(
        program,
        min_basket_amount=Decimal("30.00"),
        starts_at=timezone.now() - dt.timedelta(days=20),
        budgets=[("total", 100, None)],
    )
    code(ten_off, "TEN")
    return {
        "program": program,
        "store": store,
        "other_store": other_store,
        "till": api_as(till),
        "till_client": till,
        "member": member,
        "ten_off": ten_off,
    }


def ticket(world: dict[str, Any], ticket_id: str = "T-1", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "program": "club",
        "store": "PAR01",
        "ticket_id": ticket_id,
        "card_number": world["member"].card_number,
        "codes": ["TEN"],
        "lines": [
            {"sku": "WINE", "quantity": 1, "unit_price": "36.00"},
            {"sku": "APPLE", "quantity": 4, "unit_price": "1.00"},
        ],
        "till_time": (timezone.now() - dt.timedelta(minutes=1)).isoformat(),
    }
    body.update(changes)
    return body


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


def field_error(response: Any, field: str, code: str) -> None:
    body = problem(response, 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, code)], body


def nothing_written() -> None:
    assert not TillTicket.objects.exists()
    assert not Redemption.objects.exists()
    assert not PointsMovement.objects.exists()
    assert set(BudgetCounter.objects.values_list("used_count", flat=True)) <= {0}


def money(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


# ---------------------------------------------------------------- the ticket


def test_a_ticket_gets_its_discounts_and_points_and_reports_the_codes_that_do_not_apply(world) -> None:
    # given a member's ticket of 40.00 with the code TEN (10 off 30) and an unknown code
    body = ticket(world, codes=["TEN", "NOPE"])

    # when the till posts it
    response = world["till"].post(URL, body, format="json")

    # then it gets 10.00 off (spread over the lines by their price), 30 points pending, NOPE refused
    assert response.status_code == 201, response.content
    got = response.json()
    assert got["subtotal"] == money("40.00")
    assert got["discount"] == money("10.00")
    assert got["total"] == money("30.00")
    assert [(line["line"], line["discount"]["amount"]) for line in got["lines"]] == [(0, "9.00"), (1, "1.00")]
    assert [(a["code"], a["discount"]) for a in got["applied"]] == [("TEN", money("10.00"))]
    assert [(r["code"], r["reason"], r["late"]) for r in got["refused"]] == [("NOPE", "unknown_code", False)]
    assert got["refused"][0]["message"]
    assert got["points"]["earned"] == 30
    assert got["points"]["activates_at"] is not None
    assert got["late"] is False
    assert response["Location"] == "/api/v1/loyalty/tickets/PAR01/T-1"
    # and the redemption is confirmed, the points pending, the purchases and events written
    redemption = Redemption.objects.get()
    assert (redemption.state, redemption.source_kind, redemption.discount_amount) == (
        RedemptionState.CONFIRMED,
        "ticket",
        Decimal("10.00"),
    )
    assert redemption.points_earned == 30
    member = Member.objects.get(pk=world["member"].pk)
    assert (member.points_pending, member.points_active) == (30, 0)
    assert set(MemberPurchase.objects.values_list("category", flat=True)) == {"fruit", "wine"}
    assert set(Event.objects.values_list("type", flat=True)) == {"coupon.redeemed", "points.earned"}
    # and the ticket reads back as answered
    read = world["till"].get("/api/v1/loyalty/tickets/PAR01/T-1")
    assert read.status_code == 200
    assert read.json() == got


def test_the_same_ticket_again_answers_what_was_recorded_and_writes_nothing_more(world) -> None:
    body = ticket(world)
    first = world["till"].post(URL, body, format="json")
    assert first.status_code == 201, first.content

    again = world["till"].post(URL, body, format="json")

    assert again.status_code == 200, again.content
    assert again.json() == first.json()
    assert TillTicket.objects.count() == 1
    assert Redemption.objects.count() == 1
    assert Member.objects.get(pk=world["member"].pk).points_pending == 30
    assert BudgetCounter.objects.get().used_count == 1


@pytest.mark.parametrize(
    "change",
    [
        {"lines": [{"sku": "WINE", "quantity": 2, "unit_price": "36.00"}]},
        {"codes": []},
        {"card_number": None},
    ],
)
def test_the_same_ticket_id_with_other_content_is_a_409_that_changes_nothing(world, change) -> None:
    base = ticket(world)
    first = world["till"].post(URL, base, format="json")
    assert first.status_code == 201
    other = {k: v for k, v in {**base, **change}.items() if v is not None}

    response = world["till"].post(URL, other, format="json")

    body = problem(response, 409, "ticket_conflict")
    assert body["ticket_id"] == "T-1"
    assert TillTicket.objects.count() == 1
    assert world["till"].get("/api/v1/loyalty/tickets/PAR01/T-1").json() == first.json()


def test_codes_of_another_member_or_ended_are_refused_with_their_reason_and_the_sale_stands(world) -> None:
    # given a code assigned to someone else and a code whose campaign ended before the till time
    program = world["program"]
    someone = MemberFactory.create(program=program)
    theirs = campaign(program, amount="3.00", stacking_class="a", combinable_with=["default", "a", "b"])
    code(theirs, "THEIRS", usage_limit=1, member=someone)
    now = timezone.now()
    old = campaign(program, amount="2.00", starts_at=now - dt.timedelta(days=9), ends_at=now - dt.timedelta(days=3))
    code(old, "OLD")

    response = world["till"].post(URL, ticket(world, codes=["THEIRS", "OLD"]), format="json")

    assert response.status_code == 201, response.content
    got = response.json()
    assert {r["code"]: r["reason"] for r in got["refused"]} == {"THEIRS": "not_for_member", "OLD": "expired"}
    assert got["discount"] == money("0.00")
    assert got["points"]["earned"] == 40
    assert TillTicket.objects.count() == 1


def test_an_anonymous_ticket_gets_discounts_but_no_points(world) -> None:
    body = ticket(world)
    del body["card_number"]

    response = world["till"].post(URL, body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["card_number"] is None
    assert response.json()["discount"] == money("10.00")
    assert response.json()["points"] == {"earned": 0, "activates_at": None, "expires_at": None}
    assert not PointsMovement.objects.exists()


# ---------------------------------------------------------------- late tickets


def test_a_late_ticket_counts_in_its_till_times_window_even_after_the_campaign_ended(world) -> None:
    # given a campaign that ran until yesterday, ended by the nightly job, and a till offline since
    now = timezone.now()
    program = world["program"]
    ended = campaign(
        program,
        amount="5.00",
        starts_at=now - dt.timedelta(days=10),
        ends_at=now - dt.timedelta(days=1),
        state=CampaignState.ENDED,
        ended_at=now - dt.timedelta(hours=20),
    )
    code(ended, "GONE5")
    till_time = now - dt.timedelta(days=2)

    # when the ticket rung up two days ago arrives now
    response = world["till"].post(URL, ticket(world, codes=["GONE5"], till_time=till_time.isoformat()), format="json")

    # then it gets the discount of its till time and is marked late
    assert response.status_code == 201, response.content
    got = response.json()
    assert got["late"] is True
    assert [(a["code"], a["discount"]) for a in got["applied"]] == [("GONE5", money("5.00"))]
    assert Redemption.objects.get().occurred_at == till_time


def test_a_late_ticket_finding_the_budget_spent_is_refused_for_it_and_counted(world) -> None:
    # given a campaign with a budget of one redemption, taken by an on-time ticket
    program = world["program"]
    one = campaign(
        program, amount="4.00", starts_at=timezone.now() - dt.timedelta(days=5), budgets=[("total", 1, None)]
    )
    code(one, "ONCE")
    first = world["till"].post(URL, ticket(world, "T-1", codes=["ONCE"]), format="json")
    assert first.json()["discount"] == money("4.00")
    counter = BudgetCounter.objects.get(budget__campaign=one)

    # when a ticket rung up three hours earlier arrives late with the same code
    late_time = (timezone.now() - dt.timedelta(hours=3)).isoformat()
    late = world["till"].post(URL, ticket(world, "T-0", codes=["ONCE"], till_time=late_time), format="json")

    # then the sale stands without that discount, refused as budget_used_up (late), and the counter counts it
    assert late.status_code == 201, late.content
    got = late.json()
    assert got["late"] is True
    assert got["discount"] == money("0.00")
    assert [(r["code"], r["reason"], r["late"]) for r in got["refused"]] == [("ONCE", "budget_used_up", True)]
    counter.refresh_from_db()
    assert (counter.used_count, counter.refused_late) == (1, 1)

    # and an on-time ticket finding it spent is refused the same way but not counted as late
    on_time = world["till"].post(URL, ticket(world, "T-2", codes=["ONCE"]), format="json")
    assert [(r["reason"], r["late"]) for r in on_time.json()["refused"]] == [("budget_used_up", False)]
    counter.refresh_from_db()
    assert (counter.used_count, counter.refused_late) == (1, 1)


def test_a_late_ticket_losing_an_offer_without_code_to_a_spent_budget_reports_and_counts_it(world) -> None:
    # given an offer needing no code, with a budget of one, taken by an on-time ticket
    auto = campaign(
        world["program"],
        amount="3.00",
        requires_code=False,
        starts_at=timezone.now() - dt.timedelta(days=5),
        budgets=[("total", 1, None)],
    )
    first = world["till"].post(URL, ticket(world, "T-1", codes=[]), format="json")
    assert [a["campaign_id"] for a in first.json()["applied"]] == [auto.pk]

    # when a late ticket that would have got it arrives
    late_time = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    late = world["till"].post(URL, ticket(world, "T-0", codes=[], till_time=late_time), format="json")

    # then it says which offer it lost and why, and the budget counts it
    assert late.status_code == 201, late.content
    got = late.json()
    assert got["applied"] == []
    assert [(r["code"], r["campaign_id"], r["reason"], r["late"]) for r in got["refused"]] == [
        (None, auto.pk, "budget_used_up", True)
    ]
    counter = BudgetCounter.objects.get(budget__campaign=auto)
    assert (counter.used_count, counter.refused_late) == (1, 1)

    # and an on-time ticket loses it silently, as a quote does
    on_time = world["till"].post(URL, ticket(world, "T-2", codes=[]), format="json")
    assert on_time.json()["refused"] == []
    counter.refresh_from_db()
    assert counter.refused_late == 1


def test_a_ticket_older_than_the_programs_delay_is_refused(world) -> None:
    too_old = (timezone.now() - dt.timedelta(days=7, minutes=1)).isoformat()

    response = world["till"].post(URL, ticket(world, till_time=too_old), format="json")

    body = problem(response, 422, "ticket_too_late")
    assert body["late_ticket_days"] == 7
    nothing_written()


def test_a_ticket_from_the_future_is_refused_beyond_the_clock_skew(world) -> None:
    ahead = (timezone.now() + dt.timedelta(minutes=6)).isoformat()
    problem(world["till"].post(URL, ticket(world, till_time=ahead), format="json"), 422, "ticket_in_the_future")
    nothing_written()

    slightly = (timezone.now() + dt.timedelta(minutes=2)).isoformat()
    assert world["till"].post(URL, ticket(world, till_time=slightly), format="json").status_code == 201


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"card_number": "2900000000019"}, "card_number", "invalid_check_digit"),
        ({"card_number": "29000000"}, "card_number", "invalid_card_number"),
        ({"lines": [{"sku": "WINE", "quantity": -1, "unit_price": "1.00"}]}, "lines.0.quantity", "min_value"),
        ({"lines": [{"sku": "WINE", "quantity": 0, "unit_price": "1.00"}]}, "lines.0.quantity", "min_value"),
        ({"lines": [{"sku": "WINE", "quantity": 1.5, "unit_price": "1.00"}]}, "lines.0.quantity", "invalid"),
        ({"lines": [{"sku": "WINE", "quantity": 1, "unit_price": 1.0}]}, "lines.0.unit_price", "invalid"),
        ({"lines": [{"sku": "WINE", "quantity": 1, "unit_price": "-1.00"}]}, "lines.0.unit_price", "min_value"),
        (
            {
                "lines": [
                    {"sku": "WINE", "quantity": 1, "unit_price": "1.00"},
                    {"sku": "NOPE", "quantity": 1, "unit_price": "1.00"},
                ]
            },
            "lines.1.sku",
            "unknown_sku",
        ),
        ({"lines": []}, "lines", "min_length"),
        (
            {"lines": [{"sku": "WINE", "quantity": 10_000, "unit_price": "9999999999.99"}]},
            "lines",
            "amount_too_large",
        ),
        ({"till_time": "2026-12-05T10:00:00"}, "till_time", "invalid"),
        ({"ticket_id": "a/b"}, "ticket_id", "invalid"),
        ({"store": "LYO01"}, "store", "unknown_store"),
        ({"program": "nope"}, "program", "unknown_program"),
        ({"card_number": "2999999999991"}, "card_number", "unknown_card"),
        ({"extra": 1}, "extra", "unknown_field"),
    ],
)
def test_bad_tickets_are_precise_422s_that_write_nothing(world, change, field, code) -> None:
    response = world["till"].post(URL, ticket(world, **change), format="json")

    field_error(response, field, code)
    nothing_written()


def test_a_sku_names_the_retailers_product_first_else_the_one_partners(world) -> None:
    """The till cannot say whose product a SKU is: the retailer's own is
    taken, else the only partner product with that SKU; several partners'
    products are a 422, and a store's till does not sell an inactive one."""
    acme, other = PartnerFactory.create(), PartnerFactory.create()
    ProductFactory.create(sku="SHARED", owner=acme, category="acme")
    retailers = ProductFactory.create(sku="SHARED", category="retailer")
    only = ProductFactory.create(sku="ACME-1", owner=acme, category="acme")
    ProductFactory.create(sku="TWO", owner=acme)
    ProductFactory.create(sku="TWO", owner=other)
    ProductFactory.create(sku="OFF", is_active=False)
    lines = [{"sku": sku, "quantity": 1, "unit_price": "1.00"} for sku in ("SHARED", "ACME-1")]

    response = world["till"].post(URL, ticket(world, codes=[], lines=lines), format="json")

    assert response.status_code == 201, response.content
    stored = TillTicket.objects.get()
    assert [(line["product_id"], line["category"]) for line in stored.lines] == [
        (retailers.pk, "retailer"),
        (only.pk, "acme"),
    ]
    for sku, error in [("TWO", "ambiguous_sku"), ("OFF", "unknown_sku")]:
        bad = [lines[0], {"sku": sku, "quantity": 1, "unit_price": "1.00"}]
        field_error(world["till"].post(URL, ticket(world, f"T-{sku}", lines=bad), format="json"), "lines.1.sku", error)
    assert TillTicket.objects.count() == 1


def test_a_card_of_another_program_is_refused(world) -> None:
    stranger = MemberFactory.create()

    response = world["till"].post(URL, ticket(world, card_number=stranger.card_number), format="json")

    field_error(response, "card_number", "other_program")
    nothing_written()


# ---------------------------------------------------------------- who may


def test_only_stores_and_the_operator_send_tickets_and_a_store_only_its_own(world) -> None:
    shopper = api_as(make_client(CallerKind.SHOPPER), user=UserFactory.create())
    problem(shopper.post(URL, ticket(world), format="json"), 403, "permission_denied")
    no_scope = api_as(world["till_client"], scopes=["loyalty:read"])
    problem(no_scope.post(URL, ticket(world), format="json"), 403, "insufficient_scope")
    problem(APIClient().post(URL, ticket(world), format="json"), 401, "not_authenticated")
    nothing_written()

    # a store's ticket is read by that store and the operator, not by another store
    assert world["till"].post(URL, ticket(world), format="json").status_code == 201
    lyon = api_as(make_client(CallerKind.STORE, store=world["other_store"]))
    problem(lyon.get("/api/v1/loyalty/tickets/PAR01/T-1"), 404, "not_found")
    problem(lyon.post("/api/v1/loyalty/tickets/PAR01/T-1/returns", {"return_id": "R", "lines": [{"line": 0,
            "quantity": 1}]}, format="json"), 404, "not_found")  # fmt: skip
    operator = api_as(make_client(CallerKind.OPERATOR))
    assert operator.get("/api/v1/loyalty/tickets/PAR01/T-1").status_code == 200
    problem(world["till"].get("/api/v1/loyalty/tickets/PAR01/T-2"), 404, "not_found")


# ---------------------------------------------------------------- returns


def returns_url(ticket_id: str = "T-1") -> str:
    return f"/api/v1/loyalty/tickets/PAR01/{ticket_id}/returns"


def test_a_return_takes_back_the_discount_and_points_of_the_units_returned(world) -> None:
    # given a ticket: wine 36.00 (9.00 off), 4 apples at 1.00 (1.00 off), 30 points pending
    assert world["till"].post(URL, ticket(world), format="json").status_code == 201

    # when two apples come back
    body = {"return_id": "R-1", "lines": [{"line": 1, "quantity": 2}]}
    response = world["till"].post(returns_url(), body, format="json")

    # then half the apples' discount goes back to the budget, and their points (1.50 paid of 30.00: 1 point)
    assert response.status_code == 201, response.content
    got = response.json()
    assert got["lines"] == [{"line": 1, "quantity": 2, "discount": money("0.50")}]
    assert got["discount"] == money("0.50")
    assert got["points"] == {"requested": 1, "from_pending": 1, "from_active": 0, "debt": 0, "kept": 0}
    redemption = Redemption.objects.get()
    assert (redemption.state, redemption.rolled_back_amount) == (RedemptionState.CONFIRMED, Decimal("0.50"))
    assert Member.objects.get(pk=world["member"].pk).points_pending == 29
    assert BudgetCounter.objects.get().used_amount == Decimal("9.50")
    assert Event.objects.filter(type="coupon.rolled_back").exists()

    # and the same return again answers the same, writing nothing more
    again = world["till"].post(returns_url(), body, format="json")
    assert again.status_code == 200
    assert again.json() == got
    assert Member.objects.get(pk=world["member"].pk).points_pending == 29

    # and the same return id with other lines is a conflict
    other = {"return_id": "R-1", "lines": [{"line": 1, "quantity": 1}]}
    problem(world["till"].post(returns_url(), other, format="json"), 409, "return_conflict")

    # and returning more than the ticket sold (2 of 4 apples already back) is refused
    too_many = {"return_id": "R-2", "lines": [{"line": 1, "quantity": 3}]}
    body_422 = problem(world["till"].post(returns_url(), too_many, format="json"), 422, "return_exceeds_ticket")
    assert (body_422["sold"], body_422["returned"], body_422["requested"]) == (4, 2, 3)
    unknown = {"return_id": "R-3", "lines": [{"line": 7, "quantity": 1}]}
    field_error(world["till"].post(returns_url(), unknown, format="json"), "lines.0.line", "unknown_line")

    # and returning the rest rolls the whole discount and every point back
    rest = {"return_id": "R-4", "lines": [{"line": 0, "quantity": 1}, {"line": 1, "quantity": 2}]}
    final = world["till"].post(returns_url(), rest, format="json")
    assert final.status_code == 201, final.content
    assert final.json()["discount"] == money("9.50")
    assert final.json()["points"]["requested"] == 29
    redemption.refresh_from_db()
    assert (redemption.state, redemption.rolled_back_amount) == (RedemptionState.ROLLED_BACK, Decimal("10.00"))
    counter = BudgetCounter.objects.get()
    assert (counter.used_count, counter.used_amount) == (0, Decimal("0.00"))
    member = Member.objects.get(pk=world["member"].pk)
    assert (member.points_pending, member.points_active, member.points_debt) == (0, 0, 0)
    read = world["till"].get("/api/v1/loyalty/tickets/PAR01/T-1").json()
    assert [r["return_id"] for r in read["returns"]] == ["R-1", "R-4"]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (ReturnPolicy.ONLY_PENDING, {"from_active": 0, "debt": 0, "kept": 40}),
        (ReturnPolicy.WITHIN_BALANCE, {"from_active": 40, "debt": 0, "kept": 0}),
    ],
)
def test_a_return_after_the_points_activated_follows_the_programs_policy(world, policy, expected) -> None:
    # given a program whose points activate at once (no return window) and a ticket of 40 points
    program = world["program"]
    program.return_policy, program.pending_days = policy, 0
    program.save(update_fields=["return_policy", "pending_days"])
    till_time = (timezone.now() - dt.timedelta(days=2)).isoformat()
    body = ticket(world, codes=[], till_time=till_time)
    assert world["till"].post(URL, body, format="json").json()["points"]["earned"] == 40
    assert Member.objects.get(pk=world["member"].pk).points_active == 40

    # when everything comes back
    everything = {"return_id": "R-1", "lines": [{"line": 0, "quantity": 1}, {"line": 1, "quantity": 4}]}
    response = world["till"].post(returns_url(), everything, format="json")

    # then the points go back as far as the policy allows
    assert response.status_code == 201, response.content
    assert response.json()["points"] == {"requested": 40, "from_pending": 0, **expected}
    assert Member.objects.get(pk=world["member"].pk).points_active == 40 - expected["from_active"]


# ---------------------------------------------------------------- many tills at once


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_thirty_tills_posting_the_same_ticket_at_once_give_one_ticket() -> None:
    world_ = _committed_world()
    body = ticket(world_, "T-RACE")
    tokens = [token_for(world_["till_client"]) for _ in range(30)]

    def post(token: str) -> Callable[[], Any]:
        return lambda: api_with_token(token).post(URL, body, format="json")

    responses = in_parallel([post(t) for t in tokens])

    assert Counter(getattr(r, "status_code", repr(r)) for r in responses) == {201: 1, 200: 29}
    assert all(r.json() == responses[0].json() for r in responses)
    assert TillTicket.objects.count() == 1
    assert Redemption.objects.count() == 1
    assert BudgetCounter.objects.get().used_count == 1
    assert Member.objects.get(pk=world_["member"].pk).points_pending == 30
    assert PointsMovement.objects.count() == 1


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_forty_tickets_against_a_budget_of_ten_give_exactly_ten_discounts() -> None:
    world_ = _committed_world()
    program = world_["program"]
    rush = campaign(
        program,
        amount="5.00",
        starts_at=timezone.now() - dt.timedelta(days=1),
        budgets=[("total", 10, None)],
        stacking_class="rush",
        combinable_with=["default"],
    )
    world_["ten_off"].combinable_with = ["rush"]
    world_["ten_off"].save(update_fields=["combinable_with"])
    code(rush, "RUSH5")
    members = [MemberFactory.create(program=program) for _ in range(40)]
    tokens = [token_for(world_["till_client"]) for _ in range(40)]

    def post(index: int) -> Callable[[], Any]:
        body = ticket(world_, f"T-{index}", card_number=members[index].card_number, codes=["RUSH5", "TEN"])
        return lambda: api_with_token(tokens[index]).post(URL, body, format="json")

    responses = in_parallel([post(i) for i in range(40)])

    assert Counter(getattr(r, "status_code", repr(r)) for r in responses) == {201: 40}
    discounts = Counter(r.json()["discount"]["amount"] for r in responses)
    assert discounts == {"15.00": 10, "10.00": 30}
    refused = [r.json()["refused"] for r in responses if r.json()["discount"]["amount"] == "10.00"]
    assert all(entry == [{**entry[0], "code": "RUSH5", "reason": "budget_used_up"}] for entry in refused)
    rush_counter = BudgetCounter.objects.get(budget__campaign=rush)
    assert (rush_counter.used_count, rush_counter.used_amount) == (10, Decimal("50.00"))
    assert Redemption.objects.filter(campaign=rush, state=RedemptionState.CONFIRMED).count() == 10
    assert Redemption.objects.filter(campaign=world_["ten_off"], state=RedemptionState.CONFIRMED).count() == 40
    # every member earned on what they paid
    points = {m.pk: m.points_pending for m in Member.objects.filter(pk__in=[m.pk for m in members])}
    assert Counter(points.values()) == {25: 10, 30: 30}


def _committed_world() -> dict[str, Any]:
    program = ProgramFactory.create(code="club", late_ticket_days=7)
    store = LocationFactory.create(code="PAR01")
    till = make_client(CallerKind.STORE, store=store)
    member = MemberFactory.create(program=program, home_store=store)
    ProductFactory.create(sku="APPLE", category="fruit", price_amount=Decimal("0.50"))
    ProductFactory.create(sku="WINE", category="wine", price_amount=Decimal("40.00"))
    ten_off = campaign(
        program,
        min_basket_amount=Decimal("30.00"),
        starts_at=timezone.now() - dt.timedelta(days=20),
        budgets=[("total", 100, None)],
    )
    code(ten_off, "TEN")
    return {"program": program, "store": store, "till_client": till, "member": member, "ten_off": ten_off}
