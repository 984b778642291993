"""Redemptions: reserving a campaign (and its code) for an order or a till
ticket, confirming, releasing and rolling back, with the budget counters
moved exactly once each way.

``redemption_reserve`` runs inside the caller's transaction (commerce's
order, the till's ticket), after the caller's own locks (slot, stock): it
takes one use of the code and one unit of every budget counter concerned in
a single guarded statement (``loyalty.sql.RESERVE``), all or none. When
something is full it raises ``Refusal(...)`` having changed no counter, so
the caller's ``refusable_atomic()`` answers 409 without rolling back (see
gateway/transactions.py). Budgets count reserved and confirmed redemptions
alike, so however many orders race, confirmed + reserved never passes a limit.
"""

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from gateway.transactions import Refusal
from loyalty.dates import local_date
from loyalty.errors import BudgetExhausted, CouponNotApplicable, CouponUsedUp, RedemptionStateConflict
from loyalty.models import (
    Campaign,
    CampaignBudget,
    CouponCode,
    Program,
    Redemption,
    RedemptionLine,
    RedemptionState,
)
from loyalty.selectors.offers import budget_counter_key
from loyalty.sql import ENSURE_COUNTERS, GIVE_BACK, RESERVE


@dataclass(frozen=True)
class LineDiscount:
    """The share of a redemption's discount one line carries."""

    line_key: str
    quantity: int
    discount: Decimal
    product_id: int | None = None
    sku: str = ""


def budget_counter_keys(
    *, budgets: Sequence[CampaignBudget], member_id: int | None, store_id: int | None, day: dt.date
) -> list[tuple[int, str]]:
    """(budget id, counter key) of every counter a redemption takes a unit of:
    "" for a total, ``m<member>``, ``s<store>``, ``d<local date>``. A
    per-member budget needs a member (an anonymous basket cannot be limited
    per member, so it is refused rather than let through)."""
    keys: list[tuple[int, str]] = []
    for budget in sorted(budgets, key=lambda b: b.pk):
        key = budget_counter_key(budget.scope, member_id=member_id, store_id=store_id, day=day)
        if key is None:
            raise Refusal(
                CouponNotApplicable(
                    _("This offer is limited per member: identify the member to use it."),
                    extra={"reason": "member_required"},
                )
            )
        keys.append((budget.pk, key))
    return keys


def redemption_reserve(
    *,
    program: Program,
    campaign: Campaign,
    code: CouponCode | None,
    member_id: int | None,
    store_id: int | None,
    source_kind: str,
    source_reference: str,
    discount: Decimal,
    lines: Sequence[LineDiscount],
    occurred_at: dt.datetime,
    basket_amount: Decimal = Decimal(0),
    budgets: Sequence[CampaignBudget] | None = None,
    expires: bool = True,
) -> Redemption:
    """Reserve ``campaign`` (through ``code``, if any) for one order or ticket.
    Call it inside ``refusable_atomic()``: a used-up code (409
    ``coupon_used_up``) or a full budget (409 ``budget_exhausted``) is a
    ``Refusal``. The same source reserving the same campaign again gets the
    redemption it already has. ``basket_amount`` is the basket's subtotal
    before discounts (the analytics' revenue). ``expires`` False: the
    reservation waits for its source's fate instead of the program's TTL."""
    existing = Redemption.objects.filter(
        campaign=campaign, source_kind=source_kind, source_reference=source_reference
    ).first()
    if existing is not None and existing.state in (RedemptionState.RESERVED, RedemptionState.CONFIRMED):
        return existing
    budgets = list(campaign.budgets.all()) if budgets is None else budgets
    pairs = budget_counter_keys(
        budgets=budgets, member_id=member_id, store_id=store_id, day=local_date(occurred_at, program.time_zone)
    )
    counter_ids = _take_units(code, pairs, discount)
    now = timezone.now()
    fields = {
        "program": program, "code": code, "member_id": member_id, "store_id": store_id,
        "state": RedemptionState.RESERVED, "currency": program.currency, "discount_amount": discount,
        "rolled_back_amount": Decimal(0), "basket_amount": basket_amount,
        "counter_ids": counter_ids, "occurred_at": occurred_at, "confirmed_at": None, "closed_at": None,
        "close_reason": "", "expires_at": now + dt.timedelta(minutes=program.reservation_minutes) if expires else None,
    }  # fmt: skip
    if existing is not None:  # released earlier (a cancelled order placed again): reserve afresh
        for name, value in fields.items():
            setattr(existing, name, value)
        existing.save(update_fields=[*(name.removesuffix("_id") for name in fields), "updated_at"])
        existing.lines.all().delete()
        redemption = existing
    else:
        redemption = Redemption.objects.create(
            campaign=campaign, source_kind=source_kind, source_reference=source_reference, **fields
        )
    RedemptionLine.objects.bulk_create(
        RedemptionLine(redemption=redemption, line_key=line.line_key, product_id=line.product_id, sku=line.sku,
                       quantity=line.quantity, discount_amount=line.discount)
        for line in lines
    )  # fmt: skip
    return redemption


def _take_units(code: CouponCode | None, pairs: list[tuple[int, str]], discount: Decimal) -> list[int]:
    budgets = [budget for budget, _ in pairs]
    keys = [key for _, key in pairs]
    with connection.cursor() as cursor:
        if pairs:
            cursor.execute(ENSURE_COUNTERS, {"budgets": budgets, "keys": keys})
        cursor.execute(
            RESERVE,
            {"code": code.pk if code else None, "budgets": budgets, "keys": keys, "amount": discount,
             "wanted": len(pairs)},
        )  # fmt: skip
        code_room, counters_room, used_ids, full_ids, _code_taken = cursor.fetchone()
    if not code_room:
        raise Refusal(CouponUsedUp(_("This code has been used as many times as it may be.")))
    if not counters_room:
        raise Refusal(
            BudgetExhausted(
                _("This offer's budget is used up."), extra={"reason": "budget_exhausted", "counters": list(full_ids)}
            )
        )
    return list(used_ids)


def redemption_confirm(*, redemption_id: int) -> Redemption:
    """Reserved -> confirmed (the order was collected, the ticket rung up).
    Confirming a confirmed redemption changes nothing."""
    now = timezone.now()
    changed = Redemption.objects.filter(pk=redemption_id, state=RedemptionState.RESERVED).update(
        state=RedemptionState.CONFIRMED, confirmed_at=now, expires_at=None, updated_at=now
    )
    redemption = Redemption.objects.get(pk=redemption_id)
    if not changed and redemption.state != RedemptionState.CONFIRMED:
        raise RedemptionStateConflict(
            _("A %(state)s redemption cannot be confirmed.") % {"state": redemption.state},
            extra={"state": redemption.state},
        )
    return redemption


def redemption_release(*, redemption_id: int, reason: str) -> bool:
    """Reserved -> released (order cancelled, no-show, reservation expired):
    the code's use and every counter's unit go back, once. True when this
    call released it; False when it was no longer reserved."""
    with transaction.atomic():
        now = timezone.now()
        changed = Redemption.objects.filter(pk=redemption_id, state=RedemptionState.RESERVED).update(
            state=RedemptionState.RELEASED, closed_at=now, close_reason=reason[:40], expires_at=None, updated_at=now
        )
        if not changed:
            return False
        redemption = Redemption.objects.only("code_id", "counter_ids", "discount_amount").get(pk=redemption_id)
        _give_back(redemption.code_id, redemption.counter_ids, count=1, amount=redemption.discount_amount)
        return True


def _give_back(code_id: int | None, counter_ids: list[int], *, count: int, amount: Decimal) -> None:
    with connection.cursor() as cursor:
        cursor.execute(GIVE_BACK, {"code": code_id, "counters": counter_ids, "count": count, "amount": amount})
        if cursor.rowcount != len(counter_ids):  # the CHECKs make this unreachable unless a counter was edited by hand
            raise RedemptionStateConflict(_("A budget counter holds less than this redemption took."))


def redemption_rollback(
    *, redemption_id: int, reason: str, lines: Mapping[str, Decimal] | None = None, now: dt.datetime | None = None
) -> Redemption:
    """A return: confirmed -> rolled back, in full (``lines`` None) or line by
    line (``lines``: line key -> discount to take back, at most what the line
    still carries), within the program's return window after confirmation.
    The money goes back to the budgets; the count and the code's use go back
    when the whole discount has been rolled back."""
    now = now or timezone.now()
    with transaction.atomic():
        redemption = Redemption.objects.select_related("program").get(pk=redemption_id)
        _check_rollback_allowed(redemption, now)
        carried = {line.line_key: line for line in redemption.lines.all()}
        wanted = (
            {key: line.discount_amount - line.rolled_back_amount for key, line in carried.items()}
            if lines is None
            else dict(lines)
        )
        for key, amount in wanted.items():
            line = carried.get(key)
            if line is None or amount < 0 or amount > line.discount_amount - line.rolled_back_amount:
                raise RedemptionStateConflict(
                    _("Line %(line)s cannot give back %(amount)s.") % {"line": key, "amount": amount},
                    extra={"line": key},
                )
            RedemptionLine.objects.filter(pk=line.pk).update(rolled_back_amount=F("rolled_back_amount") + amount)
        total = sum(wanted.values(), Decimal(0))
        left = redemption.discount_amount - redemption.rolled_back_amount - total
        closes = left == 0
        changed = Redemption.objects.filter(
            pk=redemption_id, state=RedemptionState.CONFIRMED, rolled_back_amount=redemption.rolled_back_amount
        ).update(
            rolled_back_amount=F("rolled_back_amount") + total,
            state=RedemptionState.ROLLED_BACK if closes else RedemptionState.CONFIRMED,
            closed_at=now if closes else None,
            close_reason=reason[:40] if closes else "",
            updated_at=now,
        )
        if not changed:
            raise RedemptionStateConflict(_("The redemption changed meanwhile; read it again."))
        _give_back(
            redemption.code_id if closes else None, redemption.counter_ids, count=1 if closes else 0, amount=total
        )
        redemption.refresh_from_db()
        return redemption


def _check_rollback_allowed(redemption: Redemption, now: dt.datetime) -> None:
    if redemption.state != RedemptionState.CONFIRMED or redemption.confirmed_at is None:
        raise RedemptionStateConflict(
            _("Only a confirmed redemption can be rolled back (this one is %(state)s).") % {"state": redemption.state},
            extra={"state": redemption.state},
        )
    window_end = redemption.confirmed_at + dt.timedelta(days=redemption.program.pending_days + 1)
    if now > window_end:
        raise RedemptionStateConflict(
            _("The return window of this redemption is over."), extra={"reason": "return_window_over"}
        )


def redemptions_release_due(*, program: Program | None = None, now: dt.datetime | None = None) -> int:
    """Release the reservations left alone past their TTL (an order that was
    never confirmed nor cancelled). Each in its own transaction; safe to run
    on two workers at once (the state guard releases each once)."""
    now = now or timezone.now()
    due = Redemption.objects.filter(state=RedemptionState.RESERVED, expires_at__lte=now)
    if program is not None:
        due = due.filter(program=program)
    return sum(redemption_release(redemption_id=pk, reason="expired") for pk in due.values_list("pk", flat=True))
