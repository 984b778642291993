"""The discount engine: pure functions of a basket, the offers that may
apply and the codes entered. No database, no clock: the same inputs always
give the same quote, which is what quotes, orders and till tickets share.

What it decides, in this order:

1. **Which candidates are valid at all.** A code that is unknown, used up,
   someone else's, expired, not yet valid, not valid at this store, weekday
   or hour, not for this member, with no eligible line, under its minimum
   basket (judged on the basket *before* any discount), or whose budget is
   used up, is refused with a reason a shopper can act on. Offers that need
   no code apply on their own when valid (and are silent when not).
2. **Which valid candidates stack.** Candidates are taken by priority (higher
   first), then campaign id (older first). A candidate joins when it is
   compatible with every one already taken: neither is ``exclusive``, and each
   one's stacking class is in the other's ``combinable_with``. Otherwise it
   is refused as not combinable with the first one it clashes with.
3. **How much each takes off, and from which lines.** In the same order,
   each benefit is computed on what the lines still cost after the ones
   before it (so no line goes below zero), rounded half-up to the currency's
   minor unit once, then allocated over its eligible lines by largest
   remainder in minor units: the line shares sum exactly to the discount.
4. **Points**: ``earn_rate`` points per currency unit paid, rounded down,
   plus each multiplier's extra on its eligible lines.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from gateway.api.money import minor_units, money_round
from loyalty.dates import zone_of

# Reasons a code does not apply (stable codes; the API adds a message).
UNKNOWN_CODE = "unknown_code"
CODE_USED_UP = "code_used_up"
NOT_FOR_MEMBER = "not_for_member"
MEMBER_REQUIRED = "member_required"
NOT_ACTIVE = "not_active"
EXPIRED = "expired"
NOT_YET_VALID = "not_yet_valid"
NOT_VALID_AT_STORE = "not_valid_at_store"
NOT_VALID_AT_THIS_TIME = "not_valid_at_this_time"
NO_ELIGIBLE_LINES = "no_eligible_lines"
MINIMUM_NOT_MET = "minimum_not_met"
BUDGET_USED_UP = "budget_used_up"
NOT_COMBINABLE = "not_combinable"
DUPLICATE = "duplicate"
REASONS = (
    UNKNOWN_CODE, CODE_USED_UP, NOT_FOR_MEMBER, MEMBER_REQUIRED, NOT_ACTIVE, EXPIRED, NOT_YET_VALID,
    NOT_VALID_AT_STORE, NOT_VALID_AT_THIS_TIME, NO_ELIGIBLE_LINES, MINIMUM_NOT_MET, BUDGET_USED_UP, NOT_COMBINABLE,
    DUPLICATE,
)  # fmt: skip

AMOUNT_OFF_BASKET = "amount_off_basket"
PERCENT_OFF_LINES = "percent_off_lines"
AMOUNT_OFF_PRODUCT = "amount_off_product"
POINTS_MULTIPLIER = "points_multiplier"


@dataclass(frozen=True)
class Line:
    key: str
    sku: str
    quantity: int
    unit_price: Decimal
    category: str = ""
    owner_id: int | None = None
    product_id: int | None = None


@dataclass(frozen=True)
class Basket:
    currency: str
    at: dt.datetime
    lines: tuple[Line, ...]
    store_id: int | None = None
    member_id: int | None = None


@dataclass(frozen=True)
class Offer:
    """A campaign as the engine sees it. ``audience`` is None when every
    basket qualifies, else the members who do (the selector resolves lists
    and "bought category C recently" for the member at hand).
    ``budget_used_up`` and ``money_left`` come from the budget counters."""

    campaign_id: int
    name: str
    benefit: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    zone: str = "Europe/Paris"
    state: str = "active"
    requires_code: bool = True
    weekdays: int = 0b1111111
    hours_from: dt.time | None = None
    hours_to: dt.time | None = None
    store_ids: frozenset[int] = frozenset()
    audience: frozenset[int] | None = None
    min_basket: Decimal = Decimal(0)
    eligible_skus: frozenset[str] = frozenset()
    eligible_categories: frozenset[str] = frozenset()
    eligible_owner_id: int | None = None
    amount: Decimal | None = None
    percent: Decimal | None = None
    cap: Decimal | None = None
    max_units: int = 1
    multiplier: Decimal | None = None
    exclusive: bool = False
    stacking_class: str = "default"
    combinable_with: frozenset[str] = frozenset()
    priority: int = 0
    budget_used_up: bool = False
    money_left: Decimal | None = None

    def eligible(self, line: Line) -> bool:
        """The rule's product filters (all of those set must hold)."""
        return (
            (not self.eligible_skus or line.sku in self.eligible_skus)
            and (not self.eligible_categories or line.category in self.eligible_categories)
            and (self.eligible_owner_id is None or line.owner_id == self.eligible_owner_id)
        )


@dataclass(frozen=True)
class CodeEntry:
    """A code as entered, with what the database knows of it (``offer`` None:
    no such code)."""

    text: str
    offer: Offer | None
    member_id: int | None = None
    uses_left: bool = True


@dataclass(frozen=True)
class Applied:
    campaign_id: int
    name: str
    benefit: str
    code: str | None
    discount: Decimal
    lines: tuple[tuple[str, Decimal], ...]  # (line key, share), shares summing to the discount
    multiplier: Decimal | None = None


@dataclass(frozen=True)
class Refused:
    code: str
    reason: str
    campaign_id: int | None = None
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class QuotedLine:
    key: str
    subtotal: Decimal
    discount: Decimal
    total: Decimal


@dataclass(frozen=True)
class Quote:
    currency: str
    subtotal: Decimal
    discount: Decimal
    total: Decimal
    lines: tuple[QuotedLine, ...]
    applied: tuple[Applied, ...]
    refused: tuple[Refused, ...]
    points: int


# ---------------------------------------------------------------- money in minor units


def to_minor(amount: Decimal, currency: str) -> int:
    return int(money_round(amount, currency).scaleb(minor_units(currency)))


def to_minor_floor(amount: Decimal, currency: str) -> int:
    """A bound (an amount off, a cap, the money a budget has left) in minor
    units, rounded down: a bound rounded up would give more than it says."""
    return int(amount.scaleb(minor_units(currency)).to_integral_value(rounding=ROUND_FLOOR))


def from_minor(units: int, currency: str) -> Decimal:
    return Decimal(units).scaleb(-minor_units(currency)).quantize(Decimal(1).scaleb(-minor_units(currency)))


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` minor units over ``weights`` (each >= 0, summing to at
    least ``total``) in proportion, by largest remainder: the shares sum
    exactly to ``total`` and none exceeds its weight. Ties go to the earlier
    line, so the split is deterministic."""
    whole = sum(weights)
    if total < 0 or total > whole:
        raise ValueError("a discount is between zero and what the lines cost")
    if total == 0:
        return [0] * len(weights)
    shares = [total * weight // whole for weight in weights]
    remainders = [total * weight % whole for weight in weights]
    left = total - sum(shares)
    # left < the number of non-zero remainders, so only a line whose exact
    # share was not whole gets a unit more, which keeps it within its weight.
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
        shares[index] += 1
    return shares


# ---------------------------------------------------------------- validity


def _valid_now(offer: Offer, basket: Basket) -> tuple[str, dict[str, str]] | None:
    if offer.state == "ended" or basket.at >= offer.ends_at:
        return EXPIRED, {"ended_at": offer.ends_at.isoformat()}
    if offer.state != "active":
        return NOT_ACTIVE, {}
    if basket.at < offer.starts_at:
        return NOT_YET_VALID, {"starts_at": offer.starts_at.isoformat()}
    if offer.store_ids and basket.store_id not in offer.store_ids:
        return NOT_VALID_AT_STORE, {}
    local = basket.at.astimezone(zone_of(offer.zone))
    if not offer.weekdays & (1 << (local.isoweekday() - 1)):
        return NOT_VALID_AT_THIS_TIME, {"weekdays": _weekday_names(offer.weekdays)}
    start, end = offer.hours_from, offer.hours_to
    if start is not None and end is not None and not _within_hours(start, end, local.time()):
        return NOT_VALID_AT_THIS_TIME, {"from": start.isoformat("minutes"), "to": end.isoformat("minutes")}
    return None


def _within_hours(start: dt.time, end: dt.time, clock: dt.time) -> bool:
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end  # a window across midnight


def _weekday_names(mask: int) -> str:
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    return ",".join(name for bit, name in enumerate(names) if mask & (1 << bit))


def _refusal(entry: CodeEntry | None, offer: Offer, basket: Basket, subtotal: int) -> tuple[str, dict[str, str]] | None:
    """Why ``offer`` (through ``entry``) does not apply to ``basket``, or None."""
    if entry is not None and not entry.uses_left:
        return CODE_USED_UP, {}
    if entry is not None and entry.member_id is not None and entry.member_id != basket.member_id:
        return (MEMBER_REQUIRED if basket.member_id is None else NOT_FOR_MEMBER), {}
    timing = _valid_now(offer, basket)
    if timing is not None:
        return timing
    if offer.audience is not None and basket.member_id not in offer.audience:
        return (MEMBER_REQUIRED if basket.member_id is None else NOT_FOR_MEMBER), {}
    if not any(offer.eligible(line) for line in basket.lines):
        return NO_ELIGIBLE_LINES, {}
    minimum = to_minor(offer.min_basket, basket.currency)
    if subtotal < minimum:
        missing = from_minor(minimum - subtotal, basket.currency)
        return MINIMUM_NOT_MET, {
            "missing": str(missing),
            "minimum": str(money_round(offer.min_basket, basket.currency)),
        }
    if offer.budget_used_up:
        return BUDGET_USED_UP, {}
    return None


def compatible(a: Offer, b: Offer) -> bool:
    return (
        not a.exclusive
        and not b.exclusive
        and b.stacking_class in a.combinable_with
        and a.stacking_class in b.combinable_with
    )


# ---------------------------------------------------------------- the quote


Candidate = tuple[Offer, str | None]  # an offer and the code that brought it (None: applies without one)


def _candidates(
    basket: Basket, offers: Sequence[Offer], codes: Sequence[CodeEntry], subtotal: int
) -> tuple[list[Candidate], list[Refused]]:
    """The valid candidates in stacking order, and the codes refused so far."""
    refused: list[Refused] = []
    chosen: list[Candidate] = []
    seen_codes: set[str] = set()
    coded: set[int] = set()
    for entry in codes:
        key = entry.text.upper()
        if key in seen_codes or (entry.offer is not None and entry.offer.campaign_id in coded):
            refused.append(Refused(entry.text, DUPLICATE, entry.offer.campaign_id if entry.offer else None))
            continue
        seen_codes.add(key)
        if entry.offer is None:
            refused.append(Refused(entry.text, UNKNOWN_CODE))
            continue
        coded.add(entry.offer.campaign_id)
        why = _refusal(entry, entry.offer, basket, subtotal)
        if why is not None:
            refused.append(Refused(entry.text, why[0], entry.offer.campaign_id, why[1]))
        else:
            chosen.append((entry.offer, entry.text))
    for offer in offers:
        if (
            not offer.requires_code
            and offer.campaign_id not in coded
            and _refusal(None, offer, basket, subtotal) is None
        ):
            chosen.append((offer, None))
    chosen.sort(key=lambda pair: (-pair[0].priority, pair[0].campaign_id))
    return chosen, refused


def _benefit_units(offer: Offer, eligible_left: list[int], eligible_qty: int, currency: str) -> int:
    room = sum(eligible_left)
    if offer.benefit == AMOUNT_OFF_BASKET and offer.amount is not None:
        return min(to_minor_floor(offer.amount, currency), room)
    if offer.benefit == PERCENT_OFF_LINES and offer.percent is not None:
        raw = (Decimal(room) * offer.percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        units = int(raw)
        if offer.cap is not None:
            units = min(units, to_minor_floor(offer.cap, currency))
        return min(units, room)
    if offer.benefit == AMOUNT_OFF_PRODUCT and offer.amount is not None:
        return min(to_minor_floor(offer.amount, currency) * min(offer.max_units, eligible_qty), room)
    return 0


def quote(
    *, basket: Basket, offers: Sequence[Offer] = (), codes: Sequence[CodeEntry] = (), earn_rate: Decimal = Decimal(0)
) -> Quote:
    """The discounts, the points and the refused codes of ``basket``."""
    currency = basket.currency
    line_totals = [to_minor(line.unit_price * line.quantity, currency) for line in basket.lines]
    subtotal = sum(line_totals)
    chosen, refused = _candidates(basket, offers, codes, subtotal)
    left = list(line_totals)
    applied: list[Applied] = []
    taken: list[Candidate] = []
    for offer, code in chosen:
        clash = next(((o, c) for o, c in taken if not compatible(o, offer)), None)
        if clash is not None:
            if code is not None:
                other = clash[1] or clash[0].name
                refused.append(Refused(code, NOT_COMBINABLE, offer.campaign_id, {"with": other}))
            continue
        indexes = [i for i, line in enumerate(basket.lines) if offer.eligible(line)]
        if offer.benefit == POINTS_MULTIPLIER:
            taken.append((offer, code))
            applied.append(
                Applied(offer.campaign_id, offer.name, offer.benefit, code, Decimal(0), (), offer.multiplier)
            )
            continue
        quantity = sum(basket.lines[i].quantity for i in indexes if left[i] > 0)
        units = _benefit_units(offer, [left[i] for i in indexes], quantity, currency)
        reason = _money_refusal(offer, units, currency)
        if reason is not None:
            if code is not None:
                refused.append(Refused(code, reason[0], offer.campaign_id, reason[1]))
            continue
        shares = allocate(units, [left[i] for i in indexes])
        for i, share in zip(indexes, shares, strict=True):
            left[i] -= share
        taken.append((offer, code))
        allocation = tuple((basket.lines[i].key, from_minor(s, currency)) for i, s in zip(indexes, shares, strict=True))
        applied.append(
            Applied(offer.campaign_id, offer.name, offer.benefit, code, from_minor(units, currency), allocation)
        )
    discount = subtotal - sum(left)
    lines = tuple(
        QuotedLine(line.key, from_minor(t, currency), from_minor(t - rest, currency), from_minor(rest, currency))
        for line, t, rest in zip(basket.lines, line_totals, left, strict=True)
    )
    points = _points(basket, left, taken, earn_rate, currency)
    return Quote(
        currency, from_minor(subtotal, currency), from_minor(discount, currency), from_minor(sum(left), currency),
        lines, tuple(applied), tuple(refused), points,
    )  # fmt: skip


def _money_refusal(offer: Offer, units: int, currency: str) -> tuple[str, dict[str, str]] | None:
    if units <= 0:
        return NO_ELIGIBLE_LINES, {}
    if offer.money_left is not None and units > to_minor_floor(offer.money_left, currency):
        return BUDGET_USED_UP, {}
    return None


def _points(basket: Basket, paid: list[int], taken: list[Candidate], earn_rate: Decimal, currency: str) -> int:
    """``earn_rate`` points per currency unit paid, rounded down; each
    multiplier adds (multiplier - 1) times the points of its eligible lines."""
    rate = earn_rate
    total = Decimal(0)
    paid_amount = from_minor(sum(paid), currency)
    total += paid_amount * rate
    for offer, _code in taken:
        if offer.benefit == POINTS_MULTIPLIER and offer.multiplier is not None:
            eligible = sum(p for line, p in zip(basket.lines, paid, strict=True) if offer.eligible(line))
            total += from_minor(eligible, currency) * rate * (offer.multiplier - 1)
    return int(total.to_integral_value(rounding=ROUND_FLOOR))
