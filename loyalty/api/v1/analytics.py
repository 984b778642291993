"""Slow movers, clearance drafts, campaign reports and analytics (interface
only: the rules live in loyalty.selectors.slow_movers,
loyalty.services.slow_movers and loyalty.selectors.analytics).

``loyalty:manage`` (the operator): the slow movers of a store and the
drafts made from them. ``loyalty:read``: a campaign's report and the
analytics feed, for the operator (every campaign) and partners (the
campaigns on their own products only)."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gateway.api.idempotency import idempotent
from gateway.api.money import MoneySerializer, money
from gateway.api.params import MAX_ID, code_param, code_schema, date_range_params, id_param, int_param
from gateway.api.problems import InvalidQueryParameter
from gateway.api.strict import (
    DecimalStringField,
    StrictCharField,
    StrictInput,
    StrictIntegerField,
    StrictRegexField,
    validated_body,
)
from inventory.models import Location
from inventory.selectors.locations import locations_visible_to
from loyalty import selectors
from loyalty.api.v1.serializers import SLUG_PATTERN, CampaignOutput
from loyalty.api.v1.views import TAG, _program_field, _stores
from loyalty.selectors.analytics import (
    MAX_ANALYTICS_DAYS,
    MAX_ANALYTICS_ROWS,
    AnalyticsRow,
    BudgetFigures,
    CampaignReport,
    campaign_analytics,
    campaign_report,
)
from loyalty.selectors.slow_movers import (
    DEFAULT_MIN_DAYS_COVER,
    DEFAULT_MIN_DAYS_SINCE_SALE,
    DEFAULT_TARGET_DAYS_COVER,
    SALES_WINDOW_DAYS,
    ProductFigures,
    SlowMovers,
    slow_movers_at,
)
from loyalty.services.slow_movers import DEFAULT_DAYS, DEFAULT_PERCENT, slow_mover_campaign_draft
from partners.callers import Caller, caller_from_request

MAX_DAYS_THRESHOLD = 3650
MAX_SLOW_MOVERS = 500
DEFAULT_SLOW_MOVERS = 100


def _store_param(request: Request, caller: Caller, *, required: bool) -> Location | None:
    code = code_param(request, "store", required=required)
    if code is None:
        return None
    store = locations_visible_to(caller=caller).filter(code=code, kind="store").first()
    if store is None:
        raise InvalidQueryParameter("store", _("No such store."), code="unknown_store")
    return store


def _name(figures: ProductFigures) -> str:
    return figures.name_en if translation.get_language() == "en" and figures.name_en else figures.name_fr


# ---------------------------------------------------------------- slow movers


class SlowMoverOutput(serializers.Serializer[Any]):
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField(help_text="In the language served (Accept-Language).")
    category = serializers.CharField()
    on_hand = serializers.IntegerField()
    units_sold = serializers.IntegerField(help_text=f"Units sold at the store over the last {SALES_WINDOW_DAYS} days.")
    average_daily_sales = serializers.CharField(help_text="units_sold / 28, a decimal string (2 places).")
    days_of_cover = serializers.CharField(
        allow_null=True,
        help_text="on_hand / average_daily_sales, a decimal string (1 place); null when nothing sold in the "
        "window: the cover is infinite.",
    )
    last_sold_at = serializers.DateTimeField(allow_null=True)
    days_since_last_sale = serializers.IntegerField(
        allow_null=True, help_text="Local days (store's zone) since the last sale; null when never sold."
    )
    price = MoneySerializer()
    stock_value = MoneySerializer(help_text="on_hand at the catalogue price.")
    excess_units = serializers.IntegerField(help_text="On hand beyond target_days_cover days of sales.")
    excess_value = MoneySerializer()


class SlowMoversOutput(serializers.Serializer[Any]):
    store = serializers.CharField()
    as_of = serializers.DateTimeField()
    window_days = serializers.IntegerField()
    min_days_cover = serializers.IntegerField()
    min_days_since_sale = serializers.IntegerField()
    target_days_cover = serializers.IntegerField()
    count = serializers.IntegerField(help_text="How many slow movers the store has (results holds at most limit).")
    results = SlowMoverOutput(many=True)


def slow_mover_body(figures: ProductFigures) -> dict[str, Any]:
    cur = figures.currency
    return {
        "product_id": figures.product_id,
        "sku": figures.sku,
        "name": _name(figures),
        "category": figures.category,
        "on_hand": figures.on_hand,
        "units_sold": figures.units_sold,
        "average_daily_sales": str(figures.average_daily_sales),
        "days_of_cover": str(figures.days_of_cover) if figures.days_of_cover is not None else None,
        "last_sold_at": figures.last_sold_at,
        "days_since_last_sale": figures.days_since_last_sale,
        "price": money(figures.price, cur),
        "stock_value": money(figures.stock_value, cur),
        "excess_units": figures.excess_units,
        "excess_value": money(figures.excess_value, cur),
    }


def slow_movers_body(found: SlowMovers, limit: int) -> dict[str, Any]:
    return SlowMoversOutput(
        {
            "store": found.store.code,
            "as_of": found.as_of,
            "window_days": SALES_WINDOW_DAYS,
            "min_days_cover": found.min_days_cover,
            "min_days_since_sale": found.min_days_since_sale,
            "target_days_cover": found.target_days_cover,
            "count": len(found.products),
            "results": [slow_mover_body(f) for f in found.products[:limit]],
        }
    ).data


_THRESHOLDS = [
    OpenApiParameter(
        "min_days_cover",
        {"type": "integer", "minimum": 1, "maximum": MAX_DAYS_THRESHOLD},
        description=f"A product is slow when its days of cover reach this (1 to {MAX_DAYS_THRESHOLD}; default "
        f"{DEFAULT_MIN_DAYS_COVER}); nothing sold in {SALES_WINDOW_DAYS} days is an infinite cover.",
    ),
    OpenApiParameter(
        "min_days_since_sale",
        {"type": "integer", "minimum": 1, "maximum": MAX_DAYS_THRESHOLD},
        description=f"... or when its days since the last sale reach this (1 to {MAX_DAYS_THRESHOLD}; default "
        f"{DEFAULT_MIN_DAYS_SINCE_SALE}); never sold counts as infinitely long.",
    ),
]


def _thresholds(request: Request) -> tuple[int, int]:
    return (
        int_param(request, "min_days_cover", low=1, high=MAX_DAYS_THRESHOLD, default=DEFAULT_MIN_DAYS_COVER),
        int_param(request, "min_days_since_sale", low=1, high=MAX_DAYS_THRESHOLD, default=DEFAULT_MIN_DAYS_SINCE_SALE),
    )


class SlowMoversView(APIView):
    required_scopes = {"GET": ["loyalty:manage"]}
    # a bad or unknown store, a bad threshold
    extra_error_statuses = {"GET": [400]}

    @extend_schema(
        tags=TAG,
        operation_id="loyalty_slow_movers",
        summary="A store's slow movers",
        description=f"Every active product the store holds whose days of cover (on hand / average daily sales "
        f"over the last {SALES_WINDOW_DAYS} days) or days since its last sale reach the thresholds, most excess "
        "value first. Sales are the stock ledger's sale movements (collected click-and-collect orders, till "
        "sales posted as stock adjustments) and the till tickets' lines (a sale movement referencing a ticket, "
        "`ticket:...`, is counted once, from its ticket). `excess_units` is what the product holds beyond "
        "`target_days_cover` days of its sales. At most `limit` products are listed; `count` says how many "
        "there are.",
        parameters=[
            OpenApiParameter("store", code_schema(required=True), required=True, description="A store's code."),
            *_THRESHOLDS,
            OpenApiParameter(
                "target_days_cover",
                {"type": "integer", "minimum": 1, "maximum": 365},
                description=f"Days of sales a product should hold (1 to 365; default {DEFAULT_TARGET_DAYS_COVER}).",
            ),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_SLOW_MOVERS},
                description=f"Products listed (1 to {MAX_SLOW_MOVERS}; default {DEFAULT_SLOW_MOVERS}).",
            ),
        ],
        responses=SlowMoversOutput,
        examples=[
            OpenApiExample(
                "One slow mover",
                response_only=True,
                value={
                    "store": "PAR01",
                    "as_of": "2026-12-07T04:00:00Z",
                    "window_days": 28,
                    "min_days_cover": 60,
                    "min_days_since_sale": 21,
                    "target_days_cover": 28,
                    "count": 1,
                    "results": [
                        {
                            "product_id": 42,
                            "sku": "DEMO-CANNED-FISH",
                            "name": "Sardines à l'huile",
                            "category": "canned fish",
                            "on_hand": 120,
                            "units_sold": 14,
                            "average_daily_sales": "0.50",
                            "days_of_cover": "240.0",
                            "last_sold_at": "2026-12-05T17:12:00Z",
                            "days_since_last_sale": 2,
                            "price": {"amount": "2.40", "currency": "EUR"},
                            "stock_value": {"amount": "288.00", "currency": "EUR"},
                            "excess_units": 106,
                            "excess_value": {"amount": "254.40", "currency": "EUR"},
                        }
                    ],
                },
            )
        ],
    )
    def get(self, request: Request) -> Response:
        caller = caller_from_request(request)
        selectors.ensure_operator(caller=caller)
        store = _store_param(request, caller, required=True)
        assert store is not None  # required
        min_days_cover, min_days_since_sale = _thresholds(request)
        target = int_param(request, "target_days_cover", low=1, high=365, default=DEFAULT_TARGET_DAYS_COVER)
        limit = int_param(request, "limit", low=1, high=MAX_SLOW_MOVERS, default=DEFAULT_SLOW_MOVERS)
        found = slow_movers_at(
            store=store,
            min_days_cover=min_days_cover,
            min_days_since_sale=min_days_since_sale,
            target_days_cover=target,
        )
        return Response(slow_movers_body(found, limit))


class SlowMoverCampaignInput(StrictInput):
    program = StrictRegexField(SLUG_PATTERN, help_text="The program's code.")
    store = StrictCharField(max_length=40, help_text="The store's code: the campaign is valid there only.")
    percent = DecimalStringField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal(100),
        required=False,
        default=DEFAULT_PERCENT,
        help_text=f"Percent off the targeted products (default {DEFAULT_PERCENT}).",
    )
    days = StrictIntegerField(
        min_value=1, max_value=90, required=False, default=DEFAULT_DAYS, help_text="How long it runs from now."
    )
    skus = serializers.ListField(
        child=StrictCharField(max_length=64),
        required=False,
        max_length=1000,
        help_text="Target only these slow movers (default: every slow mover with stock in excess).",
    )
    min_days_cover = StrictIntegerField(min_value=1, max_value=MAX_DAYS_THRESHOLD, required=False)
    min_days_since_sale = StrictIntegerField(min_value=1, max_value=MAX_DAYS_THRESHOLD, required=False)


class SlowMoverCampaignView(APIView):
    required_scopes = {"POST": ["loyalty:manage"]}

    @extend_schema(
        tags=TAG,
        operation_id="loyalty_slow_movers_campaigns_create",
        summary="Draft a clearance campaign for a store's slow movers",
        description="Drafts a campaign (state `draft`, origin `slow_movers`): percent off the store's slow "
        "movers that hold stock in excess (or those among `skus`), valid at that store only for `days` days "
        "from now, automatic (no code), for the members who bought their categories at that store in the last "
        "90 days (one category: the live category audience; several: the consenting members who bought any of "
        "them, listed as of the draft). Its money budget (in total) is the excess stock's value times the "
        "percentage, rounded half-up to the cent. 422 `no_slow_movers` when nothing holds stock in excess; "
        "422 `validation_failed` on `skus` naming a product that is not a slow mover there. Activate it with "
        "POST .../campaigns/{id}/state.",
        request=SlowMoverCampaignInput,
        responses={201: CampaignOutput},
        examples=[
            OpenApiExample(
                "20 % off for two weeks",
                request_only=True,
                value={"program": "demo", "store": "PAR01", "percent": "20", "days": 14},
            )
        ],
    )
    @idempotent(required=False)
    def post(self, request: Request) -> Response:
        caller = caller_from_request(request)
        selectors.ensure_operator(caller=caller)
        data = validated_body(SlowMoverCampaignInput, request.data)
        fields = dict(data)
        thresholds = {
            name: fields[name] for name in ("min_days_cover", "min_days_since_sale") if fields.get(name) is not None
        }
        campaign = slow_mover_campaign_draft(
            program=_program_field(caller, fields["program"]),
            store=_stores(caller, [fields["store"]], "store")[0],
            percent=fields["percent"],
            days=fields["days"],
            skus=fields.get("skus") or None,
            **thresholds,
        )
        campaign = selectors.campaign_get(caller=caller, campaign_id=campaign.pk)
        return Response(
            CampaignOutput(campaign).data, status=201, headers={"Location": f"/api/v1/loyalty/campaigns/{campaign.pk}"}
        )


# ---------------------------------------------------------------- report


class ReportWindowOutput(serializers.Serializer[Any]):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    days = serializers.CharField(help_text="The window's length in days, a decimal string.")
    units = serializers.IntegerField()


class ReportProductOutput(serializers.Serializer[Any]):
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    units_before = serializers.IntegerField()
    units_during = serializers.IntegerField()


class ReportRedemptionsOutput(serializers.Serializer[Any]):
    confirmed = serializers.IntegerField()
    rolled_back = serializers.IntegerField()
    reserved = serializers.IntegerField()
    discount = MoneySerializer(help_text="Discount given, net of what returns took back.")
    revenue = MoneySerializer(help_text="Baskets with the campaign, before discounts.")


class CampaignReportOutput(serializers.Serializer[Any]):
    campaign_id = serializers.IntegerField()
    state = serializers.CharField()
    stores = serializers.ListField(child=serializers.CharField())
    before = ReportWindowOutput(help_text=f"The {SALES_WINDOW_DAYS} days before the campaign started.")
    during = ReportWindowOutput(help_text="From the start until now (or the end, when earlier).")
    products = ReportProductOutput(many=True)
    redemptions = ReportRedemptionsOutput()


def report_body(report: CampaignReport) -> dict[str, Any]:
    cur = report.campaign.program.currency
    return CampaignReportOutput(
        {
            "campaign_id": report.campaign.pk,
            "state": report.campaign.state,
            "stores": report.store_codes,
            "before": {
                "starts_at": report.before_from,
                "ends_at": report.during_from,
                "days": str(report.days_before),
                "units": report.units_before,
            },
            "during": {
                "starts_at": report.during_from,
                "ends_at": report.during_until,
                "days": str(report.days_during),
                "units": report.units_during,
            },
            "products": [vars(p) for p in report.products],
            "redemptions": {
                "confirmed": report.confirmed,
                "rolled_back": report.rolled_back,
                "reserved": report.reserved,
                "discount": money(report.discount, cur),
                "revenue": money(report.revenue, cur),
            },
        }
    ).data


class CampaignReportView(APIView):
    required_scopes = {"GET": ["loyalty:read"]}

    @extend_schema(
        tags=TAG,
        operation_id="loyalty_campaigns_report",
        summary="What a campaign sold",
        description=f"Units of the campaign's products (its eligible SKUs held at its stores) sold there during "
        f"the campaign so far, against the {SALES_WINDOW_DAYS} days before it started (same sales as the slow "
        "movers: ledger sale movements and till tickets), with its redemptions. The operator reads any "
        "campaign, a partner only those on its own products (404 otherwise).",
        responses=CampaignReportOutput,
    )
    def get(self, request: Request, campaign_id: int) -> Response:
        return Response(report_body(campaign_report(caller=caller_from_request(request), campaign_id=campaign_id)))


# ---------------------------------------------------------------- analytics


class BudgetFiguresOutput(serializers.Serializer[Any]):
    used_count = serializers.IntegerField()
    limit_count = serializers.IntegerField(allow_null=True)
    left_count = serializers.IntegerField(allow_null=True)
    used_amount = MoneySerializer()
    limit_amount = MoneySerializer(allow_null=True)
    left_amount = MoneySerializer(allow_null=True)


class AnalyticsBudgetOutput(serializers.Serializer[Any]):
    total = BudgetFiguresOutput(allow_null=True, help_text="The campaign's budget in total (null: none).")
    store = BudgetFiguresOutput(allow_null=True, help_text="Its budget per store, this row's store's counter.")
    day = BudgetFiguresOutput(allow_null=True, help_text="Its budget per local day, this row's day's counter.")


class AnalyticsRedemptionsOutput(serializers.Serializer[Any]):
    confirmed = serializers.IntegerField()
    reserved = serializers.IntegerField()
    released = serializers.IntegerField()
    rolled_back = serializers.IntegerField()


class AnalyticsRowOutput(serializers.Serializer[Any]):
    campaign_id = serializers.IntegerField()
    store = serializers.CharField(allow_null=True, help_text="The store's code; null for redemptions of no store.")
    day = serializers.DateField(help_text="Local day in the program's zone.")
    redemptions = AnalyticsRedemptionsOutput()
    discount = MoneySerializer(help_text="Discount cost: confirmed and rolled-back redemptions, net of rollbacks.")
    revenue = MoneySerializer(help_text="Baskets with the coupon (confirmed or rolled back), before discounts.")
    points_earned = serializers.IntegerField()
    points_burned = serializers.IntegerField()
    budget = AnalyticsBudgetOutput(help_text="The counters as they stand now.")


class AnalyticsOutput(serializers.Serializer[Any]):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    truncated = serializers.BooleanField(help_text=f"True when more than {MAX_ANALYTICS_ROWS} rows matched.")
    results = AnalyticsRowOutput(many=True)


def _budget(figures: BudgetFigures | None, cur: str) -> dict[str, Any] | None:
    if figures is None:
        return None
    return {
        "used_count": figures.used_count,
        "limit_count": figures.limit_count,
        "left_count": figures.left_count,
        "used_amount": money(figures.used_amount, cur),
        "limit_amount": money(figures.limit_amount, cur) if figures.limit_amount is not None else None,
        "left_amount": money(figures.left_amount, cur) if figures.left_amount is not None else None,
    }


def analytics_row_body(row: AnalyticsRow) -> dict[str, Any]:
    cur = row.currency
    return {
        "campaign_id": row.campaign_id,
        "store": row.store_code,
        "day": row.day,
        "redemptions": {
            "confirmed": row.confirmed,
            "reserved": row.reserved,
            "released": row.released,
            "rolled_back": row.rolled_back,
        },
        "discount": money(row.discount, cur),
        "revenue": money(row.revenue, cur),
        "points_earned": row.points_earned,
        "points_burned": row.points_burned,
        "budget": {
            "total": _budget(row.budget_total, cur),
            "store": _budget(row.budget_store, cur),
            "day": _budget(row.budget_day, cur),
        },
    }


class AnalyticsView(APIView):
    required_scopes = {"GET": ["loyalty:read"]}
    # bad dates, campaign or store; a campaign not visible to the caller
    extra_error_statuses = {"GET": [400, 404]}

    @extend_schema(
        tags=TAG,
        operation_id="loyalty_analytics",
        summary="Campaign analytics and ERP feed",
        description=f"One row per campaign, store and local day (the program's zone) from `from` to `to` (both "
        f"included, at most {MAX_ANALYTICS_DAYS} days; default the last 30 days in UTC): redemptions per state, "
        "discount cost (confirmed and rolled-back redemptions, net of what returns took back), revenue of the "
        "baskets with the coupon, points those baskets earned and burned, and the campaign's budget counters "
        f"(used and left). At most {MAX_ANALYTICS_ROWS} rows (`truncated` says when more matched). The operator "
        "reads every campaign; a partner only the campaigns on its own products (another campaign asked for is "
        "404).",
        parameters=[
            OpenApiParameter(
                "campaign", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, description="One campaign's id."
            ),
            OpenApiParameter("store", code_schema(), description="One store's code."),
            OpenApiParameter("from", OpenApiTypes.DATE, description="First local day (YYYY-MM-DD)."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last local day, included."),
        ],
        responses=AnalyticsOutput,
        examples=[
            OpenApiExample(
                "One day at one store",
                response_only=True,
                value={
                    "date_from": "2026-12-01",
                    "date_to": "2026-12-07",
                    "truncated": False,
                    "results": [
                        {
                            "campaign_id": 7,
                            "store": "PAR01",
                            "day": "2026-12-05",
                            "redemptions": {"confirmed": 12, "reserved": 1, "released": 2, "rolled_back": 1},
                            "discount": {"amount": "118.00", "currency": "EUR"},
                            "revenue": {"amount": "1543.20", "currency": "EUR"},
                            "points_earned": 1425,
                            "points_burned": 300,
                            "budget": {
                                "total": {
                                    "used_count": 40,
                                    "limit_count": None,
                                    "left_count": None,
                                    "used_amount": {"amount": "400.00", "currency": "EUR"},
                                    "limit_amount": {"amount": "1000.00", "currency": "EUR"},
                                    "left_amount": {"amount": "600.00", "currency": "EUR"},
                                },
                                "store": None,
                                "day": None,
                            },
                        }
                    ],
                },
            )
        ],
    )
    def get(self, request: Request) -> Response:
        caller = caller_from_request(request)
        today = timezone.now().date()
        first, last = date_range_params(
            request, max_days=MAX_ANALYTICS_DAYS, default_from=today - dt.timedelta(days=29), default_days=29
        )
        campaign_id = id_param(request, "campaign")
        store = _store_param(request, caller, required=False)
        rows = campaign_analytics(
            caller=caller, first=first, last=last, campaign_id=campaign_id, store=store, limit=MAX_ANALYTICS_ROWS + 1
        )
        body = AnalyticsOutput(
            {
                "date_from": first,
                "date_to": last,
                "truncated": len(rows) > MAX_ANALYTICS_ROWS,
                "results": [analytics_row_body(row) for row in rows[:MAX_ANALYTICS_ROWS]],
            }
        ).data
        return Response(body)
