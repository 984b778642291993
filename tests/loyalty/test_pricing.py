"""The discount engine, without a database: which offers apply, in which
order, the reason for every code that does not, and the arithmetic (largest
remainder allocation in minor units, rounding per currency, no line below
zero, the minimum judged before discounts), by examples and by properties
over random baskets and campaigns (hypothesis)."""

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty import pricing
from loyalty.pricing import Basket, CodeEntry, Line, Offer, allocate, quote

NOW = dt.datetime(2027, 3, 10, 11, 0, tzinfo=dt.UTC)  # a Wednesday, 12:00 in Paris
START = NOW - dt.timedelta(days=1)
END = NOW + dt.timedelta(days=10)


def offer(campaign_id: int = 1, **fields) -> Offer:
    defaults = {
        "name": f"Offer {campaign_id}",
        "benefit": pricing.AMOUNT_OFF_BASKET,
        "starts_at": START,
        "ends_at": END,
        "amount": Decimal("10.00"),
    }
    return Offer(campaign_id=campaign_id, **{**defaults, **fields})


def basket(*prices: str, member: int | None = 7, store: int | None = 1, currency: str = "EUR", at=NOW) -> Basket:
    lines = tuple(
        Line(key=str(i), sku=f"SKU{i}", quantity=1, unit_price=Decimal(p), category="fruit" if i % 2 else "dairy")
        for i, p in enumerate(prices)
    )
    return Basket(currency=currency, at=at, lines=lines, store_id=store, member_id=member)


def reasons(result: pricing.Quote) -> dict[str, str]:
    return {r.code: r.reason for r in result.refused}


# ---------------------------------------------------------------- examples


def test_ten_off_a_basket_of_a_hundred_is_spread_over_the_lines_to_the_cent() -> None:
    # given a basket of 100.00 in three lines and "10 EUR off 100 EUR or more"
    ten_off = offer(min_basket=Decimal("100.00"))
    entry = CodeEntry("TEN", ten_off)

    # when quoted
    result = quote(basket=basket("33.33", "33.33", "33.34"), codes=[entry], earn_rate=Decimal(1))

    # then 10.00 off, split 3.33 / 3.33 / 3.34 by largest remainder, and 90 points
    assert result.discount == Decimal("10.00")
    assert [line.discount for line in result.lines] == [Decimal("3.33"), Decimal("3.33"), Decimal("3.34")]
    assert result.total == Decimal("90.00")
    assert result.points == 90


def test_the_minimum_is_judged_before_discounts_and_names_the_missing_amount() -> None:
    ten_off = offer(min_basket=Decimal("100.00"))
    result = quote(basket=basket("60.00", "39.01"), codes=[CodeEntry("TEN", ten_off)])

    assert result.refused[0].reason == pricing.MINIMUM_NOT_MET
    assert result.refused[0].details == {"missing": "0.99", "minimum": "100.00"}
    assert result.discount == Decimal("0.00")


def test_every_reason_a_shopper_can_act_on() -> None:
    paused = offer(2, state="paused")
    codes = [
        CodeEntry("NOPE", None),
        CodeEntry("OLD", offer(3, starts_at=NOW - dt.timedelta(days=9), ends_at=NOW - dt.timedelta(days=1))),
        CodeEntry("SOON", offer(4, starts_at=NOW + dt.timedelta(hours=1))),
        CodeEntry("BOB", offer(5), member_id=99),
        CodeEntry("USED", offer(6), uses_left=False),
        CodeEntry("SHOP2", offer(7, store_ids=frozenset({2}))),
        CodeEntry("WEEKEND", offer(8, weekdays=0b1100000)),
        CodeEntry("EVENING", offer(9, hours_from=dt.time(18), hours_to=dt.time(22))),
        CodeEntry("LIST", offer(10, audience=frozenset({1, 2}))),
        CodeEntry("EMPTY", offer(11, budget_used_up=True)),
        CodeEntry("DAIRY", offer(12, eligible_categories=frozenset({"bakery"}))),
        CodeEntry("PAUSED", paused),
        CodeEntry("nope", None),
    ]

    result = quote(basket=basket("120.00", "5.00"), codes=codes)

    assert reasons(result) == {
        "NOPE": pricing.UNKNOWN_CODE,
        "OLD": pricing.EXPIRED,
        "SOON": pricing.NOT_YET_VALID,
        "BOB": pricing.NOT_FOR_MEMBER,
        "USED": pricing.CODE_USED_UP,
        "SHOP2": pricing.NOT_VALID_AT_STORE,
        "WEEKEND": pricing.NOT_VALID_AT_THIS_TIME,
        "EVENING": pricing.NOT_VALID_AT_THIS_TIME,
        "LIST": pricing.NOT_FOR_MEMBER,
        "EMPTY": pricing.BUDGET_USED_UP,
        "DAIRY": pricing.NO_ELIGIBLE_LINES,
        "PAUSED": pricing.NOT_ACTIVE,
        "nope": pricing.DUPLICATE,
    }
    assert result.discount == 0


def test_hours_are_read_in_the_offers_zone() -> None:
    # 11:00 UTC is 12:00 in Paris and 03:00 in Los Angeles
    lunch = offer(hours_from=dt.time(11, 30), hours_to=dt.time(14))
    assert not quote(basket=basket("20.00"), codes=[CodeEntry("LUNCH", lunch)]).refused
    la = offer(hours_from=dt.time(11, 30), hours_to=dt.time(14), zone="America/Los_Angeles")
    assert reasons(quote(basket=basket("20.00"), codes=[CodeEntry("LUNCH", la)])) == {
        "LUNCH": pricing.NOT_VALID_AT_THIS_TIME
    }


def test_a_code_for_a_member_asks_an_anonymous_basket_to_sign_in() -> None:
    result = quote(basket=basket("20.00", member=None), codes=[CodeEntry("MINE", offer(), member_id=7)])
    assert reasons(result) == {"MINE": pricing.MEMBER_REQUIRED}


def test_stacking_takes_priority_then_age_and_names_the_code_it_clashes_with() -> None:
    # given an exclusive code of high priority and two combinable ones
    exclusive = offer(1, priority=10, exclusive=True, amount=Decimal("5.00"))
    a = offer(2, stacking_class="basket", combinable_with=frozenset({"lines"}), amount=Decimal("3.00"))
    b = offer(
        3,
        benefit=pricing.PERCENT_OFF_LINES,
        amount=None,
        percent=Decimal(10),
        stacking_class="lines",
        combinable_with=frozenset({"basket"}),
    )
    codes = [CodeEntry("B", b), CodeEntry("A", a), CodeEntry("X", exclusive)]

    result = quote(basket=basket("50.00"), codes=codes)

    assert [applied.code for applied in result.applied] == ["X"]
    assert {r.code: r.details for r in result.refused} == {"B": {"with": "X"}, "A": {"with": "X"}}

    # without the exclusive one, the two combine: 3.00 off first (older), then 10 % of the 47.00 left
    result = quote(basket=basket("50.00"), codes=codes[:2])
    assert [(applied.code, applied.discount) for applied in result.applied] == [
        ("A", Decimal("3.00")),
        ("B", Decimal("4.70")),
    ]
    assert result.total == Decimal("42.30")


def test_an_offer_without_a_code_applies_on_its_own_and_is_silent_when_it_does_not() -> None:
    auto = offer(1, requires_code=False, amount=Decimal("2.00"))
    far = offer(2, requires_code=False, min_basket=Decimal("1000"))

    result = quote(basket=basket("20.00"), offers=[auto, far])

    assert [(a.campaign_id, a.code) for a in result.applied] == [(1, None)]
    assert result.refused == ()


def test_percent_off_with_a_cap_and_amount_off_a_product() -> None:
    capped = offer(1, benefit=pricing.PERCENT_OFF_LINES, amount=None, percent=Decimal(50), cap=Decimal("4.00"))
    assert quote(basket=basket("10.00", "10.00"), codes=[CodeEntry("HALF", capped)]).discount == Decimal("4.00")

    two_units = offer(
        1, benefit=pricing.AMOUNT_OFF_PRODUCT, amount=Decimal("0.50"), max_units=2, eligible_skus=frozenset({"SKU1"})
    )
    lines = (Line("a", "SKU1", 5, Decimal("1.20")), Line("b", "SKU2", 1, Decimal("3.00")))
    result = quote(basket=Basket("EUR", NOW, lines, 1, 7), codes=[CodeEntry("P", two_units)])
    assert [(line.key, line.discount) for line in result.lines] == [("a", Decimal("1.00")), ("b", Decimal("0.00"))]


def test_a_points_multiplier_counts_its_eligible_lines_again() -> None:
    double = offer(
        1,
        benefit=pricing.POINTS_MULTIPLIER,
        amount=None,
        multiplier=Decimal(2),
        eligible_categories=frozenset({"fruit"}),
    )

    result = quote(basket=basket("10.00", "20.50"), codes=[CodeEntry("X2", double)], earn_rate=Decimal(1))

    # 30.50 paid: 30 points, and the fruit line (index 1, 20.50) once more: 50.99 rounded down
    assert result.points == 51
    assert result.discount == 0


def test_a_budget_with_less_money_left_than_the_discount_refuses_it() -> None:
    result = quote(basket=basket("50.00"), codes=[CodeEntry("TEN", offer(money_left=Decimal("9.99")))])
    assert reasons(result) == {"TEN": pricing.BUDGET_USED_UP}


def test_yen_have_no_minor_unit() -> None:
    third = offer(1, benefit=pricing.PERCENT_OFF_LINES, amount=None, percent=Decimal("33.3"))
    result = quote(basket=basket("100", "100", "101", currency="JPY"), codes=[CodeEntry("T", third)])
    assert result.discount == Decimal("100")  # 33.3 % of 301 = 100.233, half-up to whole yen
    assert sum(line.discount for line in result.lines) == Decimal("100")


def test_allocate_splits_exactly_and_deterministically() -> None:
    assert allocate(10, [100, 100, 100]) == [4, 3, 3]
    assert allocate(2, [5, 0, 5]) == [1, 0, 1]
    assert allocate(0, [3, 4]) == [0, 0]
    assert allocate(7, [7]) == [7]


# ---------------------------------------------------------------- properties

prices = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("500.00"), places=2)
lines = st.lists(
    st.builds(
        Line,
        key=st.uuids().map(str),
        sku=st.sampled_from(["A", "B", "C", "D"]),
        quantity=st.integers(min_value=1, max_value=20),
        unit_price=prices,
        category=st.sampled_from(["fruit", "dairy", "bakery"]),
        owner_id=st.sampled_from([None, 1, 2]),
    ),
    min_size=1,
    max_size=30,
)
offers = st.builds(
    Offer,
    campaign_id=st.integers(min_value=1, max_value=50),
    name=st.just("offer"),
    benefit=st.sampled_from(
        [pricing.AMOUNT_OFF_BASKET, pricing.PERCENT_OFF_LINES, pricing.AMOUNT_OFF_PRODUCT, pricing.POINTS_MULTIPLIER]
    ),
    starts_at=st.just(START),
    ends_at=st.just(END),
    requires_code=st.booleans(),
    min_basket=st.sampled_from([Decimal(0), Decimal(50), Decimal(100), Decimal(1000)]),
    eligible_skus=st.frozensets(st.sampled_from(["A", "B", "C"]), max_size=2),
    eligible_categories=st.frozensets(st.sampled_from(["fruit", "dairy"]), max_size=1),
    eligible_owner_id=st.sampled_from([None, 1]),
    amount=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("200"), places=2),
    percent=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2),
    cap=st.one_of(st.none(), st.decimals(min_value=Decimal("0.01"), max_value=Decimal(50), places=2)),
    max_units=st.integers(min_value=1, max_value=5),
    multiplier=st.decimals(min_value=Decimal("1.01"), max_value=Decimal(5), places=2),
    exclusive=st.booleans(),
    stacking_class=st.sampled_from(["a", "b", "c"]),
    combinable_with=st.frozensets(st.sampled_from(["a", "b", "c"])),
    priority=st.integers(min_value=0, max_value=3),
    money_left=st.one_of(st.none(), st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=2)),
)


def _unique(campaigns: list[Offer]) -> list[Offer]:
    return list({o.campaign_id: o for o in campaigns}.values())


@settings(max_examples=200, deadline=None)
@given(
    lines=lines,
    campaigns=st.lists(offers, max_size=8).map(_unique),
    currency=st.sampled_from(["EUR", "JPY"]),
)
def test_quotes_always_add_up(lines, campaigns, currency) -> None:
    shaped = tuple(
        Line(line.key + str(i), line.sku, line.quantity, line.unit_price, line.category, line.owner_id)
        for i, line in enumerate(lines)
    )
    entries = [CodeEntry(f"C{o.campaign_id}", o) for o in campaigns if o.requires_code]
    result = quote(
        basket=Basket(currency, NOW, shaped, 1, 7), offers=campaigns, codes=entries, earn_rate=Decimal("1.5")
    )
    unit = Decimal(1) if currency == "JPY" else Decimal("0.01")

    # the lines sum to the basket, and every allocation to its discount, exactly
    assert sum((line.subtotal for line in result.lines), Decimal(0)) == result.subtotal
    assert sum((line.discount for line in result.lines), Decimal(0)) == result.discount
    assert sum((applied.discount for applied in result.applied), Decimal(0)) == result.discount
    for applied in result.applied:
        assert sum((share for _, share in applied.lines), Decimal(0)) == applied.discount
        assert all(share >= 0 and share % unit == 0 for _, share in applied.lines)
    # no line below zero, and the total is what is left
    assert all(Decimal(0) <= line.discount <= line.subtotal for line in result.lines)
    assert result.total == result.subtotal - result.discount >= 0
    # each benefit within its own bound
    for applied in result.applied:
        source = next(o for o in campaigns if o.campaign_id == applied.campaign_id)
        assert source.min_basket <= result.subtotal
        if source.benefit == pricing.AMOUNT_OFF_BASKET:
            assert applied.discount <= source.amount
        if source.benefit == pricing.PERCENT_OFF_LINES and source.cap is not None:
            assert applied.discount <= source.cap
        if source.money_left is not None:
            assert applied.discount <= source.money_left
    # applied offers are pairwise compatible, and each code is applied or refused once
    for i, first in enumerate(result.applied):
        for second in result.applied[i + 1 :]:
            a = next(o for o in campaigns if o.campaign_id == first.campaign_id)
            b = next(o for o in campaigns if o.campaign_id == second.campaign_id)
            assert pricing.compatible(a, b)
    answered = [a.code for a in result.applied if a.code] + [r.code for r in result.refused]
    assert sorted(answered) == sorted(e.text for e in entries)
    assert result.points >= 0


@settings(max_examples=100, deadline=None)
@given(lines=lines, campaigns=st.lists(offers, max_size=6).map(_unique), data=st.data())
def test_the_order_offers_and_codes_arrive_in_changes_nothing(lines, campaigns, data) -> None:
    shaped = tuple(
        Line(str(i), line.sku, line.quantity, line.unit_price, line.category, line.owner_id)
        for i, line in enumerate(lines)
    )
    entries = [CodeEntry(f"C{o.campaign_id}", o) for o in campaigns if o.requires_code]
    shuffled_offers = data.draw(st.permutations(campaigns))
    shuffled_codes = data.draw(st.permutations(entries))
    b = Basket("EUR", NOW, shaped, 1, 7)

    first = quote(basket=b, offers=campaigns, codes=entries)
    second = quote(basket=b, offers=shuffled_offers, codes=shuffled_codes)

    assert first.applied == second.applied
    assert first.lines == second.lines
    assert sorted(first.refused, key=lambda r: r.code) == sorted(second.refused, key=lambda r: r.code)


@given(total=st.integers(min_value=0, max_value=10**6), weights=st.lists(st.integers(0, 10**5), min_size=1))
def test_allocate_never_exceeds_a_weight_and_sums_exactly(total, weights) -> None:
    total = min(total, sum(weights))
    shares = allocate(total, weights)
    assert sum(shares) == total
    assert all(0 <= share <= weight for share, weight in zip(shares, weights, strict=True))
