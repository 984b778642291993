"""Adds a coupon campaign to a seeded midnight release (run after
``seed_midnight_release``, on its plan): a loyalty program, the rush's
campaign (an amount off the basket, with a public code and single-use codes)
whose total budget is smaller than the coupon demand, 19 more active
campaigns (automatic offers on a quote catalogue of their own, one with a
code of its own), and a 30-product quote catalogue. Writes the codes the
shoppers carry into the plan (``loyalty``: program, per shopper a code or
null) and what the quote benchmark needs (``quote``). Meant for benchmark
databases (loadtests/bench_coupon_rush.py).

    manage.py seed_coupon_rush --plan /tmp/plan.json --coupon-share 0.6 --budget-share 0.3
"""

import datetime as dt
import json
import random
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from inventory.models import Product
from loyalty.models import BenefitKind, BudgetScope, Campaign, CampaignBudget, CampaignState, CouponCode, Program

STACKING = "bench"  # every bench campaign combines with the others
RUSH_DISCOUNT = Decimal("1.00")
RUSH_MINIMUM = Decimal("1.00")  # below the cheapest basket (3 lines of at least 0.49)


class Command(BaseCommand):
    help = "Add a loyalty program and a coupon campaign smaller than demand to a midnight release plan (benchmarks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--plan", required=True, help="The plan seed_midnight_release wrote; updated in place.")
        parser.add_argument("--coupon-share", type=float, default=0.6, help="Share of shoppers carrying a code.")
        parser.add_argument(
            "--budget-share", type=float, default=0.3, help="The campaign's budget as a share of the coupon shoppers."
        )
        parser.add_argument("--campaigns", type=int, default=20, help="Active campaigns (rush included).")
        parser.add_argument("--quote-products", type=int, default=30)

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 < options["coupon_share"] <= 1 or not 0 < options["budget_share"] < 1:
            raise CommandError("--coupon-share must be in (0, 1] and --budget-share in (0, 1).")
        plan_path = Path(options["plan"])
        plan = json.loads(plan_path.read_text())
        shoppers = len(plan["tokens"])
        suffix = secrets.token_hex(3).upper()
        rng = random.Random(shoppers)
        carriers = sorted(rng.sample(range(shoppers), k=round(shoppers * options["coupon_share"])))
        limit = max(1, round(len(carriers) * options["budget_share"]))
        with transaction.atomic():
            program = bench_program(code=f"rush-{suffix.lower()}", name=f"Bench rush {suffix}")
            rush = active_campaign(
                program, "Rush: 1 EUR off", benefit_amount=RUSH_DISCOUNT, min_basket_amount=RUSH_MINIMUM
            )
            CampaignBudget.objects.create(
                campaign=rush, scope=BudgetScope.TOTAL, limit_count=limit, limit_amount=RUSH_DISCOUNT * limit
            )
            public = f"RUSH-{suffix}"
            # Half the carriers use the public code, half a single-use code; each
            # single-use code was shared by two shoppers (a forwarded mail), so
            # two of them race for it.
            unique_carriers = carriers[1::2]
            unique = [f"RUSH-{suffix}-{index:05d}" for index in range((len(unique_carriers) + 1) // 2)]
            coupon_codes_create(rush, public=public, single_use=unique)
            codes: list[str | None] = [None] * shoppers
            for shopper in carriers[0::2]:
                codes[shopper] = public
            for position, shopper in enumerate(unique_carriers):
                codes[shopper] = unique[position // 2]
            quote_products = _quote_products(options["quote_products"], suffix)
            quote_code = _other_campaigns(program, options["campaigns"] - 1, quote_products, suffix)
        plan["loyalty"] = {
            "program": program.code,
            "campaign_id": rush.pk,
            "public_code": public,
            "budget_count": limit,
            "codes": codes,
        }
        plan["quote"] = {
            "program": program.code,
            "codes": [quote_code],
            "lines": [
                {"product_id": product.pk, "quantity": 1 + index % 3} for index, product in enumerate(quote_products)
            ],
        }
        plan_path.write_text(json.dumps(plan))
        self.stdout.write(
            f"program {program.code}: {options['campaigns']} active campaigns; {len(carriers)} of {shoppers} "
            f"shoppers carry a code (public {public}, {len(unique)} single-use codes), budget {limit} redemptions"
        )


def bench_program(*, code: str, name: str) -> Program:
    """A bench's loyalty program: EUR, Paris time, 1 point a euro, 100 points a euro off."""
    return Program.objects.create(
        code=code, name=name, currency="EUR", time_zone="Europe/Paris", earn_rate=Decimal(1), burn_rate=Decimal("0.01")
    )


def active_campaign(program: Program, name: str, **fields: Any) -> Campaign:
    """An active campaign of a bench (live since yesterday, for 30 days), combinable with the bench's others."""
    now = timezone.now()
    return Campaign.objects.create(
        program=program,
        name_fr=name,
        name_en=name,
        state=CampaignState.ACTIVE,
        starts_at=now - dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=30),
        benefit=fields.pop("benefit", BenefitKind.AMOUNT_OFF_BASKET),
        stacking_class=STACKING,
        combinable_with=[STACKING],
        **fields,
    )


def coupon_codes_create(campaign: Campaign, *, public: str, single_use: list[str]) -> None:
    """The campaign's public code and its single-use codes (one use each), in one INSERT."""
    CouponCode.objects.bulk_create(
        [CouponCode(campaign=campaign, code=public, kind=CouponCode.Kind.PUBLIC)]
        + [CouponCode(campaign=campaign, code=text, kind=CouponCode.Kind.UNIQUE, usage_limit=1) for text in single_use]
    )


def _quote_products(count: int, suffix: str) -> list[Product]:
    return Product.objects.bulk_create(
        [
            Product(
                sku=f"QUOTE-{suffix}-{index:04d}",
                name_fr=f"Article devis {index}",
                name_en=f"Quote item {index}",
                price_amount=Decimal(199 + (index * 313) % 2800) / 100,
                price_currency="EUR",
            )
            for index in range(1, count + 1)
        ]
    )


def _other_campaigns(program: Program, count: int, products: list[Product], suffix: str) -> str:
    """``count`` more active campaigns: percent off a few of the quote
    products each, automatic (no code), with a total budget far from used;
    the first one needs a code (returned), so the quote prices a code too.
    None touches the rush's products."""
    code = f"QUOTE-{suffix}"
    for index in range(count):
        skus = [products[(index * 3 + step) % len(products)].sku for step in range(4)]
        campaign = active_campaign(
            program,
            f"Quote offer {index + 1}",
            benefit=BenefitKind.PERCENT_OFF_LINES,
            benefit_percent=Decimal(5 + index % 4 * 5),
            eligible_skus=skus,
            requires_code=index == 0,
        )
        CampaignBudget.objects.create(
            campaign=campaign, scope=BudgetScope.TOTAL, limit_count=1_000_000, limit_amount=None
        )
        if index == 0:
            CouponCode.objects.create(campaign=campaign, code=code, kind=CouponCode.Kind.PUBLIC)
    return code
