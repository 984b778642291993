"""The redemptions of one order or till ticket."""

from loyalty.models import Redemption


def source_redemptions(*, source_kind: str, source_reference: str) -> list[Redemption]:
    """Every redemption of the order or ticket, by campaign id, with its
    campaign and code."""
    return list(
        Redemption.objects.filter(source_kind=source_kind, source_reference=source_reference)
        .select_related("campaign", "code")
        .order_by("campaign_id")
    )
