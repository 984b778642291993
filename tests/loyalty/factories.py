"""Loyalty test data: programs, members with valid cards, campaigns with
budgets and codes. Points are earned through the service, so the ledger sums
to the counters from the start."""

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from loyalty.models import (
    BenefitKind,
    BudgetScope,
    Campaign,
    CampaignBudget,
    CampaignState,
    CouponCode,
    Member,
    Program,
    ean13_check_digit,
)

_cards = itertools.count(1)


def card_number() -> str:
    body = f"29{next(_cards):010d}"
    return body + str(ean13_check_digit(body))


class ProgramFactory(factory.django.DjangoModelFactory[Program]):
    class Meta:
        model = Program

    code = factory.Sequence(lambda n: f"program-{n}")
    name = factory.Sequence(lambda n: f"Program {n}")
    currency = "EUR"
    time_zone = "Europe/Paris"
    earn_rate = Decimal(1)
    pending_days = 14
    expiry_months = 12
    burn_rate = Decimal("0.01")


class MemberFactory(factory.django.DjangoModelFactory[Member]):
    class Meta:
        model = Member

    program = factory.SubFactory(ProgramFactory)
    card_number = factory.LazyFunction(card_number)
    consent_targeted_offers = True


def campaign(
    program: Program,
    *,
    benefit: str = BenefitKind.AMOUNT_OFF_BASKET,
    amount: str | None = "10.00",
    state: str = CampaignState.ACTIVE,
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    budgets: list[tuple[str, int | None, str | None]] | None = None,
    **fields: Any,
) -> Campaign:
    """An active campaign valid from yesterday for 30 days; ``budgets`` as (scope, count, amount)."""
    now = timezone.now()
    created = Campaign.objects.create(
        program=program,
        name_fr=fields.pop("name_fr", "Offre"),
        name_en=fields.pop("name_en", "Offer"),
        state=state,
        starts_at=starts_at or now - dt.timedelta(days=1),
        ends_at=ends_at or now + dt.timedelta(days=30),
        benefit=benefit,
        benefit_amount=Decimal(amount) if amount is not None else None,
        **fields,
    )
    for scope, count, money in budgets or []:
        CampaignBudget.objects.create(
            campaign=created,
            scope=scope,
            limit_count=count,
            limit_amount=Decimal(money) if money is not None else None,
        )
    return created


def code(target: Campaign, text: str, *, usage_limit: int | None = None, member: Member | None = None) -> CouponCode:
    kind = CouponCode.Kind.UNIQUE if usage_limit is not None else CouponCode.Kind.PUBLIC
    return CouponCode.objects.create(campaign=target, code=text, kind=kind, usage_limit=usage_limit, member=member)


TOTAL = BudgetScope.TOTAL
PER_MEMBER = BudgetScope.MEMBER
