"""Till tickets: a store's till sends what it rang up (ticket id, card,
codes, lines at its own shelf prices, till time) and gets the discounts and
the points, and later the returns of it.

- **Idempotent by ticket.** One store's ticket id is one ticket: under the
  ticket's advisory lock (``loyalty.locks.lock_ticket``) a ticket sent again
  with the same content (its fingerprint) answers what was recorded; with
  other content it is refused (409 ``ticket_conflict``).
- **Judged at its till time.** The ticket is priced by the quote's own path
  (``basket_price``) at ``till_time``: campaign windows, weekdays and hours
  in the program's zone, the budget counters of that local day. A till time
  more than ``CLOCK_SKEW`` ahead is refused (``ticket_in_the_future``), one
  older than the program's ``late_ticket_days`` too (``ticket_too_late``).
- **A rung sale is never refused for its codes.** A code that does not
  apply is reported with the engine's reason and the rest of the ticket
  counts. Budgets still hold: a ticket sent ``LATE_AFTER`` its till time or
  later (an offline till) that finds a budget spent gets ``budget_used_up``
  marked ``late``, and every counter concerned counts it (``refused_late``).
  A ticket losing the last unit of a budget to another at reservation is
  priced again without that campaign (so the other campaigns' shares stay
  right) and reports it the same way.
- **Redeemed at once.** The campaigns are reserved and confirmed in the
  ticket's transaction (``coupon.redeemed``), the member earns the points
  (pending through the return window; ``points.earned``) and the category
  audiences learn what they bought.
- **Returns** take back, line by line and per return id (idempotent), the
  discount those units carried (``redemption_rollback``) and the points
  they earned as the program's return policy allows (``points_reverse``).
"""

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gateway.api.instants import instant_text
from gateway.api.money import money_round
from gateway.api.problems import FieldInvalid
from gateway.transactions import Refusal
from inventory.models import Location
from loyalty import pricing
from loyalty.dates import local_date
from loyalty.errors import (
    BudgetExhausted,
    CouponNotApplicable,
    CouponUsedUp,
    ReturnConflict,
    ReturnExceedsTicket,
    TicketConflict,
    TicketInTheFuture,
    TicketTooLate,
)
from loyalty.events import points_event
from loyalty.locks import LockedMember, lock_member, lock_ticket
from loyalty.models import Campaign, Member, Program, Redemption, RedemptionState, SourceKind, TillTicket
from loyalty.selectors.offers import basket_price
from loyalty.selectors.quotes import basket_member
from loyalty.selectors.tickets import counters_spent, ticket_find, ticket_fingerprint_of, ticket_products
from loyalty.services.checkout import basket_reserve, coupon_events, source_confirm, source_redemptions
from loyalty.services.points import points_earn, points_reverse
from loyalty.services.purchases import member_purchases_record
from loyalty.services.redemptions import budget_counter_keys, redemption_rollback
from loyalty.sql import COUNT_LATE_REFUSAL, ENSURE_COUNTERS
from partners.callers import Caller
from partners.services import events_record

# A till's clock may run this much ahead of ours (NTP-less tills drift by
# minutes; beyond that the till time is wrong, not early).
CLOCK_SKEW = dt.timedelta(minutes=5)
# A ticket received this long after its till time was held back by an
# offline till: a network round trip and a till's retry queue stay well
# inside it.
LATE_AFTER = dt.timedelta(minutes=10)
# What a ticket's amounts may reach: the columns hold 12 digits, 2 of them decimals.
MAX_TICKET_AMOUNT = Decimal("9999999999.99")


@dataclass(frozen=True)
class TicketLine:
    sku: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class TicketRecorded:
    ticket: TillTicket
    created: bool  # False: the same ticket had already been recorded (a replay)


def ticket_reference(store_id: int, ticket_id: str) -> str:
    """The redemptions' source reference of a ticket."""
    return f"{store_id}:{ticket_id}"


def ticket_points_source(store_id: int, ticket_id: str) -> str:
    """The points bucket's source of a ticket."""
    return f"ticket:{store_id}:{ticket_id}"


def ticket_fingerprint(
    *,
    program: Program,
    card_number: str | None,
    codes: Sequence[str],
    lines: Sequence[TicketLine],
    till_time: dt.datetime,
) -> str:
    """What makes a ticket the same ticket: its program, card, codes (as
    entered, upper-cased), lines (amounts normalised) and till time."""
    content = {
        "program": program.code,
        "card": card_number,
        "codes": [code.upper() for code in codes],
        "lines": [[line.sku, line.quantity, str(money_round(line.unit_price, program.currency))] for line in lines],
        "till_time": instant_text(till_time),
    }
    return hashlib.sha256(json.dumps(content, separators=(",", ":")).encode()).hexdigest()


def ticket_record(
    *,
    caller: Caller,
    program: Program,
    store: Location,
    ticket_id: str,
    card_number: str | None,
    codes: Sequence[str],
    lines: Sequence[TicketLine],
    till_time: dt.datetime,
    now: dt.datetime | None = None,
) -> TicketRecorded:
    """Record one till ticket (see the module's docstring), or answer the
    one already recorded under its id."""
    now = now or timezone.now()
    fingerprint = ticket_fingerprint(
        program=program, card_number=card_number, codes=codes, lines=lines, till_time=till_time
    )
    with transaction.atomic():
        lock_ticket(store_id=store.pk, ticket_id=ticket_id)
        received = ticket_fingerprint_of(store_id=store.pk, ticket_id=ticket_id)  # the whole row only for a replay
        if received is not None and received != fingerprint:
            raise TicketConflict(
                _("Ticket %(ticket)s was already received with other content.") % {"ticket": ticket_id},
                extra={"ticket_id": ticket_id},
            )
        existing = ticket_find(store=store, ticket_id=ticket_id) if received is not None else None
        if existing is not None:
            return TicketRecorded(existing, created=False)
        _check_till_time(program, till_time, now)
        member = basket_member(caller, program, card_number)
        products = ticket_products(caller=caller, skus=[line.sku for line in lines])
        priced = [
            pricing.Line(
                key=str(index), sku=line.sku, quantity=line.quantity, unit_price=line.unit_price,
                category=products[line.sku].category, owner_id=products[line.sku].owner_id,
                product_id=products[line.sku].product_id,
            )
            for index, line in enumerate(lines)
        ]  # fmt: skip
        if sum((line.unit_price * line.quantity for line in lines), Decimal(0)) > MAX_TICKET_AMOUNT:
            raise FieldInvalid(
                "lines", _("A ticket totals at most %(max)s.") % {"max": MAX_TICKET_AMOUNT}, code="amount_too_large"
            )
        late = now - till_time > LATE_AFTER
        ticket = _ring_up(program, store, ticket_id, member, priced, codes, till_time, late, fingerprint)
        return TicketRecorded(ticket, created=True)


def _check_till_time(program: Program, till_time: dt.datetime, now: dt.datetime) -> None:
    if till_time > now + CLOCK_SKEW:
        raise TicketInTheFuture(
            _("The till time is ahead of the server's clock by more than %(minutes)d minutes.")
            % {"minutes": CLOCK_SKEW.seconds // 60},
            extra={"till_time": instant_text(till_time), "received_at": instant_text(now)},
        )
    oldest = now - dt.timedelta(days=program.late_ticket_days)
    if till_time < oldest:
        raise TicketTooLate(
            _("Tickets of this program count up to %(days)d days after their till time.")
            % {"days": program.late_ticket_days},
            extra={"till_time": instant_text(till_time), "late_ticket_days": program.late_ticket_days},
        )


def _ring_up(
    program: Program,
    store: Location,
    ticket_id: str,
    member: Member | None,
    lines: list[pricing.Line],
    codes: Sequence[str],
    till_time: dt.datetime,
    late: bool,
    fingerprint: str,
) -> TillTicket:
    """Price, redeem, earn and write the ticket (inside the ticket's lock)."""
    member_id = member.pk if member else None
    locked = lock_member(member_id=member_id) if member_id is not None else None  # before the counters: loyalty.locks
    reference = ticket_reference(store.pk, ticket_id)
    basket, quote, reserved = _price_and_reserve(program, store.pk, member_id, lines, codes, till_time, reference)
    day = local_date(till_time, program.time_zone)
    refused = [_refused_entry(r, late) for r in quote.refused]
    if late:
        lost = _offers_lost_to_budgets(program, store.pk, member_id, lines, codes, till_time, quote)
        refused += [
            {"code": None, "reason": pricing.BUDGET_USED_UP, "campaign_id": pk, "details": {}, "late": True}
            for pk in lost
        ]
        spent = [r.campaign_id for r in quote.refused if r.reason == pricing.BUDGET_USED_UP and r.campaign_id]
        _count_late_refusals([*spent, *lost], member_id=member_id, store_id=store.pk, day=day)
    source_confirm(
        source_kind=SourceKind.TICKET, source_reference=reference, points_earned=quote.points if member_id else 0,
        redemptions=reserved,
    )  # fmt: skip
    points: dict[str, Any] = {"earned": 0, "activates_at": None, "expires_at": None}
    if member_id is not None:
        points = _earn(program, locked, member_id, quote.points, ticket_points_source(store.pk, ticket_id), till_time)
        member_purchases_record(
            member_id=member_id, store_id=store.pk, categories=[line.category for line in lines], day=day
        )
    return TillTicket.objects.create(
        program=program, store=store, ticket_id=ticket_id, member=member, till_time=till_time,
        fingerprint=fingerprint, currency=program.currency, subtotal_amount=quote.subtotal,
        discount_amount=quote.discount, points_earned=points["earned"], late=late,
        lines=[
            {"sku": line.sku, "quantity": line.quantity, "unit_price": str(line.unit_price),
             "product_id": line.product_id, "category": line.category}
            for line in basket.lines
        ],
        outcome=_outcome(basket, quote, refused, points),
    )  # fmt: skip


def _price_and_reserve(
    program: Program,
    store_id: int,
    member_id: int | None,
    lines: list[pricing.Line],
    codes: Sequence[str],
    at: dt.datetime,
    reference: str,
) -> tuple[pricing.Basket, pricing.Quote, list[Redemption]]:
    """Price the ticket and reserve what the quote applied (the redemptions
    of the round that reserved everything: the ticket's only ones, since a
    ticket's redemptions are written with it). A campaign whose
    reservation is refused (another ticket or order took the last unit
    since the counters were read) is priced again as unavailable, so the
    other campaigns' shares are computed without it; each round drops one
    campaign, so this ends."""
    unavailable: dict[int, str] = {}
    while True:
        basket, quote = basket_price(
            program=program, store_id=store_id, member_id=member_id, lines=lines, codes=codes, at=at,
            unavailable=unavailable,
        )  # fmt: skip
        reserved, refusal = _reserve_all(program, basket, quote, reference, at)
        if refusal is None:
            return basket, _with_reasons(quote, unavailable), reserved
        campaign_id, reason = refusal
        if campaign_id in unavailable:  # the engine priced it unavailable and applied it all the same
            raise RuntimeError(f"campaign {campaign_id} applied although unavailable")
        unavailable[campaign_id] = reason


def _reserve_all(
    program: Program, basket: pricing.Basket, quote: pricing.Quote, reference: str, at: dt.datetime
) -> tuple[list[Redemption], tuple[int, str] | None]:
    """Reserve each applied campaign, in ascending id (the order every
    writer takes counters in): the redemptions. On a refusal, undo this
    round's reservations and say which campaign was refused and why."""
    applied = sorted(quote.applied, key=lambda a: a.campaign_id)
    if not applied:
        return [], None  # nothing to reserve: no savepoint either
    current = applied[0]
    reserved: list[Redemption] = []
    try:
        with transaction.atomic():  # a savepoint: a refusal leaves none of this round's reservations
            for current in applied:
                reserved += basket_reserve(
                    program=program, quote=replace(quote, applied=(current,)), basket=basket,
                    source_kind=SourceKind.TICKET, source_reference=reference, occurred_at=at,
                )  # fmt: skip
    except Refusal as refusal:
        return [], (current.campaign_id, _reason_of(refusal.error))
    return reserved, None


def _reason_of(error: Exception) -> str:
    if isinstance(error, BudgetExhausted):
        return pricing.BUDGET_USED_UP
    if isinstance(error, CouponUsedUp):
        return pricing.CODE_USED_UP
    if isinstance(error, CouponNotApplicable):
        reason = error.extra.get("reason")
        return reason if reason in pricing.REASONS else pricing.MEMBER_REQUIRED
    raise error


def _with_reasons(quote: pricing.Quote, unavailable: Mapping[int, str]) -> pricing.Quote:
    """The engine reports a campaign priced unavailable as ``budget_used_up``;
    say the reason its reservation gave when that was another one."""
    if not unavailable:
        return quote
    refused = tuple(
        replace(r, reason=unavailable[r.campaign_id])
        if r.campaign_id is not None and r.campaign_id in unavailable and r.reason == pricing.BUDGET_USED_UP
        else r
        for r in quote.refused
    )
    return replace(quote, refused=refused)


def _refused_entry(refused: pricing.Refused, late: bool) -> dict[str, Any]:
    return {
        "code": refused.code,
        "reason": refused.reason,
        "campaign_id": refused.campaign_id,
        "details": refused.details,
        "late": late and refused.reason == pricing.BUDGET_USED_UP,
    }


def _offers_lost_to_budgets(
    program: Program,
    store_id: int,
    member_id: int | None,
    lines: list[pricing.Line],
    codes: Sequence[str],
    at: dt.datetime,
    quote: pricing.Quote,
) -> list[int]:
    """The offers without a code that a late ticket would have got had their
    budgets had room, and that it did not get because a budget is spent (the
    engine drops such offers silently; a late ticket reports and counts them)."""
    _basket, unbounded = basket_price(
        program=program, store_id=store_id, member_id=member_id, lines=lines, codes=codes, at=at,
        budgets_ignored=True,
    )  # fmt: skip
    got = {a.campaign_id for a in quote.applied}
    day = local_date(at, program.time_zone)
    candidates = sorted({a.campaign_id for a in unbounded.applied if a.code is None} - got)
    return [pk for pk in candidates if _spent_pairs(pk, member_id=member_id, store_id=store_id, day=day)[1]]


def _spent_pairs(
    campaign_id: int, *, member_id: int | None, store_id: int, day: dt.date
) -> tuple[list[tuple[int, str]], list[int]]:
    """The (budget, key) pairs of a campaign's counters for this ticket, and those found spent."""
    campaign = Campaign.objects.prefetch_related("budgets").get(pk=campaign_id)
    budgets = [b for b in campaign.budgets.all() if member_id is not None or b.scope != "member"]
    pairs = budget_counter_keys(budgets=budgets, member_id=member_id, store_id=store_id, day=day)
    return pairs, counters_spent(pairs=pairs)


def _count_late_refusals(campaign_ids: Sequence[int], *, member_id: int | None, store_id: int, day: dt.date) -> None:
    """Count, on the counters a late ticket found spent, each offer refused
    for its budget: the till's sale stands, the offer is lost, and the
    campaign's owner sees how many such tickets came."""
    for campaign_id in sorted(set(campaign_ids)):
        pairs, _spent = _spent_pairs(campaign_id, member_id=member_id, store_id=store_id, day=day)
        if not pairs:
            continue
        with connection.cursor() as cursor:  # a budget of zero may not have its counter yet
            cursor.execute(ENSURE_COUNTERS, {"budgets": [b for b, _k in pairs], "keys": [k for _b, k in pairs]})
            cursor.execute(COUNT_LATE_REFUSAL, {"counters": counters_spent(pairs=pairs)})


def _earn(
    program: Program, locked: LockedMember | None, member_id: int, points: int, source: str, till_time: dt.datetime
) -> dict[str, Any]:
    earned = points_earn(
        program=program, member_id=member_id, points=points, source=source, earned_at=till_time, locked=locked
    )
    dates = {
        "activates_at": instant_text(earned.activates_at) if earned.activates_at else None,
        "expires_at": instant_text(earned.expires_at) if earned.expires_at else None,
    }
    if earned.points:
        events_record(
            events=[
                points_event(
                    type="points.earned", member_id=member_id, program_code=program.code, points=earned.points,
                    reference=source, at=till_time, **dates,
                )
            ]
        )  # fmt: skip
    return {"earned": earned.points, **dates}


def _outcome(
    basket: pricing.Basket, quote: pricing.Quote, refused: list[dict[str, Any]], points: dict[str, Any]
) -> dict[str, Any]:
    """What the ticket got, language-neutral (the API adds the messages)."""
    return {
        "total": str(quote.total),
        "lines": [
            {"line": int(q.key), "sku": line.sku, "quantity": line.quantity, "unit_price": str(line.unit_price),
             "subtotal": str(q.subtotal), "discount": str(q.discount), "total": str(q.total)}
            for line, q in zip(basket.lines, quote.lines, strict=True)
        ],
        "applied": [
            {"campaign_id": a.campaign_id, "name": a.name, "code": a.code, "benefit": a.benefit,
             "discount": str(a.discount), "points_multiplier": str(a.multiplier) if a.multiplier else None,
             "lines": [{"line": int(key), "discount": str(share)} for key, share in a.lines]}
            for a in quote.applied
        ],
        "refused": refused,
        "points": points,
        "returns": [],
    }  # fmt: skip


# ---------------------------------------------------------------- returns


@dataclass(frozen=True)
class ReturnRecorded:
    ticket: TillTicket
    entry: dict[str, Any]
    created: bool


def ticket_return(
    *, ticket: TillTicket, return_id: str, lines: Sequence[tuple[int, int]], now: dt.datetime | None = None
) -> ReturnRecorded:
    """Record a return of ``lines`` ((ticket line index, quantity), a line
    named twice counts twice) of ``ticket`` under ``return_id``: the
    discount those units carried goes back to the budgets, their points are
    taken back per the program's return policy. The same return id with the
    same lines answers what was recorded; with other lines, 409."""
    now = now or timezone.now()
    wanted: dict[int, int] = {}
    for line, quantity in lines:
        wanted[line] = wanted.get(line, 0) + quantity
    with transaction.atomic():
        lock_ticket(store_id=ticket.store_id, ticket_id=ticket.ticket_id)
        ticket = TillTicket.objects.select_related("program", "store", "member").get(pk=ticket.pk)
        returns: list[dict[str, Any]] = ticket.outcome.get("returns", [])
        requested = [{"line": line, "quantity": wanted[line]} for line in sorted(wanted)]
        done = next((r for r in returns if r["return_id"] == return_id), None)
        if done is not None:
            if done["requested"] != requested:
                raise ReturnConflict(
                    _("Return %(id)s was already received with other lines.") % {"id": return_id},
                    extra={"return_id": return_id},
                )
            return ReturnRecorded(ticket, done, created=False)
        before = _returned(ticket, returns, wanted, lines)
        if ticket.member_id is not None:
            lock_member(member_id=ticket.member_id)  # before the counters: see loyalty.locks
        rolled = _rollback_discounts(ticket, before, wanted, return_id, now)
        entry = {
            "return_id": return_id,
            "received_at": instant_text(now),
            "requested": requested,
            "lines": [{"line": line, "quantity": wanted[line], "discount": str(rolled.get(line, Decimal(0)))}
                      for line in sorted(wanted)],
            "discount": str(sum(rolled.values(), Decimal(0))),
            "points": _reverse_points(ticket, returns, before, wanted, return_id),
        }  # fmt: skip
        ticket.outcome = {**ticket.outcome, "returns": [*returns, entry]}
        ticket.save(update_fields=["outcome"])
        return ReturnRecorded(ticket, entry, created=True)


def _returned(
    ticket: TillTicket, returns: list[dict[str, Any]], wanted: Mapping[int, int], lines: Sequence[tuple[int, int]]
) -> dict[int, int]:
    """Units of each line returned before; refuses a line the ticket lacks
    and a return of more than the ticket sold."""
    sold = [int(line["quantity"]) for line in ticket.lines]
    for index, (line, _quantity) in enumerate(lines):
        if not 0 <= line < len(sold):
            raise FieldInvalid(f"lines.{index}.line", _("The ticket has no such line."), code="unknown_line")
    before = dict.fromkeys(range(len(sold)), 0)
    for done in returns:
        for line in done["requested"]:
            before[line["line"]] += line["quantity"]
    for line, quantity in sorted(wanted.items()):
        if before[line] + quantity > sold[line]:
            raise ReturnExceedsTicket(
                _("Line %(line)d sold %(sold)d, %(before)d already returned: %(quantity)d more cannot be returned.")
                % {"line": line, "sold": sold[line], "before": before[line], "quantity": quantity},
                extra={"line": line, "sold": sold[line], "returned": before[line], "requested": quantity},
            )
    return before


def _rollback_discounts(
    ticket: TillTicket, before: Mapping[int, int], wanted: Mapping[int, int], return_id: str, now: dt.datetime
) -> dict[int, Decimal]:
    """Take back, per redemption and line, the discount the returned units
    carried: cumulatively (what all returns so far carried, rounded once,
    less what was already taken back), so returning every unit takes back
    exactly the line's discount. Records ``coupon.rolled_back``."""
    rolled: dict[int, Decimal] = {}
    changed: list[Redemption] = []
    reference = ticket_reference(ticket.store_id, ticket.ticket_id)
    for redemption in source_redemptions(source_kind=SourceKind.TICKET, source_reference=reference):
        if redemption.state != RedemptionState.CONFIRMED:
            continue
        take: dict[str, Decimal] = {}
        for carried in redemption.lines.all():
            line = int(carried.line_key)
            if line not in wanted:
                continue
            share = carried.discount_amount * (before[line] + wanted[line]) / carried.quantity
            amount = money_round(share, ticket.currency) - carried.rolled_back_amount
            if amount > 0:
                take[carried.line_key] = amount
                rolled[line] = rolled.get(line, Decimal(0)) + amount
        if take:
            changed.append(
                redemption_rollback(redemption_id=redemption.pk, reason=f"return:{return_id}", lines=take, now=now)
            )
    events_record(events=coupon_events("coupon.rolled_back", changed))
    return rolled


def _reverse_points(
    ticket: TillTicket,
    returns: list[dict[str, Any]],
    before: Mapping[int, int],
    wanted: Mapping[int, int],
    return_id: str,
) -> dict[str, int]:
    """The points the returned units earned, cumulatively (the share of the
    ticket's paid total all returns so far carried, rounded down, less what
    earlier returns asked), taken back per the program's return policy."""
    taken = {"requested": 0, "from_pending": 0, "from_active": 0, "debt": 0, "kept": 0}
    if ticket.member_id is None or not ticket.points_earned:
        return taken
    paid = [Decimal(line["total"]) for line in ticket.outcome["lines"]]
    sold = [int(line["quantity"]) for line in ticket.lines]
    total = sum(paid, Decimal(0))
    if total <= 0:
        return taken
    returned = sum((paid[i] * (before[i] + wanted.get(i, 0)) / sold[i] for i in range(len(sold))), Decimal(0))
    due = int((ticket.points_earned * returned / total).to_integral_value(rounding=ROUND_FLOOR))
    points = due - sum(int(done["points"]["requested"]) for done in returns)
    if points <= 0:
        return taken
    reversed_ = points_reverse(
        program=ticket.program, member_id=ticket.member_id, points=points,
        source=ticket_points_source(ticket.store_id, ticket.ticket_id),
        reference=f"ticket-return:{ticket.store_id}:{ticket.ticket_id}:{return_id}",
    )  # fmt: skip
    return {
        "requested": points,
        "from_pending": reversed_.from_pending,
        "from_active": reversed_.from_active,
        "debt": reversed_.debt,
        "kept": reversed_.kept,
    }
