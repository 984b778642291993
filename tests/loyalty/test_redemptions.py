"""Reservation primitives: a reservation takes the code's use and a unit of
every budget counter at once or nothing at all (refused without rollback),
confirm / release / rollback move the counters exactly once, and under real
concurrency (threads on their own connections) a single-use code is redeemed
once and a money budget is never overspent."""

import datetime as dt
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from gateway.transactions import refusable_atomic, refused_without_rollback
from loyalty import pricing
from loyalty.errors import BudgetExhausted, CouponNotApplicable, CouponUsedUp, RedemptionStateConflict
from loyalty.models import BudgetCounter, BudgetScope, CouponCode, Redemption, RedemptionState
from loyalty.selectors.offers import basket_price
from loyalty.services.checkout import basket_reserve, coupon_events
from loyalty.services.redemptions import (
    LineDiscount,
    redemption_confirm,
    redemption_release,
    redemption_reserve,
    redemption_rollback,
    redemptions_release_due,
)
from tests.factories import LocationFactory, PartnerFactory
from tests.loyalty.factories import MemberFactory, ProgramFactory, campaign, code
from tests.parallel import in_parallel

TEN = Decimal("10.00")


def reserve(program, target, *, coupon=None, member=None, store=None, source="order:1", amount=TEN, lines=None):
    lines = lines or [LineDiscount("1", 1, amount * 6 / 10), LineDiscount("2", 2, amount * 4 / 10)]
    with refusable_atomic():
        return redemption_reserve(
            program=program,
            campaign=target,
            code=coupon,
            member_id=member.pk if member else None,
            store_id=store.pk if store else None,
            source_kind="order",
            source_reference=source,
            discount=amount,
            lines=lines,
            occurred_at=timezone.now(),
        )


def used(target) -> dict[str, tuple[int, Decimal]]:
    return {
        f"{c.budget.scope}:{c.key}": (c.used_count, c.used_amount)
        for c in BudgetCounter.objects.filter(budget__campaign=target).select_related("budget")
    }


@pytest.mark.django_db
class TestReserve:
    def test_a_reservation_takes_the_code_and_every_counter_concerned(self) -> None:
        program = ProgramFactory.create()
        member = MemberFactory.create(program=program)
        store = LocationFactory.create()
        target = campaign(
            program,
            budgets=[(BudgetScope.TOTAL, 100, "1000"), (BudgetScope.MEMBER, 1, None), (BudgetScope.STORE, 50, None)],
        )
        coupon = code(target, "WELCOME-1", usage_limit=1, member=member)

        redemption = reserve(program, target, coupon=coupon, member=member, store=store)

        assert redemption.state == RedemptionState.RESERVED
        assert sum(line.discount_amount for line in redemption.lines.all()) == TEN
        assert used(target) == {
            "total:": (1, TEN),
            f"member:m{member.pk}": (1, TEN),
            f"store:s{store.pk}": (1, TEN),
        }
        coupon.refresh_from_db()
        assert coupon.used_count == 1
        # the same order again gets the same redemption and takes nothing more
        assert reserve(program, target, coupon=coupon, member=member, store=store).pk == redemption.pk
        assert used(target)["total:"] == (1, TEN)

    def test_a_full_counter_refuses_without_rollback_and_takes_nothing(self) -> None:
        program = ProgramFactory.create()
        first, second = MemberFactory.create(program=program), MemberFactory.create(program=program)
        target = campaign(program, budgets=[(BudgetScope.TOTAL, 100, None), (BudgetScope.MEMBER, 1, None)])
        coupon = code(target, "PUBLIC10")
        reserve(program, target, coupon=coupon, member=first, source="order:a")

        # the per-member counter is full for the first member, not for the second
        with pytest.raises(BudgetExhausted) as refused:
            reserve(program, target, coupon=coupon, member=first, source="order:b")

        assert refused_without_rollback(refused.value)
        assert used(target)["total:"] == (1, TEN)  # the total counter was not touched either
        reserve(program, target, coupon=coupon, member=second, source="order:c")
        assert used(target)["total:"] == (2, 2 * TEN)

    def test_a_used_up_code_and_a_per_member_budget_without_member_are_refused(self) -> None:
        program = ProgramFactory.create()
        target = campaign(program, budgets=[(BudgetScope.MEMBER, 1, None)])
        coupon = code(target, "ONCE-1", usage_limit=1)
        with pytest.raises(CouponNotApplicable):
            reserve(program, target, coupon=coupon, member=None)
        member = MemberFactory.create(program=program)
        reserve(program, target, coupon=coupon, member=member, source="order:a")
        other = MemberFactory.create(program=program)

        with pytest.raises(CouponUsedUp):
            reserve(program, target, coupon=coupon, member=other, source="order:b")

        # the refused member's counter exists (created at zero on the way) and holds nothing
        assert used(target) == {f"member:m{member.pk}": (1, TEN), f"member:m{other.pk}": (0, Decimal("0.00"))}

    def test_release_confirm_and_rollback_move_the_counters_once(self) -> None:
        program = ProgramFactory.create()
        target = campaign(program, budgets=[(BudgetScope.TOTAL, 10, "100")])
        coupon = code(target, "SINGLE-1", usage_limit=1)
        redemption = reserve(program, target, coupon=coupon)

        assert redemption_release(redemption_id=redemption.pk, reason="cancelled") is True
        assert redemption_release(redemption_id=redemption.pk, reason="cancelled") is False
        assert used(target)["total:"] == (0, Decimal("0.00"))
        coupon.refresh_from_db()
        assert coupon.used_count == 0
        with pytest.raises(RedemptionStateConflict):
            redemption_confirm(redemption_id=redemption.pk)

        # the same order placed again reserves afresh, is confirmed, then returned line by line
        again = reserve(program, target, coupon=coupon)
        assert again.pk == redemption.pk
        redemption_confirm(redemption_id=again.pk)
        redemption_confirm(redemption_id=again.pk)
        partly = redemption_rollback(redemption_id=again.pk, reason="return", lines={"1": Decimal("6.00")})
        assert (partly.state, partly.rolled_back_amount) == (RedemptionState.CONFIRMED, Decimal("6.00"))
        assert used(target)["total:"] == (1, Decimal("4.00"))
        with pytest.raises(RedemptionStateConflict):
            redemption_rollback(redemption_id=again.pk, reason="return", lines={"2": Decimal("4.01")})
        whole = redemption_rollback(redemption_id=again.pk, reason="return")
        assert whole.state == RedemptionState.ROLLED_BACK
        assert used(target)["total:"] == (0, Decimal("0.00"))
        coupon.refresh_from_db()
        assert coupon.used_count == 0

    def test_a_return_after_the_window_is_refused(self) -> None:
        program = ProgramFactory.create(pending_days=14)
        target = campaign(program, budgets=[(BudgetScope.TOTAL, 10, None)])
        redemption = reserve(program, target)
        redemption_confirm(redemption_id=redemption.pk)

        with pytest.raises(RedemptionStateConflict) as refused:
            redemption_rollback(
                redemption_id=redemption.pk, reason="return", now=timezone.now() + dt.timedelta(days=16)
            )

        assert refused.value.extra == {"reason": "return_window_over"}

    def test_reservations_past_their_ttl_are_released_by_the_sweep(self) -> None:
        program = ProgramFactory.create(reservation_minutes=30)
        target = campaign(program, budgets=[(BudgetScope.TOTAL, 10, None)])
        redemption = reserve(program, target)

        assert redemptions_release_due(now=timezone.now() + dt.timedelta(minutes=29)) == 0
        assert redemptions_release_due(now=timezone.now() + dt.timedelta(minutes=31)) == 1
        assert Redemption.objects.get(pk=redemption.pk).state == RedemptionState.RELEASED
        assert used(target)["total:"] == (0, Decimal("0.00"))


def outcome(result: Any) -> str:
    if isinstance(result, Redemption):
        return "reserved"
    return type(result).__name__


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_sixty_threads_redeeming_one_single_use_code_give_exactly_one_success() -> None:
    program = ProgramFactory.create()
    target = campaign(program, budgets=[(BudgetScope.TOTAL, 1000, None), (BudgetScope.DAY, 1000, None)])
    coupon = code(target, "ONLY-ONCE", usage_limit=1)

    def attempt(index: int) -> Callable[[], Any]:
        def call() -> Any:
            with transaction.atomic():  # the caller's transaction, as an order's
                return reserve(program, target, coupon=coupon, source=f"order:{index}")

        return call

    results = in_parallel([attempt(i) for i in range(60)])

    assert Counter(map(outcome, results)) == {"reserved": 1, "CouponUsedUp": 59}
    assert CouponCode.objects.get(pk=coupon.pk).used_count == 1
    assert set(used(target).values()) == {(1, TEN)}


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_a_hundred_euro_budget_never_holds_more_than_ten_coupons_of_ten() -> None:
    program = ProgramFactory.create()
    store = LocationFactory.create()
    target = campaign(program, budgets=[(BudgetScope.TOTAL, None, "100.00"), (BudgetScope.STORE, 1000, None)])
    coupon = code(target, "RUSH10")
    members = [MemberFactory.create(program=program) for _ in range(70)]

    def attempt(index: int) -> Callable[[], Any]:
        def call() -> Any:
            with transaction.atomic():
                return reserve(program, target, coupon=coupon, member=members[index], store=store, source=f"o:{index}")

        return call

    results = in_parallel([attempt(i) for i in range(70)])

    assert Counter(map(outcome, results)) == {"reserved": 10, "BudgetExhausted": 60}
    live = Redemption.objects.filter(campaign=target, state__in=[RedemptionState.RESERVED, RedemptionState.CONFIRMED])
    assert live.count() == 10
    assert used(target)["total:"] == (10, Decimal("100.00"))
    assert CouponCode.objects.get(pk=coupon.pk).used_count == 10


@pytest.mark.django_db
def test_a_basket_reserves_its_campaigns_with_their_codes_and_budgets_and_names_them_in_its_events() -> None:
    """basket_reserve reads the applied campaigns, their budgets and codes in
    one statement; the redemptions and the coupon events (operator, and the
    owning partner's copy) name the campaign and the code as stored."""
    program = ProgramFactory.create()
    member = MemberFactory.create(program=program)
    store = LocationFactory.create()
    owner = PartnerFactory.create()
    owned = campaign(program, name_fr="Offre du partenaire", owner=owner, combinable_with=["default"],
                     budgets=[(BudgetScope.TOTAL, 10, "100"), (BudgetScope.MEMBER, 1, None)])  # fmt: skip
    coupon = code(owned, "PART-1", usage_limit=1, member=member)
    code(owned, "PART-2")  # another code of the same campaign, not entered
    automatic = campaign(program, name_fr="Automatique", requires_code=False, combinable_with=["default"],
                         budgets=[(BudgetScope.STORE, 5, None)])  # fmt: skip
    lines = [pricing.Line(key="0", sku="A", quantity=2, unit_price=Decimal("30.00"), category="fruit")]
    basket, quote = basket_price(
        program=program, store_id=store.pk, member_id=member.pk, lines=lines, codes=["part-1"], at=timezone.now()
    )
    assert sorted(a.campaign_id for a in quote.applied) == sorted([owned.pk, automatic.pk])

    with refusable_atomic():
        reserved = basket_reserve(program=program, quote=quote, basket=basket, source_kind="ticket",
                                  source_reference="s:1", occurred_at=basket.at)  # fmt: skip

    assert [(r.campaign_id, r.code_id) for r in reserved] == sorted([(owned.pk, coupon.pk), (automatic.pk, None)])
    assert used(owned) == {"total:": (1, TEN), f"member:m{member.pk}": (1, TEN)}
    assert used(automatic) == {f"store:s{store.pk}": (1, TEN)}
    assert CouponCode.objects.get(pk=coupon.pk).used_count == 1
    assert reserved[0].campaign.name_fr == "Offre du partenaire"
    assert reserved[0].code is not None
    assert reserved[0].code.code == "PART-1"
    events = coupon_events("coupon.reserved", reserved)
    assert [(e.type, e.partner_id, e.subject) for e in events] == [
        ("coupon.reserved", None, f"campaign:{owned.pk}"), ("coupon.reserved", owner.pk, f"campaign:{owned.pk}"),
        ("coupon.reserved", None, f"campaign:{automatic.pk}"),
    ]  # fmt: skip
    assert [(e.payload["campaign_id"], e.payload["campaign"], e.payload["code"]) for e in events] == [
        (owned.pk, "Offre du partenaire", "PART-1"), (owned.pk, "Offre du partenaire", "PART-1"),
        (automatic.pk, "Automatique", ""),
    ]  # fmt: skip
