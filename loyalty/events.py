"""Loyalty's events for the feed and webhooks (``partners.event_types`` lists
them with examples). Recorded in the transaction of the change they report,
through the shared outbox (``partners.services.events_record``).

Audiences: the operator gets every event; a partner that owns a campaign
(``Campaign.owner``) also gets the ``coupon.*`` events of that campaign.
Points events concern a member, not a partner: operator only."""

import datetime as dt
from typing import Any

from loyalty.models import Campaign, Redemption
from partners.services import NewEvent


def _money(amount: Any, currency: str) -> dict[str, str]:
    return {"amount": str(amount), "currency": currency}


def coupon_event(*, type: str, redemption: Redemption, campaign: Campaign, code: str = "") -> list[NewEvent]:
    """``coupon.reserved``, ``coupon.redeemed``, ``coupon.released`` or
    ``coupon.rolled_back`` for one redemption, to the operator and to the
    campaign's owning partner, if any."""
    payload = {
        "redemption_id": redemption.pk,
        "campaign_id": campaign.pk,
        "campaign": campaign.name_fr,
        "code": code,
        "member_id": redemption.member_id,
        "store_id": redemption.store_id,
        "source": redemption.source_kind,
        "reference": redemption.source_reference,
        "state": redemption.state,
        "discount": _money(redemption.discount_amount, redemption.currency),
        "rolled_back": _money(redemption.rolled_back_amount, redemption.currency),
        "occurred_at": iso_instant(redemption.occurred_at),
        "reason": redemption.close_reason,
    }
    events = [NewEvent(type=type, payload=payload, subject=f"campaign:{campaign.pk}")]
    if campaign.owner_id is not None:
        events.append(
            NewEvent(type=type, payload=payload, partner_id=campaign.owner_id, subject=f"campaign:{campaign.pk}")
        )
    return events


def points_event(
    *, type: str, member_id: int, program_code: str, points: int, reference: str, at: dt.datetime, **extra: Any
) -> NewEvent:
    """``points.earned``, ``points.spent``, ``points.expired`` (operator only)."""
    return NewEvent(
        type=type,
        payload={
            "member_id": member_id,
            "program": program_code,
            "points": points,
            "reference": reference,
            "at": iso_instant(at),
            **extra,
        },
        subject=f"member:{member_id}",
    )


def iso_instant(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if moment else None
