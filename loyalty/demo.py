"""Demo loyalty data: the "demo" program, two members (the demo shopper's
among them), the campaign "10 EUR off 100 EUR or more" with its public code
BIENVENUE10 and budgets, and 100 generated single-use codes on a second
campaign assigned to nobody, and a clearance campaign drafted from PAR01's
slow movers (the demo stock). Idempotent: loading again refreshes the rows
and drafts no second clearance."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import OutputWrapper
from django.utils import timezone

from inventory.models import Location
from loyalty.errors import NoSlowMovers
from loyalty.models import (
    BenefitKind,
    BudgetScope,
    Campaign,
    CampaignBudget,
    CampaignOrigin,
    CampaignState,
    CodeGenerationJob,
    CouponCode,
    Member,
    Program,
    ReturnPolicy,
)
from loyalty.services.catalog import codes_generate
from loyalty.services.slow_movers import slow_mover_campaign_draft

SHOPPER_CARD = "2900000000018"
SECOND_CARD = "2900000000025"
PUBLIC_CODE = "BIENVENUE10"


def load(*, stdout: OutputWrapper, options: dict[str, Any]) -> None:
    program, _ = Program.objects.update_or_create(
        code="demo",
        defaults={
            "name": "Club fidélité (démo)",
            "currency": "EUR",
            "time_zone": "Europe/Paris",
            "earn_rate": Decimal(1),
            "pending_days": 14,
            "expiry_months": 12,
            "burn_rate": Decimal("0.01"),
            "return_policy": ReturnPolicy.WITHIN_BALANCE,
        },
    )
    home = Location.objects.filter(code="PAR01").first()
    shopper = get_user_model().objects.filter(username="shopper").first()
    Member.objects.update_or_create(
        card_number=SHOPPER_CARD,
        defaults={"program": program, "user": shopper, "home_store": home, "consent_targeted_offers": True},
    )
    Member.objects.update_or_create(
        card_number=SECOND_CARD, defaults={"program": program, "home_store": home, "consent_targeted_offers": False}
    )
    now = timezone.now()
    welcome = _campaign(
        program,
        "10 € offerts dès 100 € d'achat",
        "10 EUR off 100 EUR or more",
        now,
        min_basket_amount=Decimal("100.00"),
        benefit=BenefitKind.AMOUNT_OFF_BASKET,
        benefit_amount=Decimal("10.00"),
    )
    _budgets(welcome, [(BudgetScope.TOTAL, None, Decimal("1000.00")), (BudgetScope.MEMBER, 1, None)])
    CouponCode.objects.update_or_create(
        code=PUBLIC_CODE, defaults={"campaign": welcome, "kind": CouponCode.Kind.PUBLIC, "usage_limit": None}
    )
    fruit = _campaign(
        program,
        "-20 % sur les fruits",
        "20 % off fruit",
        now,
        benefit=BenefitKind.PERCENT_OFF_LINES,
        benefit_percent=Decimal(20),
        benefit_cap=Decimal("5.00"),
        eligible_categories=["citrus fruit", "pip fruit", "tropical fruit"],
    )
    _budgets(fruit, [(BudgetScope.TOTAL, 100, None)])
    if not fruit.generation_jobs.exists():
        job = CodeGenerationJob.objects.create(campaign=fruit, requested=100, prefix="FRUT-", random_length=8)
        codes_generate(job_id=job.pk)
    clearance = _clearance(program, home)
    stdout.write(
        f"\nDemo loyalty: program demo, shopper card {SHOPPER_CARD}, public code {PUBLIC_CODE} "
        f"(campaign {welcome.pk}), 100 single-use FRUT- codes (campaign {fruit.pk}), "
        f"slow-mover clearance draft at PAR01 (campaign {clearance.pk if clearance else 'none: no slow movers'})"
    )


def _clearance(program: Program, store: Location | None) -> Campaign | None:
    """The draft an operator would get on Monday for PAR01, drafted once."""
    if store is None:
        return None
    drafted = Campaign.objects.filter(
        program=program, origin=CampaignOrigin.SLOW_MOVERS, source_figures__store=store.code
    ).first()
    if drafted is not None:
        return drafted
    try:
        return slow_mover_campaign_draft(program=program, store=store)
    except NoSlowMovers:
        return None


def _campaign(program: Program, name_fr: str, name_en: str, now: dt.datetime, **fields: Any) -> Campaign:
    campaign, _ = Campaign.objects.update_or_create(
        program=program,
        name_en=name_en,
        defaults={
            "name_fr": name_fr,
            "state": CampaignState.ACTIVE,
            "starts_at": now - dt.timedelta(days=1),
            "ends_at": now + dt.timedelta(days=90),
            **fields,
        },
    )
    return campaign


def _budgets(campaign: Campaign, budgets: list[tuple[str, int | None, Decimal | None]]) -> None:
    for scope, count, amount in budgets:
        CampaignBudget.objects.update_or_create(
            campaign=campaign, scope=scope, defaults={"limit_count": count, "limit_amount": amount}
        )
