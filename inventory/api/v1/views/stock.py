"""Exact stock per location and per product, one level's absolute set
(compare-and-swap) and delta adjustments."""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gateway.api.etag import IF_NONE_MATCH, NOT_MODIFIED, check_if_match, etag_for, with_etag
from gateway.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from gateway.api.idempotency import idempotent
from gateway.api.params import UPDATED_SINCE, updated_since_param
from gateway.api.problems import PreconditionRequired
from gateway.api.strict import validated_body
from inventory import services
from inventory.api.v1.serializers import StockAdjustInput, StockLevelOutput, StockSetInput
from inventory.models import Location, Product, StockLevel
from inventory.selectors.stock import stock_level_get, stock_levels_at, stock_levels_of_product, stock_target_get
from partners.callers import caller_from_request

TAG = ["stock"]
_WHERE = (
    "The operator reads every location; a partner its own locations; a store client its own store. "
    "Anything else answers 404 (shoppers ask /availability)."
)


class LocationStockListView(GenericAPIView[StockLevel]):
    required_scopes = ["inventory:read"]
    serializer_class = StockLevelOutput

    def get_queryset(self) -> QuerySet[StockLevel]:
        return stock_levels_at(
            caller=caller_from_request(self.request),
            code=self.kwargs["code"],
            updated_since=updated_since_param(self.request),
        )

    @extend_schema(
        tags=TAG,
        operation_id="stock_at_location",
        summary="Stock levels at a location",
        description=_WHERE,
        parameters=[UPDATED_SINCE],
        responses=StockLevelOutput(many=True),
    )
    def get(self, request: Request, code: str) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(StockLevelOutput(page, many=True).data)


class ProductStockListView(GenericAPIView[StockLevel]):
    required_scopes = ["inventory:read"]
    serializer_class = StockLevelOutput

    def get_queryset(self) -> QuerySet[StockLevel]:
        return stock_levels_of_product(
            caller=caller_from_request(self.request),
            product_id=self.kwargs["product_id"],
            updated_since=updated_since_param(self.request),
        )

    @extend_schema(
        tags=TAG,
        operation_id="stock_of_product",
        summary="Stock levels of a product",
        description="The product's levels at the locations whose stock the caller reads. " + _WHERE,
        parameters=[UPDATED_SINCE],
        responses=StockLevelOutput(many=True),
    )
    def get(self, request: Request, product_id: int) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(StockLevelOutput(page, many=True).data)


def _level_answer(request: Request, location: Location, product: Product) -> Response:
    level = StockLevel.objects.select_related("product", "location").get(location=location, product=product)
    return with_etag(request, "stock", level.pk, level.version, StockLevelOutput(level).data)


class StockLevelView(APIView):
    required_scopes = {"GET": ["inventory:read"], "PUT": ["inventory:write"]}
    extra_error_statuses = {"PUT": [409, 412, 428]}

    @extend_schema(
        tags=TAG,
        operation_id="stock_level_detail",
        summary="One stock level",
        description=_WHERE,
        parameters=[IF_NONE_MATCH],
        responses={200: StockLevelOutput, **NOT_MODIFIED},
    )
    def get(self, request: Request, code: str, sku: str) -> Response:
        level = stock_level_get(caller=caller_from_request(request), code=code, sku=sku)
        return with_etag(request, "stock", level.pk, level.version, StockLevelOutput(level).data)

    @extend_schema(
        tags=TAG,
        operation_id="stock_level_set",
        summary="Set on hand (compare-and-swap)",
        description="Absolute set of on hand. Send If-Match with the level's ETag, or `expected_on_hand` (the "
        "figure you replace; 0 for a level not held yet), or both: 412 when either no longer holds, 428 with "
        "neither. A set below the reserved quantity is refused (409 `below_reserved`). "
        "Sets equal to the current figure change nothing (no movement, no event).",
        parameters=[
            OpenApiParameter(
                "If-Match", str, OpenApiParameter.HEADER, description="The ETag you read (or send expected_on_hand)."
            )
        ],
        request=StockSetInput,
        responses={200: StockLevelOutput},
        examples=[OpenApiExample("Count", value={"on_hand": 42, "expected_on_hand": 40}, request_only=True)],
    )
    def put(self, request: Request, code: str, sku: str) -> Response:
        location, product = stock_target_get(caller=caller_from_request(request), code=code, sku=sku)
        data = validated_body(StockSetInput, request.data)
        expected_version = self._if_match_version(request, location, product)
        expected_on_hand = data.get("expected_on_hand")
        if expected_version is None and expected_on_hand is None:
            raise PreconditionRequired()
        services.stock_set(
            location=location,
            product=product,
            on_hand=data["on_hand"],
            expected_on_hand=expected_on_hand,
            expected_version=expected_version,
            actor_id=caller_from_request(request).client.pk,
            reference=data.get("reference", ""),
        )
        return _level_answer(request, location, product)

    @staticmethod
    def _if_match_version(request: Request, location: Location, product: Product) -> int | None:
        """The version If-Match names (checked against the current level; the
        service then swaps only if that version still holds)."""
        if request.headers.get("If-Match") is None:
            return None
        current = StockLevel.objects.filter(location=location, product=product).values_list("pk", "version").first()
        check_if_match(request, etag_for("stock", *current) if current else '"none"')
        return current[1] if current else None


class StockAdjustmentView(APIView):
    required_scopes = ["inventory:write"]
    extra_error_statuses = {"POST": [409, 428]}

    @extend_schema(
        tags=TAG,
        operation_id="stock_level_adjust",
        summary="Adjust on hand by a delta",
        description=f"Requires `{IDEMPOTENCY_HEADER}`. On hand moves by `delta` in one guarded statement and "
        "never below what orders reserved (409 `insufficient_stock`). " + _WHERE,
        request=StockAdjustInput,
        responses={200: StockLevelOutput},
        examples=[OpenApiExample("Till sale", value={"delta": -2, "reason": "sale"}, request_only=True)],
    )
    @idempotent(required=True)
    def post(self, request: Request, code: str, sku: str) -> Response:
        caller = caller_from_request(request)
        location, product = stock_target_get(caller=caller, code=code, sku=sku)
        data = validated_body(StockAdjustInput, request.data)
        services.stock_adjust(
            location=location,
            product=product,
            delta=data["delta"],
            reason=data["reason"],
            actor_id=caller.client.pk,
            reference=data.get("reference", ""),
            idempotency_key=request.headers.get(IDEMPOTENCY_HEADER, ""),
        )
        return _level_answer(request, location, product)
