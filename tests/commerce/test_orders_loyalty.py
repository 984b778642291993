"""Orders with a loyalty part: coupons priced as a quote prices them and
reserved in the order's transaction, points paying part of it, the order
showing subtotal, discount and total, and the order's fate moving its
coupons and points on. A refused order leaves nothing behind."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from commerce.models import Order, PickupSlot
from loyalty.models import (
    BucketState,
    BudgetCounter,
    CouponCode,
    Member,
    MemberPurchase,
    PointsBucket,
    Program,
    Redemption,
    RedemptionState,
)
from loyalty.services.points import points_earn
from partners.models import Event
from tests.commerce.factories import idempotency_key, open_slot, shopper, stock_of, stocked_product
from tests.commerce.test_orders import place
from tests.loyalty.factories import TOTAL, MemberFactory, ProgramFactory, campaign, code

pytestmark = pytest.mark.django_db


@pytest.fixture
def program() -> Program:
    return ProgramFactory.create(code="club", earn_rate=Decimal(1), burn_rate=Decimal("0.01"))


@pytest.fixture
def wine(store: Any) -> Any:
    return stocked_product(store, on_hand=50, price="12.00", name_fr="Vin", category="wine")


@pytest.fixture
def ten_off(program: Program) -> CouponCode:
    """10 EUR off a basket of 100 EUR or more, public code DIX."""
    offer = campaign(program, min_basket_amount=Decimal("100.00"), budgets=[(TOTAL, 100, "1000.00")])
    return code(offer, "DIX")


@pytest.fixture
def member(program: Program, alice: Any) -> Member:
    _api, user = alice
    return MemberFactory.create(program=program, user=user)


def with_points(member: Member, points: int) -> None:
    """Points earned long ago, so already active."""
    points_earn(
        program=member.program, member_id=member.pk, points=points, source=f"seed:{member.pk}:{points}",
        earned_at=timezone.now() - dt.timedelta(days=40),
    )  # fmt: skip
    member.refresh_from_db()
    assert member.points_active == points


def used(target: Any) -> int:
    """Units taken from the campaign's total budget (no counter row: none)."""
    counter = BudgetCounter.objects.filter(budget__campaign=target, key="").first()
    return counter.used_count if counter else 0


def order_body(slot: PickupSlot, product: Any, quantity: int, **loyalty: Any) -> dict[str, Any]:
    return {"slot_id": slot.pk, "lines": [{"product_id": product.pk, "quantity": quantity}], "loyalty": loyalty}


def nothing_written(slot: PickupSlot, store: Any, product: Any) -> None:
    slot.refresh_from_db()
    assert slot.booked == 0
    assert stock_of(store, product).reserved == 0
    assert not Redemption.objects.exists()


# ---------------------------------------------------------------- placing


def test_a_member_orders_with_a_code_and_sees_subtotal_discount_and_total(alice, member, slot, wine, ten_off) -> None:
    api, _user = alice
    # when Alice orders 10 bottles at 12.00 with the code for 10 off 100
    response = place(api, order_body(slot, wine, 10, codes=["dix"]))
    # then the order shows 120.00 less 10.00, the line carries the discount, the coupon is reserved
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["subtotal"]["amount"], body["discount"]["amount"], body["total"]["amount"]) == (
        "120.00",
        "10.00",
        "110.00",
    )
    assert body["lines"][0]["line_total"]["amount"] == "120.00"
    assert body["lines"][0]["discount"]["amount"] == "10.00"
    loyalty = body["loyalty"]
    assert loyalty["program"] == "club"
    assert loyalty["card_number"] == member.card_number
    assert [(c["code"], c["state"], c["discount"]["amount"]) for c in loyalty["coupons"]] == [
        ("DIX", "reserved", "10.00")
    ]
    assert loyalty["points_to_earn"] == 110
    redemption = Redemption.objects.get(source_reference=f"order:{body['id']}")
    assert (redemption.state, redemption.member_id) == (RedemptionState.RESERVED, member.pk)
    assert redemption.expires_at is None  # it waits for the order's fate, not the reservation TTL
    assert redemption.basket_amount == Decimal("120.00")
    assert used(ten_off.campaign) == 1
    assert Event.objects.filter(type="coupon.reserved", subject=f"campaign:{ten_off.campaign_id}").exists()
    # and reading the order again shows the same
    again = api.get(f"/api/v1/orders/{body['id']}").json()
    assert again["loyalty"] == loyalty
    assert again["total"] == body["total"]


def test_an_order_without_a_loyalty_part_shows_no_discount(alice, slot, wine) -> None:
    api, _user = alice
    body = place(api, {"slot_id": slot.pk, "lines": [{"product_id": wine.pk, "quantity": 2}]}).json()
    assert (body["subtotal"]["amount"], body["discount"]["amount"], body["total"]["amount"]) == (
        "24.00",
        "0.00",
        "24.00",
    )
    assert body["loyalty"] is None


def test_a_code_that_does_not_apply_refuses_the_order_and_writes_nothing(alice, member, slot, store, wine, ten_off):
    api, _user = alice
    # when the basket is 60.00, under the 100.00 minimum
    response = place(api, order_body(slot, wine, 5, codes=["DIX"]))
    # then the order is refused naming the code and what is missing, and nothing is taken
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "coupon_not_applicable"
    assert problem["coupon_code"] == "DIX"
    assert problem["reason"] == "minimum_not_met"
    assert "DIX" in problem["detail"]
    assert not Order.objects.exists()
    assert not Redemption.objects.exists()
    nothing_written(slot, store, wine)


def test_an_unknown_code_refuses_the_order(alice, member, slot, wine) -> None:
    api, _user = alice
    response = place(api, order_body(slot, wine, 10, codes=["NOPE1"]))
    assert response.status_code == 409
    assert (response.json()["coupon_code"], response.json()["reason"]) == ("NOPE1", "unknown_code")


def test_a_spent_budget_refuses_the_next_order_without_taking_the_slot(app, program, slot, store, wine) -> None:
    offer = campaign(program, min_basket_amount=Decimal("100.00"), budgets=[(TOTAL, 1, None)])
    code(offer, "ONCE")
    first, second = shopper(app), shopper(app)
    assert place(first[0], order_body(slot, wine, 10, codes=["ONCE"])).status_code == 201
    # when a second shopper uses the code of a campaign whose one unit is taken
    response = place(second[0], order_body(slot, wine, 10, codes=["ONCE"]))
    # then the quote already sees the budget used up, and the slot keeps one booking
    assert response.status_code == 409
    assert response.json()["reason"] == "budget_used_up"
    assert PickupSlot.objects.get(pk=slot.pk).booked == 1
    assert used(offer) == 1


def test_a_full_slot_after_the_coupon_rolls_the_coupon_back(app, program, store, wine, ten_off) -> None:
    slot = open_slot(store, capacity=1)
    first, second = shopper(app), shopper(app)
    assert place(first[0], {"slot_id": slot.pk, "lines": [{"product_id": wine.pk, "quantity": 1}]}).status_code == 201
    # when the code is reserved first and then the slot is found full
    response = place(second[0], order_body(slot, wine, 10, codes=["DIX"]))
    # then the order is refused as slot_full and the code's unit is given back (rolled back)
    assert response.status_code == 409
    assert response.json()["code"] == "slot_full"
    assert not Redemption.objects.exists()
    assert used(ten_off.campaign) == 0


def test_insufficient_stock_after_the_coupon_rolls_everything_back(alice, member, slot, store, ten_off) -> None:
    api, _user = alice
    scarce = stocked_product(store, on_hand=9, price="12.00")
    response = place(api, order_body(slot, scarce, 10, codes=["DIX"]))
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"
    assert not Redemption.objects.exists()
    assert used(ten_off.campaign) == 0
    assert PickupSlot.objects.get(pk=slot.pk).booked == 0


def test_a_retried_order_reserves_its_coupon_once(alice, member, slot, wine, ten_off) -> None:
    api, _user = alice
    key = idempotency_key()
    first = place(api, order_body(slot, wine, 10, codes=["DIX"]), key=key)
    again = place(api, order_body(slot, wine, 10, codes=["DIX"]), key=key)
    assert again.json() == first.json()
    assert Redemption.objects.count() == 1
    assert used(ten_off.campaign) == 1


# ---------------------------------------------------------------- points


def test_points_pay_part_of_the_order_and_earn_only_on_the_money_paid(alice, member, slot, wine, ten_off) -> None:
    api, _user = alice
    with_points(member, 2000)
    # when Alice pays 1,500 points (15.00 at 0.01) on a 110.00 basket after the code
    response = place(api, order_body(slot, wine, 10, codes=["DIX"], points=1500))
    assert response.status_code == 201, response.json()
    body = response.json()
    # then she pays 95.00 in money, and earns on those 95.00 only
    assert (body["subtotal"]["amount"], body["discount"]["amount"], body["total"]["amount"]) == (
        "120.00",
        "10.00",
        "95.00",
    )
    assert body["loyalty"]["points_spent"] == 1500
    assert body["loyalty"]["points_amount"]["amount"] == "15.00"
    assert body["loyalty"]["points_to_earn"] == 95
    member.refresh_from_db()
    assert member.points_active == 500
    assert Event.objects.filter(type="points.spent", subject=f"member:{member.pk}").exists()


@pytest.mark.parametrize(
    ("points", "status", "where", "code_"),
    [
        (3000, 409, None, "insufficient_points"),
        (20000, 422, "loyalty.points", "points_exceed_total"),
    ],
)
def test_points_beyond_the_balance_or_the_total_are_refused(
    alice, member, slot, store, wine, points, status, where, code_
) -> None:
    api, _user = alice
    with_points(member, 2000)
    response = place(api, order_body(slot, wine, 10, points=points))
    assert response.status_code == status, response.json()
    problem = response.json()
    if where is None:
        assert problem["code"] == code_
    else:
        assert problem["errors"][0]["field"] == where
        assert problem["errors"][0]["code"] == code_
    member.refresh_from_db()
    assert member.points_active == 2000
    assert not Order.objects.exists()
    nothing_written(slot, store, wine)


def test_points_without_a_member_are_refused(alice, program, slot, wine) -> None:
    api, _user = alice
    response = place(api, order_body(slot, wine, 10, points=100))
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "loyalty.points",
        "code": "member_required",
        "message": response.json()["errors"][0]["message"],
    }


# ---------------------------------------------------------------- who and what


def test_a_store_cannot_use_another_customers_card(store_api, program, slot, wine, member) -> None:
    other = shopper()[1]
    body = {**order_body(slot, wine, 10, card_number=member.card_number), "customer_id": other.pk}
    response = place(store_api, body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "loyalty.card_number"


def test_a_store_orders_for_a_member_customer_without_the_card(store_api, program, slot, wine, member, ten_off):
    body = {**order_body(slot, wine, 10, codes=["DIX"]), "customer_id": member.user_id}
    response = place(store_api, body)
    assert response.status_code == 201, response.json()
    assert response.json()["loyalty"]["card_number"] == member.card_number


@pytest.mark.parametrize(
    ("loyalty", "field"),
    [
        ({"card_number": "2900000000019"}, "loyalty.card_number"),  # wrong check digit
        ({"card_number": "12345"}, "loyalty.card_number"),
        ({"codes": ["no spaces"]}, "loyalty.codes.0"),
        ({"points": -1}, "loyalty.points"),
        ({"points": "10"}, "loyalty.points"),
        ({"program": "nope"}, "loyalty.program"),
        ({"extra": 1}, "loyalty.extra"),
    ],
)
def test_bad_loyalty_parts_are_precise_422s(alice, program, slot, store, wine, loyalty, field) -> None:
    api, _user = alice
    response = place(api, order_body(slot, wine, 10, **loyalty))
    assert response.status_code == 422, response.json()
    assert response.json()["errors"][0]["field"] == field
    nothing_written(slot, store, wine)


# ---------------------------------------------------------------- the order's fate


def move(api: Any, order_id: str, status: str) -> Any:
    return api.post(f"/api/v1/orders/{order_id}/status", {"status": status}, format="json")


def test_collected_confirms_the_coupon_and_earns_pending_points(
    alice, member, slot, store, wine, ten_off, store_api
) -> None:
    api, _user = alice
    order_id = place(api, order_body(slot, wine, 10, codes=["DIX"])).json()["id"]
    for status in ("preparing", "ready", "collected"):
        assert move(store_api, order_id, status).status_code == 200
    redemption = Redemption.objects.get(source_reference=f"order:{order_id}")
    assert (redemption.state, redemption.points_earned) == (RedemptionState.CONFIRMED, 110)
    bucket = PointsBucket.objects.get(member=member, source=f"order:{order_id}")
    assert (bucket.amount, bucket.state) == (110, BucketState.PENDING)
    assert MemberPurchase.objects.filter(member=member, store=store, category="wine").exists()
    assert Event.objects.filter(type="coupon.redeemed").exists()
    assert Event.objects.filter(type="points.earned", subject=f"member:{member.pk}").exists()
    assert api.get(f"/api/v1/orders/{order_id}").json()["loyalty"]["coupons"][0]["state"] == "confirmed"


def test_cancelled_gives_the_coupon_and_the_points_back(alice, member, slot, wine, ten_off) -> None:
    api, _user = alice
    with_points(member, 2000)
    order_id = place(api, order_body(slot, wine, 10, codes=["DIX"], points=1000)).json()["id"]
    assert api.post(f"/api/v1/orders/{order_id}/cancel", {}, format="json").status_code == 200
    redemption = Redemption.objects.get(source_reference=f"order:{order_id}")
    assert redemption.state == RedemptionState.RELEASED
    assert used(ten_off.campaign) == 0
    member.refresh_from_db()
    assert member.points_active == 2000
    assert Event.objects.filter(type="coupon.released").exists()
    # and the code can be used again by the next order
    assert place(api, order_body(slot, wine, 10, codes=["DIX"])).status_code == 201
