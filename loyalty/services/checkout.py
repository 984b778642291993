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
"""

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.utils.translation import gettext as _

from gateway.transactions import Refusal
from loyalty import pricing
from loyalty.errors import CouponNotApplicable
from loyalty.events import coupon_event
from loyalty.models import Campaign, CouponCode, Program, Redemption, RedemptionState
from loyalty.services.redemptions import LineDiscount, redemption_confirm, redemption_release, redemption_reserve
from partners.services import NewEvent, events_record


def basket_require_codes(quote: pricing.Quote) -> None:
    """Refuse the basket when one of its codes does not apply, naming the
    code and the reason (with its details: the amount missing, the other
    code it cannot combine with...)."""
    if not quote.refused:
        return
    refused = quote.refused[0]
    raise CouponNotApplicable(
        _("The code %(code)s does not apply to this basket (%(reason)s).")
        % {"code": refused.code, "reason": refused.reason},
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
    campaigns = {c.pk: c for c in Campaign.objects.filter(pk__in=ids).prefetch_related("budgets")}
    texts = [applied.code.upper() for applied in quote.applied if applied.code]
    codes = {(c.campaign_id, c.code): c for c in CouponCode.objects.filter(campaign_id__in=ids, code__in=texts)}
    lines = {line.key: line for line in basket.lines}
    redemptions: list[Redemption] = []
    for applied in sorted(quote.applied, key=lambda a: a.campaign_id):
        campaign = campaigns[applied.campaign_id]
        try:
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
                budgets=list(campaign.budgets.all()),
            )
        except Refusal as refusal:
            if redemptions:  # earlier campaigns took units: the caller's transaction must roll back
                raise refusal.error from None
            raise
        if not expires and redemption.expires_at is not None:
            Redemption.objects.filter(pk=redemption.pk).update(expires_at=None)
            redemption.expires_at = None
        redemptions.append(redemption)
    return redemptions


def _line_discounts(applied: pricing.Applied, lines: dict[str, pricing.Line]) -> list[LineDiscount]:
    return [
        LineDiscount(
            line_key=key, quantity=lines[key].quantity, discount=share, product_id=lines[key].product_id,
            sku=lines[key].sku,
        )
        for key, share in applied.lines
    ]  # fmt: skip


def coupon_events(type: str, redemptions: Sequence[Redemption]) -> list[NewEvent]:
    """The ``coupon.*`` events of ``redemptions`` (their campaign and code
    read in one query each)."""
    if not redemptions:
        return []
    campaigns = Campaign.objects.in_bulk({r.campaign_id for r in redemptions})
    codes = dict(
        CouponCode.objects.filter(pk__in={r.code_id for r in redemptions if r.code_id}).values_list("pk", "code")
    )
    return [
        event
        for r in redemptions
        for event in coupon_event(
            type=type, redemption=r, campaign=campaigns[r.campaign_id], code=codes.get(r.code_id or 0, "")
        )
    ]


def source_redemptions(*, source_kind: str, source_reference: str) -> list[Redemption]:
    return list(
        Redemption.objects.filter(source_kind=source_kind, source_reference=source_reference).order_by("campaign_id")
    )


def source_confirm(
    *, source_kind: str, source_reference: str, points_earned: int = 0, points_burned: int = 0
) -> list[Redemption]:
    """Confirm every reserved redemption of the order or ticket (collected,
    rung up), note the points its basket earned and burned, and record
    ``coupon.redeemed``. Idempotent: confirmed ones are left as they are."""
    confirmed = []
    for redemption in source_redemptions(source_kind=source_kind, source_reference=source_reference):
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
