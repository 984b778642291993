"""Loyalty endpoints (thin: validate, call one service or selector, shape).

``loyalty:manage`` (the operator): programs, campaigns, codes, members.
``loyalty:read``: a shopper's own member, balance, history and coupons.
``loyalty:redeem`` (stores, tills and shopper apps): quotes."""

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gateway.api.idempotency import idempotent
from gateway.api.pagination import MAX_CURSOR_LENGTH
from gateway.api.params import (
    CONTROL_CHARACTERS,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    UPDATED_SINCE,
    choice_param,
    code_param,
    code_schema,
    page_size_param,
    updated_since_param,
)
from gateway.api.problems import FieldInvalid, InvalidQueryParameter
from gateway.api.strict import validated_body
from inventory.selectors.locations import locations_visible_to
from loyalty import selectors
from loyalty.api.v1 import serializers as s
from loyalty.models import Campaign, CampaignState, Member, PointsMovement, Program
from loyalty.selectors.quotes import BasketLineInput, quote_for
from loyalty.services import catalog
from partners.callers import caller_from_request

TAG = ["loyalty"]
_STATES = tuple(CampaignState.values)
PROGRAM_PARAM = OpenApiParameter("program", code_schema(), description="A program's code.")


def _stores(caller: Any, codes: list[str], field: str) -> list[Any]:
    found = {loc.code: loc for loc in locations_visible_to(caller=caller).filter(code__in=codes, kind="store")}
    missing = [code for code in codes if code not in found]
    if missing:
        raise FieldInvalid(field, f"Unknown store: {missing[0]}", code="unknown_store")
    return [found[code] for code in dict.fromkeys(codes)]


class ProgramListView(GenericAPIView[Program]):
    required_scopes = {"GET": ["loyalty:manage"], "POST": ["loyalty:manage"]}
    serializer_class = s.ProgramOutput
    extra_error_statuses = {"POST": [409]}

    def get_queryset(self) -> QuerySet[Program]:
        caller = caller_from_request(self.request)
        selectors.ensure_operator(caller=caller)
        return selectors.programs_visible_to(caller=caller, updated_since=updated_since_param(self.request))

    @extend_schema(
        tags=TAG,
        operation_id="loyalty_programs_list",
        summary="List loyalty programs",
        parameters=[UPDATED_SINCE],
        responses=s.ProgramOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.ProgramOutput(page, many=True).data)

    @extend_schema(
        tags=TAG,
        operation_id="loyalty_programs_create",
        summary="Create a loyalty program",
        description="Currency, IANA zone (every date rule is local to it), earn and burn rates, the return "
        "window (points stay pending through it), month-end expiry and the return policy.",
        request=s.ProgramCreateInput,
        responses={201: s.ProgramOutput},
        examples=[
            OpenApiExample(
                "Grocer",
                request_only=True,
                value={
                    "code": "club",
                    "name": "Club fidélité",
                    "currency": "EUR",
                    "time_zone": "Europe/Paris",
                    "earn_rate": "1",
                    "pending_days": 14,
                    "expiry_months": 12,
                    "burn_rate": "0.01",
                    "return_policy": "within_balance",
                },
            )
        ],
    )
    @idempotent(required=False)
    def post(self, request: Request) -> Response:
        selectors.ensure_operator(caller=caller_from_request(request))
        data = validated_body(s.ProgramCreateInput, request.data)
        program = catalog.program_create(fields=dict(data))
        return Response(
            s.ProgramOutput(program).data, status=201, headers={"Location": f"/api/v1/loyalty/programs/{program.code}"}
        )


class CampaignListView(GenericAPIView[Campaign]):
    required_scopes = {"GET": ["loyalty:manage"], "POST": ["loyalty:manage"]}
    serializer_class = s.CampaignOutput

    def get_queryset(self) -> QuerySet[Campaign]:
        request = self.request
        return selectors.campaigns_of(
            caller=caller_from_request(request),
            program=code_param(request, "program"),
            state=choice_param(request, "state", _STATES),
            updated_since=updated_since_param(request),
        )

    @extend_schema(
        tags=TAG,
        operation_id="loyalty_campaigns_list",
        summary="List campaigns",
        parameters=[PROGRAM_PARAM, OpenApiParameter("state", OpenApiTypes.STR, enum=list(_STATES)), UPDATED_SINCE],
        responses=s.CampaignOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.CampaignOutput(page, many=True).data)

    @extend_schema(
        tags=TAG,
        operation_id="loyalty_campaigns_create",
        summary="Create a campaign (draft)",
        description="Validity (instants, weekdays and daily hours in the program's zone, stores), audience, "
        "rule (minimum basket before discounts, eligible SKUs, categories), one benefit, stacking "
        "(exclusive, or combinable with named classes; higher priority first, then older first) and "
        "budgets (count and/or money; in total, per member, per store, per local day), each a counter "
        "never exceeded. Created as a draft: activate it with POST .../state.",
        request=s.CampaignCreateInput,
        responses={201: s.CampaignOutput},
        examples=[
            OpenApiExample(
                "10 EUR off 100 EUR",
                request_only=True,
                value={
                    "program": "demo",
                    "name_fr": "10 € offerts dès 100 € d'achat",
                    "name_en": "10 EUR off 100 EUR or more",
                    "starts_at": "2026-12-01T00:00:00Z",
                    "ends_at": "2027-01-31T23:00:00Z",
                    "min_basket_amount": "100.00",
                    "benefit": "amount_off_basket",
                    "benefit_amount": "10.00",
                    "budgets": [
                        {"scope": "total", "limit_amount": "10000.00"},
                        {"scope": "member", "limit_count": 1},
                    ],
                },
            )
        ],
    )
    @idempotent(required=False)
    def post(self, request: Request) -> Response:
        caller = caller_from_request(request)
        selectors.ensure_operator(caller=caller)
        data = validated_body(s.CampaignCreateInput, request.data)
        fields = dict(data)
        program = _program_field(caller, fields.pop("program"))
        stores = _stores(caller, fields.pop("stores", []), "stores")
        audience_stores = _stores(caller, fields.pop("audience_stores", []), "audience_stores")
        budgets = [dict(b) for b in fields.pop("budgets", [])]
        campaign = catalog.campaign_create(
            program=program, fields=fields, budgets=budgets, stores=stores, audience_stores=audience_stores
        )
        campaign = selectors.campaign_get(caller=caller, campaign_id=campaign.pk)
        return Response(
            s.CampaignOutput(campaign).data,
            status=201,
            headers={"Location": f"/api/v1/loyalty/campaigns/{campaign.pk}"},
        )


def _program_field(caller: Any, code: str) -> Program:
    program = selectors.programs_visible_to(caller=caller).filter(code=code).first()
    if program is None:
        raise FieldInvalid("program", "No such program.", code="unknown_program")
    return program


class CampaignDetailView(APIView):
    required_scopes = {"GET": ["loyalty:manage"]}

    @extend_schema(
        tags=TAG, operation_id="loyalty_campaigns_detail", summary="One campaign", responses=s.CampaignOutput
    )
    def get(self, request: Request, campaign_id: int) -> Response:
        campaign = selectors.campaign_get(caller=caller_from_request(request), campaign_id=campaign_id)
        return Response(s.CampaignOutput(campaign).data)


class CampaignStateView(APIView):
    required_scopes = {"POST": ["loyalty:manage"]}
    extra_error_statuses = {"POST": [409]}

    @extend_schema(
        tags=TAG,
        operation_id="loyalty_campaigns_state",
        summary="Activate, pause or end a campaign",
        description="draft -> active <-> paused -> ended (409 `campaign_state_conflict` otherwise); "
        "a campaign past its end cannot be activated.",
        request=s.CampaignStateInput,
        responses={200: s.CampaignOutput},
        examples=[OpenApiExample("Activate", request_only=True, value={"state": "active"})],
    )
    @idempotent(required=False)
    def post(self, request: Request, campaign_id: int) -> Response:
        caller = caller_from_request(request)
        campaign = selectors.campaign_get(caller=caller, campaign_id=campaign_id)
        data = validated_body(s.CampaignStateInput, request.data)
        catalog.campaign_set_state(campaign=campaign, state=data["state"])
        return Response(s.CampaignOutput(selectors.campaign_get(caller=caller, campaign_id=campaign_id)).data)


class PublicCodeView(APIView):
    required_scopes = {"POST": ["loyalty:manage"]}
    extra_error_statuses = {"POST": [409]}

    @extend_schema(
        tags=TAG,
        operation_id="loyalty_codes_create",
        summary="Create a public code",
        description="A code any shopper may enter, bounded only by the campaign's budgets. Codes are "
        "unique across programs and stored upper-case (409 `coupon_code_taken`).",
        request=s.PublicCodeInput,
        responses={201: s.CouponCodeOutput},
        examples=[OpenApiExample("Public code", request_only=True, value={"code": "NOEL10"})],
    )
    @idempotent(required=False)
    def post(self, request: Request, campaign_id: int) -> Response:
        campaign = selectors.campaign_get(caller=caller_from_request(request), campaign_id=campaign_id)
        data = validated_body(s.PublicCodeInput, request.data)
        code = catalog.public_code_create(campaign=campaign, code=data["code"])
        return Response(s.CouponCodeOutput(code).data, status=201)


class CodeJobCreateView(APIView):
    required_scopes = {"POST": ["loyalty:manage"]}

    @extend_schema(
        tags=TAG,
        operation_id="loyalty_code_jobs_create",
        summary="Generate unique codes in bulk",
        description="Queues a job generating up to 1,000,000 unique codes `<prefix><random><check>` (the check "
        "character is Luhn mod N over the charset), each with its own usage limit. Read its progress at "
        "`/api/v1/loyalty/code-jobs/{id}`.",
        request=s.CodeJobInput,
        responses={202: s.CodeJobOutput},
        examples=[
            OpenApiExample(
                "Ten thousand single-use codes",
                request_only=True,
                value={"requested": 10000, "prefix": "XMAS-", "random_length": 8, "usage_limit": 1},
            )
        ],
    )
    @idempotent(required=False)
    def post(self, request: Request, campaign_id: int) -> Response:
        campaign = selectors.campaign_get(caller=caller_from_request(request), campaign_id=campaign_id)
        data = validated_body(s.CodeJobInput, request.data)
        job = catalog.code_job_create(campaign=campaign, fields=dict(data))
        return Response(
            s.CodeJobOutput(job).data, status=202, headers={"Location": f"/api/v1/loyalty/code-jobs/{job.pk}"}
        )


class CodeJobDetailView(APIView):
    required_scopes = {"GET": ["loyalty:manage"]}

    @extend_schema(
        tags=TAG,
        operation_id="loyalty_code_jobs_detail",
        summary="A code generation job's progress",
        responses=s.CodeJobOutput,
    )
    def get(self, request: Request, job_id: int) -> Response:
        return Response(
            s.CodeJobOutput(selectors.code_job_get(caller=caller_from_request(request), job_id=job_id)).data
        )


class MemberListView(GenericAPIView[Member]):
    required_scopes = {"GET": ["loyalty:manage"], "POST": ["loyalty:manage"]}
    serializer_class = s.MemberOutput
    extra_error_statuses = {"POST": [409]}

    def get_queryset(self) -> QuerySet[Member]:
        return selectors.members_of(
            caller=caller_from_request(self.request),
            program=code_param(self.request, "program"),
            updated_since=updated_since_param(self.request),
        )

    @extend_schema(
        tags=TAG,
        operation_id="loyalty_members_list",
        summary="List members",
        parameters=[PROGRAM_PARAM, UPDATED_SINCE],
        responses=s.MemberOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.MemberOutput(page, many=True).data)

    @extend_schema(
        tags=TAG,
        operation_id="loyalty_members_create",
        summary="Enrol a member",
        description="A card number (EAN-13, check digit verified) is issued when none is given.",
        request=s.MemberCreateInput,
        responses={201: s.MemberOutput},
        examples=[
            OpenApiExample(
                "Member with a card",
                request_only=True,
                value={"program": "demo", "card_number": "2900000000032", "home_store": "PAR01"},
            )
        ],
    )
    @idempotent(required=False)
    def post(self, request: Request) -> Response:
        caller = caller_from_request(request)
        selectors.ensure_operator(caller=caller)
        fields = validated_body(s.MemberCreateInput, request.data)
        home = fields.get("home_store")
        member = catalog.member_create(
            program=_program_field(caller, fields["program"]),
            user_id=_user_field(fields.get("user_id")),
            card_number=fields.get("card_number"),
            home_store=_stores(caller, [home], "home_store")[0] if home else None,
            consent_targeted_offers=fields["consent_targeted_offers"],
        )
        return Response(s.MemberOutput(member).data, status=201)


def _user_field(user_id: int | None) -> int | None:
    from django.contrib.auth import get_user_model

    if user_id is not None and not get_user_model().objects.filter(pk=user_id).exists():
        raise FieldInvalid("user_id", "No such user.", code="unknown_user")
    return user_id


class MemberDetailView(APIView):
    required_scopes = {"GET": ["loyalty:read"]}

    @extend_schema(
        tags=TAG,
        operation_id="loyalty_members_detail",
        summary="A member by card number",
        description="The operator reads any member, a store the member whose card is presented, a shopper only "
        "their own (404 otherwise).",
        responses=s.MemberOutput,
    )
    def get(self, request: Request, card_number: str) -> Response:
        return Response(
            s.MemberOutput(selectors.member_get(caller=caller_from_request(request), card_number=card_number)).data
        )


class MeView(APIView):
    required_scopes = {"GET": ["loyalty:read"]}
    # a bad program parameter; not a member (of that program)
    extra_error_statuses = {"GET": [400, 404]}

    @extend_schema(
        tags=TAG,
        operation_id="loyalty_me",
        summary="The signed-in shopper's member and balance",
        parameters=[PROGRAM_PARAM],
        responses=s.MemberOutput,
    )
    def get(self, request: Request) -> Response:
        member = selectors.own_member(caller=caller_from_request(request), program=code_param(request, "program"))
        return Response(s.MemberOutput(member).data)


class MeMovementsView(GenericAPIView[PointsMovement]):
    required_scopes = {"GET": ["loyalty:read"]}
    # a bad program parameter; not a member (of that program)
    extra_error_statuses = {"GET": [400, 404]}
    serializer_class = s.PointsMovementOutput

    def get_queryset(self) -> QuerySet[PointsMovement]:
        member = selectors.own_member(
            caller=caller_from_request(self.request), program=code_param(self.request, "program")
        )
        return selectors.member_movements(member=member)

    @extend_schema(
        tags=TAG,
        operation_id="loyalty_me_movements",
        summary="The signed-in shopper's points history",
        parameters=[PROGRAM_PARAM],
        responses=s.PointsMovementOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        # A malformed page size or cursor is a 400 whoever calls, before the
        # caller is asked to be a member (as on every other list).
        page_size_param(request, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)
        cursor = request.query_params.get("cursor", "")
        if len(cursor) > MAX_CURSOR_LENGTH or CONTROL_CHARACTERS.search(cursor):
            raise InvalidQueryParameter("cursor", _("The cursor is invalid; use the next or previous link as given."))
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.PointsMovementOutput(page, many=True).data)


class MeCouponsView(APIView):
    required_scopes = {"GET": ["loyalty:read"]}
    # a bad program parameter; not a member (of that program)
    extra_error_statuses = {"GET": [400, 404]}

    @extend_schema(
        tags=TAG,
        operation_id="loyalty_me_coupons",
        summary="Codes assigned to the signed-in shopper",
        parameters=[PROGRAM_PARAM],
        responses=s.CouponCodeOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        member = selectors.own_member(caller=caller_from_request(request), program=code_param(request, "program"))
        return Response(s.CouponCodeOutput(selectors.member_coupons(member=member)[:200], many=True).data)


class QuoteView(APIView):
    required_scopes = {"POST": ["loyalty:redeem"]}

    @extend_schema(
        tags=TAG,
        operation_id="loyalty_quote",
        summary="Quote a basket (writes nothing)",
        description="Discounts per line and per basket, the points the basket would earn, and for every code "
        "that does not apply the reason (`unknown_code`, `expired`, `not_yet_valid`, `minimum_not_met` with "
        "the missing amount, `budget_used_up`, `not_for_member`, `member_required`, `not_combinable` with the "
        "other code, `not_valid_at_store`, `not_valid_at_this_time`, ...). Prices come from the catalogue. "
        "A shopper app quotes for its signed-in member; a store for its own store.",
        request=s.QuoteInput,
        responses={200: s.QuoteOutput},
        examples=[
            OpenApiExample(
                "A basket with a code",
                request_only=True,
                value={
                    "program": "demo",
                    "store": "PAR01",
                    "card_number": "2900000000018",
                    "codes": ["BIENVENUE10"],
                    "lines": [{"product_id": 1, "quantity": 3}],
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        caller = caller_from_request(request)
        fields = validated_body(s.QuoteInput, request.data)
        result = quote_for(
            caller=caller,
            program=_program_field(caller, fields["program"]),
            store_code=fields.get("store"),
            card_number=fields.get("card_number"),
            codes=fields["codes"],
            lines=[BasketLineInput(line["product_id"], line["quantity"]) for line in fields["lines"]],
            at=fields.get("at") or timezone.now(),
        )
        return Response(s.quote_body(result))
