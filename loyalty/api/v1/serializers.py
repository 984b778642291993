"""Loyalty's request and response bodies (interface only: the rules live in
loyalty.services, loyalty.selectors and loyalty.pricing)."""

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from gateway.api.money import MoneySerializer, money
from gateway.api.strict import (
    DecimalStringField,
    StrictBooleanField,
    StrictCharField,
    StrictInput,
    StrictIntegerField,
    StrictRegexField,
)
from inventory.models import iana_time_zones
from loyalty import pricing
from loyalty.formats import CARD_NUMBER_PATTERN, CODE_PATTERN, MAX_CODES, SLUG_PATTERN, reason_message
from loyalty.models import (
    ALL_WEEKDAYS,
    AudienceKind,
    BenefitKind,
    BudgetScope,
    Campaign,
    CampaignBudget,
    CampaignState,
    CodeGenerationJob,
    CouponCode,
    Member,
    PointsMovement,
    Program,
    ReturnPolicy,
    is_valid_card_number,
)

CODE_CHARSET_PATTERN = r"^[A-Z0-9]{10,64}$"
CODE_PREFIX_PATTERN = r"^[A-Z0-9-]{0,16}$"
MAX_BASKET_LINES = 200


class StrictDateTimeField(serializers.DateTimeField):
    """An RFC 3339 instant as text with its offset (DRF's field also takes
    naive text, read in the server's zone)."""

    default_error_messages = {"invalid": gettext_lazy("An RFC 3339 date-time with an offset is required.")}

    def to_internal_value(self, value: Any) -> dt.datetime:
        if type(value) is not str or len(value) > 40:
            self.fail("invalid")
        parsed: dt.datetime = super().to_internal_value(value)
        if "T" not in value.upper() or not (value.endswith(("Z", "z")) or value[-6] in "+-"):
            self.fail("invalid")
        return parsed


class StrictTimeField(serializers.TimeField):
    def to_internal_value(self, value: Any) -> dt.time:
        if type(value) is not str or len(value) > 8:
            self.fail("invalid", format="HH:MM")
        parsed: dt.time = super().to_internal_value(value)
        return parsed


class CardNumberField(StrictRegexField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            CARD_NUMBER_PATTERN, help_text="EAN-13 card number (13 digits, check digit included).", **kwargs
        )

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not re.fullmatch(CARD_NUMBER_PATTERN, value):  # checked here, before the check digit is computed
            raise serializers.ValidationError(
                _("A card number is an EAN-13: thirteen digits."), code="invalid_card_number"
            )
        if not is_valid_card_number(value):
            raise serializers.ValidationError(_("The card number's check digit is wrong."), code="invalid_check_digit")
        return value


# ---------------------------------------------------------------- programs


class ProgramCreateInput(StrictInput):
    code = StrictRegexField(SLUG_PATTERN, help_text="Slug, unique.")
    name = StrictCharField(max_length=200)
    currency = StrictRegexField(r"^[A-Z]{3}$", required=False, default="EUR")
    time_zone = StrictCharField(max_length=64, required=False, default="Europe/Paris")
    earn_rate = DecimalStringField(max_digits=8, decimal_places=3, min_value=Decimal(0), required=False)
    pending_days = StrictIntegerField(min_value=0, max_value=365, required=False)
    expiry_months = StrictIntegerField(min_value=1, max_value=120, required=False)
    burn_rate = DecimalStringField(max_digits=10, decimal_places=4, min_value=Decimal("0.0001"), required=False)
    return_policy = serializers.ChoiceField(choices=ReturnPolicy.choices, required=False)
    reservation_minutes = StrictIntegerField(min_value=1, max_value=7 * 24 * 60, required=False)
    late_ticket_days = StrictIntegerField(min_value=0, max_value=60, required=False)

    def validate_time_zone(self, value: str) -> str:
        if value not in iana_time_zones():
            raise serializers.ValidationError(_("Not an IANA time zone."))
        return value


class ProgramOutput(serializers.ModelSerializer[Program]):
    class Meta:
        model = Program
        fields = [
            "code", "name", "currency", "time_zone", "earn_rate", "pending_days", "expiry_months", "burn_rate",
            "return_policy", "reservation_minutes", "late_ticket_days", "is_active", "nightly_done_on", "version",
            "created_at", "updated_at",
        ]  # fmt: skip


# ---------------------------------------------------------------- members


class MemberCreateInput(StrictInput):
    program = StrictRegexField(SLUG_PATTERN, help_text="The program's code.")
    card_number = CardNumberField(required=False)
    user_id = StrictIntegerField(min_value=1, required=False, help_text="The shopper's user id, if they have one.")
    home_store = StrictCharField(max_length=40, required=False, help_text="A store's code.")
    consent_targeted_offers = StrictBooleanField(required=False, default=False)


class MemberOutput(serializers.ModelSerializer[Member]):
    program = serializers.CharField(source="program.code")
    home_store = serializers.CharField(source="home_store.code", allow_null=True, default=None)
    points = serializers.SerializerMethodField()

    class Meta:
        model = Member
        fields = [
            "card_number",
            "program",
            "home_store",
            "consent_targeted_offers",
            "points",
            "is_active",
            "created_at",
        ]

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "balance": {"type": "integer", "description": "Spendable points less any debt."},
                "pending": {"type": "integer"},
                "active": {"type": "integer"},
                "debt": {"type": "integer"},
            },
            "required": ["balance", "pending", "active", "debt"],
        }
    )
    def get_points(self, member: Member) -> dict[str, int]:
        return {
            "balance": member.points_balance,
            "pending": member.points_pending,
            "active": member.points_active,
            "debt": member.points_debt,
        }


class PointsMovementOutput(serializers.ModelSerializer[PointsMovement]):
    class Meta:
        model = PointsMovement
        fields = ["id", "kind", "delta_pending", "delta_active", "delta_debt", "reference", "created_at"]


# ---------------------------------------------------------------- campaigns


class BudgetInput(StrictInput):
    scope = serializers.ChoiceField(choices=BudgetScope.choices)
    limit_count = StrictIntegerField(min_value=0, max_value=10**12, required=False, allow_null=True)
    limit_amount = DecimalStringField(
        max_digits=14, decimal_places=2, min_value=Decimal(0), required=False, allow_null=True
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("limit_count") is None and attrs.get("limit_amount") is None:
            raise serializers.ValidationError(_("A budget limits a count, an amount, or both."))
        return attrs


class CampaignCreateInput(StrictInput):
    program = StrictRegexField(SLUG_PATTERN, help_text="The program's code.")
    name_fr = StrictCharField(max_length=200)
    name_en = StrictCharField(max_length=200, required=False, default="", allow_blank=True)
    starts_at = StrictDateTimeField()
    ends_at = StrictDateTimeField()
    weekdays = StrictIntegerField(
        min_value=1, max_value=ALL_WEEKDAYS, required=False, help_text="Bit 0 Monday ... bit 6 Sunday (127: every day)."
    )
    hours_from = StrictTimeField(required=False, allow_null=True, help_text="Local start of the daily window.")
    hours_to = StrictTimeField(required=False, allow_null=True, help_text="Local end (exclusive); may cross midnight.")
    stores = serializers.ListField(child=StrictCharField(max_length=40), required=False, max_length=500)
    requires_code = StrictBooleanField(required=False, default=True)
    audience = serializers.ChoiceField(choices=AudienceKind.choices, required=False)
    audience_category = StrictCharField(max_length=120, required=False)
    audience_days = StrictIntegerField(min_value=1, max_value=730, required=False)
    audience_stores = serializers.ListField(child=StrictCharField(max_length=40), required=False, max_length=500)
    min_basket_amount = DecimalStringField(max_digits=12, decimal_places=2, min_value=Decimal(0), required=False)
    eligible_skus = serializers.ListField(child=StrictCharField(max_length=64), required=False, max_length=1000)
    eligible_categories = serializers.ListField(child=StrictCharField(max_length=120), required=False, max_length=100)
    benefit = serializers.ChoiceField(choices=BenefitKind.choices)
    benefit_amount = DecimalStringField(max_digits=12, decimal_places=2, required=False, allow_null=True)
    benefit_percent = DecimalStringField(max_digits=5, decimal_places=2, required=False, allow_null=True)
    benefit_cap = DecimalStringField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"), required=False, allow_null=True
    )
    benefit_max_units = StrictIntegerField(min_value=1, max_value=1000, required=False)
    benefit_multiplier = DecimalStringField(max_digits=5, decimal_places=2, required=False, allow_null=True)
    exclusive = StrictBooleanField(required=False)
    stacking_class = StrictRegexField(r"^[a-z0-9-]{1,40}$", required=False)
    combinable_with = serializers.ListField(child=StrictRegexField(r"^[a-z0-9-]{1,40}$"), required=False, max_length=20)
    priority = StrictIntegerField(min_value=-1000, max_value=1000, required=False)
    budgets = BudgetInput(many=True, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (attrs.get("hours_from") is None) != (attrs.get("hours_to") is None):
            raise serializers.ValidationError({"hours_to": [_("Give both ends of the daily window, or neither.")]})
        return attrs


class BudgetOutput(serializers.ModelSerializer[CampaignBudget]):
    class Meta:
        model = CampaignBudget
        fields = ["scope", "limit_count", "limit_amount"]


class CampaignOutput(serializers.ModelSerializer[Campaign]):
    program = serializers.CharField(source="program.code")
    stores: Any = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    budgets = BudgetOutput(many=True, read_only=True)

    class Meta:
        model = Campaign
        fields = [
            "id", "program", "name_fr", "name_en", "state", "origin", "starts_at", "ends_at", "weekdays",
            "hours_from", "hours_to", "stores", "requires_code", "audience", "audience_category", "audience_days",
            "min_basket_amount", "eligible_skus", "eligible_categories", "benefit", "benefit_amount",
            "benefit_percent", "benefit_cap", "benefit_max_units", "benefit_multiplier", "exclusive",
            "stacking_class", "combinable_with", "priority", "budgets", "version", "created_at", "updated_at",
        ]  # fmt: skip


class CampaignStateInput(StrictInput):
    state = serializers.ChoiceField(choices=[s for s in CampaignState.choices if s[0] != CampaignState.DRAFT])


class PublicCodeInput(StrictInput):
    code = StrictRegexField(CODE_PATTERN, help_text="3 to 64 letters, digits or dashes; stored upper-case.")


class CouponCodeOutput(serializers.ModelSerializer[CouponCode]):
    campaign_id = serializers.IntegerField()

    class Meta:
        model = CouponCode
        fields = ["code", "campaign_id", "kind", "usage_limit", "used_count", "created_at"]


class CodeJobInput(StrictInput):
    requested = StrictIntegerField(min_value=1, max_value=1_000_000)
    prefix = StrictRegexField(CODE_PREFIX_PATTERN, required=False, default="", allow_blank=True)
    charset = StrictRegexField(CODE_CHARSET_PATTERN, required=False, default="ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
    random_length = StrictIntegerField(min_value=6, max_value=32, required=False, default=10)
    check_character = StrictBooleanField(required=False, default=True)
    usage_limit = StrictIntegerField(min_value=1, max_value=1_000_000, required=False, default=1)


class CodeJobOutput(serializers.ModelSerializer[CodeGenerationJob]):
    campaign_id = serializers.IntegerField()
    progress = serializers.SerializerMethodField()

    class Meta:
        model = CodeGenerationJob
        fields = [
            "id", "campaign_id", "state", "requested", "generated", "progress", "prefix", "charset", "random_length",
            "check_character", "usage_limit", "error", "created_at", "finished_at",
        ]  # fmt: skip

    def get_progress(self, job: CodeGenerationJob) -> float:
        return round(job.generated / job.requested, 4) if job.requested else 1.0


# ---------------------------------------------------------------- quote


class QuoteLineInput(StrictInput):
    product_id = StrictIntegerField(min_value=1)
    quantity = StrictIntegerField(min_value=1, max_value=10_000)


class QuoteInput(StrictInput):
    program = StrictRegexField(SLUG_PATTERN, help_text="The program's code.")
    store = StrictCharField(
        max_length=40, required=False, help_text="A store's code (a store client quotes for its own)."
    )
    card_number = CardNumberField(required=False)
    codes = serializers.ListField(
        child=StrictRegexField(CODE_PATTERN), required=False, default=list, max_length=MAX_CODES
    )
    lines = QuoteLineInput(many=True, min_length=1, max_length=MAX_BASKET_LINES)  # type: ignore[call-arg]  # ListSerializer kwargs
    at = StrictDateTimeField(required=False, help_text="The instant to price at (default: now).")


class QuoteLineOutput(serializers.Serializer[Any]):
    key = serializers.CharField(help_text="The line's index in the request.")
    product_id = serializers.IntegerField()
    subtotal = MoneySerializer()
    discount = MoneySerializer()
    total = MoneySerializer()


class AppliedLineOutput(serializers.Serializer[Any]):
    key = serializers.CharField()
    discount = MoneySerializer()


class AppliedOfferOutput(serializers.Serializer[Any]):
    campaign_id = serializers.IntegerField()
    name = serializers.CharField()
    code = serializers.CharField(allow_null=True)
    benefit = serializers.ChoiceField(choices=BenefitKind.choices)
    discount = MoneySerializer()
    points_multiplier = serializers.CharField(allow_null=True)
    lines = AppliedLineOutput(many=True)


class RefusedCodeOutput(serializers.Serializer[Any]):
    code = serializers.CharField()
    reason = serializers.ChoiceField(choices=[(r, r) for r in pricing.REASONS])
    message = serializers.CharField()
    campaign_id = serializers.IntegerField(allow_null=True)
    details = serializers.DictField(
        child=serializers.CharField(),
        help_text="`missing` and `minimum` (minimum_not_met), `with` (not_combinable), `starts_at`, `ended_at`...",
    )


class QuoteOutput(serializers.Serializer[Any]):
    program = serializers.CharField()
    store = serializers.CharField(allow_null=True)
    card_number = serializers.CharField(allow_null=True)
    subtotal = MoneySerializer()
    discount = MoneySerializer()
    total = MoneySerializer()
    points = serializers.IntegerField(help_text="Points the basket would earn, paid as quoted.")
    lines = QuoteLineOutput(many=True)
    applied = AppliedOfferOutput(many=True)
    refused = RefusedCodeOutput(many=True)


def quote_body(result: Any) -> dict[str, Any]:
    """The API shape of a loyalty.selectors.quotes.QuoteResult."""
    q: pricing.Quote = result.quote
    cur = q.currency
    return {
        "program": result.program.code,
        "store": result.store.code if result.store else None,
        "card_number": result.member.card_number if result.member else None,
        "subtotal": money(q.subtotal, cur),
        "discount": money(q.discount, cur),
        "total": money(q.total, cur),
        "points": q.points,
        "lines": [
            {"key": line.key, "product_id": result.products[line.key], "subtotal": money(line.subtotal, cur),
             "discount": money(line.discount, cur), "total": money(line.total, cur)}
            for line in q.lines
        ],
        "applied": [
            {"campaign_id": a.campaign_id, "name": a.name, "code": a.code, "benefit": a.benefit,
             "discount": money(a.discount, cur), "points_multiplier": str(a.multiplier) if a.multiplier else None,
             "lines": [{"key": key, "discount": money(share, cur)} for key, share in a.lines]}
            for a in q.applied
        ],
        "refused": [
            {"code": r.code, "reason": r.reason, "message": reason_message(r.reason),
             "campaign_id": r.campaign_id, "details": r.details}
            for r in q.refused
        ],
    }  # fmt: skip
