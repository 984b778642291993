"""From a priced basket to redemptions: the one path a click-and-collect
order (commerce) and a till ticket take once ``loyalty.pricing.quote`` has
priced their lines.

- ``basket_require_codes`` refuses a basket in which a code the shopper
  entered does not apply (409 ``coupon_not_applicable`` with the reason the
  quote gave): a checkout never silently charges more than was shown.
- ``basket_reserve`` reserves every campaign the quote applied, in
  ascending campaign id (the fixed order every writer takes counters in, so
  two baskets racing for the same campaigns never deadlock). The first
  campaign's refusal is a ``Refusal`` (nothing taken yet: the caller's
  ``refusable_atomic()`` answers without rolling back); a later one has
  already taken the earlier campaigns' units, so it is raised as a plain
  error and rolls the caller's transaction back.
- ``source_confirm``, ``source_release`` move every redemption of one order
  or ticket on, recording the ``coupon.*`` events in the same transaction.

A click-and-collect order (commerce calls these; loyalty knows nothing of
orders but their reference): ``checkout_price`` before its transaction
(program, member, prices, points payment: reads only), ``checkout_reserve``
first inside it (counters, then the member's points: the lock order every
writer follows, before the slot and the stock), ``checkout_collected`` and
``checkout_released`` when the order is collected or cancelled / not
collected.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from gateway.api.problems import FieldInvalid
from gateway.sql import partial_instance
from gateway.transactions import refusals_roll_back
from loyalty import pricing
from loyalty.dates import local_date
from loyalty.errors import CouponNotApplicable, InsufficientPoints
from loyalty.events import coupon_event, iso_instant, points_event
from loyalty.formats import reason_message
from loyalty.locks import lock_member
from loyalty.models import (
    Campaign,
    CampaignBudget,
    CouponCode,
    Member,
    Program,
    Redemption,
    RedemptionState,
    SourceKind,
)
from loyalty.selectors.offers import basket_price
from loyalty.selectors.quotes import checkout_member, checkout_program
from loyalty.selectors.redemptions import source_redemptions
from loyalty.services.points import points_earn, points_refund, points_spend
from loyalty.services.purchases import member_purchases_record
from loyalty.services.redemptions import LineDiscount, redemption_confirm, redemption_release, redemption_reserve
from loyalty.sql import COUPON_EVENT_NAMES, RESERVE_CAMPAIGNS
from partners.callers import Caller
from partners.services import NewEvent, events_record


def basket_require_codes(quote: pricing.Quote) -> None:
    """Refuse the basket when one of its codes does not apply, naming the
    code and the reason (with its details: the amount missing, the other
    code it cannot combine with...)."""
    if not quote.refused:
        return
    refused = quote.refused[0]
    raise CouponNotApplicable(
        _("The code %(code)s does not apply to this basket: %(reason)s")
        % {"code": refused.code, "reason": reason_message(refused.reason)},
        extra={"coupon_code": refused.code, "reason": refused.reason, **refused.details},
    )


def basket_reserve(
    *,
    program: Program,
    quote: pricing.Quote,
    basket: pricing.Basket,
    source_kind: str,
    source_reference: str,
    occurred_at: dt.datetime,
    expires: bool = True,
) -> list[Redemption]:
    """Reserve every campaign ``quote`` applied to ``basket`` for one order
    or ticket. ``expires`` False: the reservation lives until the source's
    fate (an order is confirmed when collected, released when cancelled or
    not collected) instead of the program's reservation TTL."""
    if not quote.applied:
        return []
    ids = sorted({applied.campaign_id for applied in quote.applied})
    texts = [applied.code.upper() for applied in quote.applied if applied.code]
    campaigns, budgets, codes = _reserve_targets(ids, texts)
    lines = {line.key: line for line in basket.lines}
    redemptions: list[Redemption] = []
    for applied in sorted(quote.applied, key=lambda a: a.campaign_id):
        campaign = campaigns[applied.campaign_id]
        with refusals_roll_back(bool(redemptions)):  # earlier campaigns took units: those must be undone
            redemption = redemption_reserve(
                program=program,
                campaign=campaign,
                code=codes.get((campaign.pk, applied.code.upper())) if applied.code else None,
                member_id=basket.member_id,
                store_id=basket.store_id,
                source_kind=source_kind,
                source_reference=source_reference,
                discount=applied.discount,
                lines=_line_discounts(applied, lines),
                occurred_at=occurred_at,
                basket_amount=quote.subtotal,
                budgets=budgets[campaign.pk],
                expires=expires,
            )
        redemptions.append(redemption)
    return redemptions


def _reserve_targets(
    ids: Sequence[int], texts: Sequence[str]
) -> tuple[dict[int, Campaign], dict[int, list[CampaignBudget]], dict[tuple[int, str], CouponCode]]:
    """The campaigns ``ids`` (their name and owner; other fields read if
    asked), their budgets and the codes ``texts`` among theirs, by
    (campaign, code): one statement (``loyalty.sql.RESERVE_CAMPAIGNS``)."""
    with connection.cursor() as cursor:
        cursor.execute(RESERVE_CAMPAIGNS, {"campaigns": list(ids), "codes": list(texts)})
        rows = cursor.fetchall()
    db = connection.alias
    campaigns: dict[int, Campaign] = {}
    budgets: dict[int, list[CampaignBudget]] = {}
    codes: dict[tuple[int, str], CouponCode] = {}
    for pk, name_fr, owner_id, budget_ids, scopes, limit_counts, limit_amounts, code_ids, code_texts in rows:
        campaigns[pk] = partial_instance(Campaign, db, id=pk, name_fr=name_fr, owner_id=owner_id)
        budgets[pk] = [
            partial_instance(
                CampaignBudget, db, id=budget_id, campaign_id=pk, scope=scope, limit_count=limit_count,
                limit_amount=limit_amount,
            )
            for budget_id, scope, limit_count, limit_amount in zip(
                budget_ids, scopes, limit_counts, limit_amounts, strict=True
            )
        ]  # fmt: skip
        for code_id, text in zip(code_ids, code_texts, strict=True):
            codes[(pk, text)] = partial_instance(CouponCode, db, id=code_id, campaign_id=pk, code=text)
    return campaigns, budgets, codes


def _line_discounts(applied: pricing.Applied, lines: dict[str, pricing.Line]) -> list[LineDiscount]:
    return [
        LineDiscount(
            line_key=key, quantity=lines[key].quantity, discount=share, product_id=lines[key].product_id,
            sku=lines[key].sku,
        )
        for key, share in applied.lines
    ]  # fmt: skip


def coupon_events(type: str, redemptions: Sequence[Redemption]) -> list[NewEvent]:
    """The ``coupon.*`` events of ``redemptions`` (their campaigns' names and
    owners and their codes read in one statement)."""
    if not redemptions:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            COUPON_EVENT_NAMES,
            {"campaigns": sorted({r.campaign_id for r in redemptions}),
             "codes": sorted({r.code_id for r in redemptions if r.code_id})},
        )  # fmt: skip
        rows = cursor.fetchall()
    campaigns = {
        pk: partial_instance(Campaign, connection.alias, id=pk, name_fr=name, owner_id=owner)
        for kind, pk, name, owner in rows
        if kind == "campaign"
    }
    codes = {pk: text for kind, pk, text, _owner in rows if kind == "code"}
    return [
        event
        for r in redemptions
        for event in coupon_event(
            type=type, redemption=r, campaign=campaigns[r.campaign_id], code=codes.get(r.code_id or 0, "")
        )
    ]


def source_confirm(
    *,
    source_kind: str,
    source_reference: str,
    points_earned: int = 0,
    points_burned: int = 0,
    redemptions: Sequence[Redemption] | None = None,
) -> list[Redemption]:
    """Confirm every reserved redemption of the order or ticket (collected,
    rung up), note the points its basket earned and burned, and record
    ``coupon.redeemed``. Idempotent: confirmed ones are left as they are.
    ``redemptions``: all of the source's redemptions, when the caller holds
    them (a till ticket reserves them in the transaction that confirms them),
    by campaign id; not read again."""
    if redemptions is None:
        redemptions = source_redemptions(source_kind=source_kind, source_reference=source_reference)
    confirmed = []
    for redemption in redemptions:
        if redemption.state != RedemptionState.RESERVED:
            continue
        redemption = redemption_confirm(redemption_id=redemption.pk)
        Redemption.objects.filter(pk=redemption.pk).update(points_earned=points_earned, points_burned=points_burned)
        redemption.points_earned, redemption.points_burned = points_earned, points_burned
        confirmed.append(redemption)
    events_record(events=coupon_events("coupon.redeemed", confirmed))
    return confirmed


def source_release(*, source_kind: str, source_reference: str, reason: str) -> list[Redemption]:
    """Release every reserved redemption of the order or ticket (cancelled,
    no-show), giving the code uses and budget units back once, and record
    ``coupon.released``."""
    released = []
    for redemption in source_redemptions(source_kind=source_kind, source_reference=source_reference):
        if redemption_release(redemption_id=redemption.pk, reason=reason):
            redemption.refresh_from_db()
            released.append(redemption)
    events_record(events=coupon_events("coupon.released", released))
    return released


def discount_total(redemptions: Sequence[Redemption]) -> Decimal:
    return sum((r.discount_amount for r in redemptions), Decimal(0))


# ---------------------------------------------------------------- orders


@dataclass(frozen=True)
class LoyaltyRequest:
    """The loyalty part of an order: the program (default: the one active
    in the order's currency), the card presented (default: the customer's
    own membership), the codes entered and the points to pay with."""

    program: str | None = None
    card_number: str | None = None
    codes: tuple[str, ...] = ()
    points: int = 0


@dataclass(frozen=True)
class Checkout:
    """A priced basket ready to reserve: what the order will show."""

    program: Program
    member: Member | None
    basket: pricing.Basket
    quote: pricing.Quote
    points: int  # to spend
    points_amount: Decimal  # what they pay
    points_to_earn: int

    @property
    def total(self) -> Decimal:
        return self.quote.total - self.points_amount

    def line_discounts(self) -> dict[str, Decimal]:
        return {line.key: line.discount for line in self.quote.lines}


def checkout_price(
    *,
    caller: Caller,
    customer_id: int,
    request: LoyaltyRequest,
    store_id: int | None,
    lines: Sequence[pricing.Line],
    currency: str,
    at: dt.datetime,
) -> Checkout:
    """Price an order's lines with the program's offers and the codes
    entered, and check the points payment; writes nothing. A code that does
    not apply is a 409 naming it and why; points need a member, a whole
    number that pays at most the total after discounts (422), and that many
    spendable points (409 ``insufficient_points``)."""
    program = checkout_program(code=request.program, currency=currency)
    member = checkout_member(caller=caller, program=program, card_number=request.card_number, customer_id=customer_id)
    basket, quote = basket_price(
        program=program,
        store_id=store_id,
        member_id=member.pk if member else None,
        lines=lines,
        codes=request.codes,
        at=at,
    )
    basket_require_codes(quote)
    points_amount = Decimal(0)
    if request.points:
        if member is None:
            raise FieldInvalid(
                "loyalty.points", _("Only a member pays with points: present a card."), code="member_required"
            )
        points_amount = pricing.from_minor(
            pricing.to_minor_floor(request.points * program.burn_rate, program.currency), program.currency
        )
        if points_amount > quote.total:
            most = int((quote.total / program.burn_rate).to_integral_value(rounding=ROUND_FLOOR))
            raise FieldInvalid(
                "loyalty.points",
                _("These points are worth more than the order; at most %(most)d.") % {"most": most},
                code="points_exceed_total",
            )
        if member.points_active < request.points:
            raise InsufficientPoints(
                _("%(wanted)d points asked, %(spendable)d spendable.")
                % {"wanted": request.points, "spendable": member.points_active},
                extra={"points_spendable": member.points_active, "points_requested": request.points},
            )
    to_earn = quote.points
    if points_amount and quote.total:
        # Points are earned on what is paid in money, not on what points paid.
        to_earn = int((quote.points * (quote.total - points_amount) / quote.total).to_integral_value(ROUND_FLOOR))
    return Checkout(program, member, basket, quote, request.points, points_amount, to_earn)


def checkout_reserve(*, checkout: Checkout, reference: str, occurred_at: dt.datetime) -> list[Redemption]:
    """Inside the order's ``refusable_atomic()``, before its slot and stock:
    one unit of every counter concerned (a first refusal wrote nothing: a
    ``Refusal``), then the points paid (the member's lock), with the
    ``coupon.reserved`` and ``points.spent`` events. The order confirms or
    releases them later (``checkout_collected``, ``checkout_released``)."""
    if checkout.points and checkout.member is not None:
        lock_member(member_id=checkout.member.pk)  # the member before the counters (loyalty/locks.py)
    redemptions = basket_reserve(
        program=checkout.program,
        quote=checkout.quote,
        basket=checkout.basket,
        source_kind=SourceKind.ORDER,
        source_reference=reference,
        occurred_at=occurred_at,
        expires=False,
    )
    events = coupon_events("coupon.reserved", redemptions)
    if checkout.points and checkout.member is not None:
        points_spend(member_id=checkout.member.pk, points=checkout.points, reference=reference, now=occurred_at)
        events.append(
            points_event(
                type="points.spent", member_id=checkout.member.pk, program_code=checkout.program.code,
                points=checkout.points, reference=reference, at=occurred_at,
                amount={"amount": str(checkout.points_amount), "currency": checkout.program.currency},
            )
        )  # fmt: skip
    events_record(events=events)
    return redemptions


def checkout_collected(
    *,
    program_id: int,
    member_id: int | None,
    reference: str,
    points_to_earn: int,
    points_spent: int,
    store_id: int,
    categories: Iterable[str],
    at: dt.datetime,
) -> None:
    """The order was collected: its redemptions are confirmed, the member
    earns the points (pending until the return window ends) and has bought
    the lines' categories at that store (the category audiences)."""
    source_confirm(
        source_kind=SourceKind.ORDER, source_reference=reference, points_earned=points_to_earn,
        points_burned=points_spent,
    )  # fmt: skip
    if member_id is None:
        return
    program = Program.objects.get(pk=program_id)
    earned = points_earn(program=program, member_id=member_id, points=points_to_earn, source=reference, earned_at=at)
    if earned.points:
        events_record(
            events=[
                points_event(
                    type="points.earned", member_id=member_id, program_code=program.code, points=earned.points,
                    reference=reference, at=at, activates_at=iso_instant(earned.activates_at),
                    expires_at=iso_instant(earned.expires_at),
                )
            ]
        )  # fmt: skip
    member_purchases_record(
        member_id=member_id, store_id=store_id, categories=categories, day=local_date(at, program.time_zone)
    )


def checkout_released(*, member_id: int | None, reference: str, reason: str) -> None:
    """The order was cancelled or not collected: its reservations give their
    units back and the points it spent return to their buckets (once)."""
    if member_id is not None:
        lock_member(member_id=member_id)  # the member before the counters (loyalty/locks.py)
    source_release(source_kind=SourceKind.ORDER, source_reference=reference, reason=reason)
    if member_id is None:
        return
    refunded = points_refund(member_id=member_id, reference=reference)
    if refunded:
        program_code = Member.objects.filter(pk=member_id).values_list("program__code", flat=True).get()
        events_record(
            events=[
                points_event(
                    type="points.spent", member_id=member_id, program_code=program_code, points=-refunded,
                    reference=reference, at=timezone.now(),
                )
            ]
        )  # fmt: skip
