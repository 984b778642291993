"""Loyalty's models: programs and members, the points ledger, campaigns with
their budgets and codes, redemptions and till tickets."""

from loyalty.models.campaigns import (
    ALL_WEEKDAYS,
    AudienceKind,
    BenefitKind,
    BudgetCounter,
    BudgetScope,
    Campaign,
    CampaignBudget,
    CampaignOrigin,
    CampaignState,
    CodeGenerationJob,
    CouponCode,
)
from loyalty.models.points import BucketState, MovementKind, PointsBucket, PointsMovement
from loyalty.models.program import (
    Member,
    MemberPurchase,
    Program,
    ReturnPolicy,
    ean13_check_digit,
    is_valid_card_number,
    validate_card_number,
)
from loyalty.models.redemptions import Redemption, RedemptionLine, RedemptionState, SourceKind, TillTicket

__all__ = [
    "ALL_WEEKDAYS",
    "AudienceKind",
    "BenefitKind",
    "BucketState",
    "BudgetCounter",
    "BudgetScope",
    "Campaign",
    "CampaignBudget",
    "CampaignOrigin",
    "CampaignState",
    "CodeGenerationJob",
    "CouponCode",
    "Member",
    "MemberPurchase",
    "MovementKind",
    "PointsBucket",
    "PointsMovement",
    "Program",
    "Redemption",
    "RedemptionLine",
    "RedemptionState",
    "ReturnPolicy",
    "SourceKind",
    "TillTicket",
    "ean13_check_digit",
    "is_valid_card_number",
    "validate_card_number",
]
