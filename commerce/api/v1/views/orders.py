"""Click-and-collect orders: placing, reading, cancelling, store fulfilment."""

import uuid
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce import selectors
from commerce.api.v1.serializers import (
    ORDER_SUMMARY_ROW,
    OrderCancelInput,
    OrderCreateInput,
    OrderOutput,
    OrderStatusInput,
    OrderSummaryOutput,
    order_summary_rows,
)
from commerce.api.v1.stores import DEPRECATION_HEADERS, resolve_store, store_parameter
from commerce.models import Order, OrderStatus
from commerce.services.lifecycle import Actor, order_transition
from commerce.services.orders import LineRequest, order_place
from gateway.api.etag import etag_for, not_modified
from gateway.api.idempotency import idempotent
from gateway.api.pagination import GatewayCursorPagination
from gateway.api.params import UPDATED_SINCE, choices_param, code_param, id_param, updated_since_param
from gateway.api.strict import validated_body
from loyalty.services.checkout import LoyaltyRequest
from partners.callers import Caller, caller_from_request

TAG = ["orders"]

_PLACE_DESCRIPTION = """In one transaction: books the slot (or consumes your hold), reserves stock for every
line at the slot's store, prices the lines from the catalogue, stores the order and writes `order.created`.
Any failure leaves nothing behind.

A shopper token orders for its signed-in customer; store and operator clients name the customer
(`customer_id`); a store client only at its own store.

Problems: `slot_full` (with `alternatives`: the same store-local day's open slots with room left, in
start order, each `id`, `starts_at`, `ends_at`, `remaining`, so the next choice needs no reload),
`slot_not_released` (with `release_at` and `Retry-After`), `slot_started`,
`store_closed`, `hold_expired`, `hold_not_active` (409); `insufficient_stock` (409, with `lines`:
sku, requested, available); `product_unavailable` (422, with `lines`), `mixed_currencies`,
`customer_required`, `customer_not_found` (422). The same `Idempotency-Key` replays the first answer.

**Loyalty** (optional `loyalty` object): the basket is priced with the program's live offers and the
codes entered, exactly as `POST /api/v1/loyalty/quote` prices it; in the same transaction, before the
slot and the stock, one unit of every budget counter concerned is taken (a budget is never overspent,
however many orders race) and the points paid are spent (the ones expiring first). Each line shows its
share of the discount; the order shows `subtotal`, `discount` and `total` (paid in money, after
points), and `loyalty` (coupons, points spent, points to earn). Collected confirms the coupons and earns
the points (pending until the return window ends); cancelled and no-show give the coupon units and the
points back. Problems: `coupon_not_applicable` (409, with `coupon_code`, `reason` and its details,
e.g. the amount missing), `coupon_used_up`, `budget_exhausted`, `insufficient_points` (409);
`loyalty.program`, `loyalty.card_number` (unknown or not the customer's card), `loyalty.points`
(`member_required`, `points_exceed_total`) as 422."""


class OrderCursorPagination(GatewayCursorPagination):
    # pk breaks ties of created_at (the transaction's start), so the rows
    # a cursor skips by offset are the same on every request.
    ordering = ("-created_at", "-pk")


def _order_etag(order: Order) -> str:
    return etag_for("order", order.public_id, order.version)


# One serializer instance renders every order: DRF builds a serializer's
# fields on first use, which costs more than rendering an order (measured
# about 2.5 ms of the order POST); rendering itself keeps no state.
_ORDER_OUTPUT = OrderOutput()


def _loyalty(values: dict[str, Any] | None) -> LoyaltyRequest | None:
    if values is None:
        return None
    return LoyaltyRequest(
        program=values.get("program"),
        card_number=values.get("card_number"),
        codes=tuple(values["codes"]),
        points=values["points"],
    )


def _order_response(order: Order, status: int = 200) -> Response:
    headers = {"ETag": _order_etag(order), "Location": f"/api/v1/orders/{order.public_id}"}
    return Response(_ORDER_OUTPUT.to_representation(order), status=status, headers=headers)


def _actor(caller: Caller) -> Actor:
    return Actor(client=caller.client, user_id=caller.user_id)


class OrderListCreateView(GenericAPIView[Order]):
    required_scopes = {"GET": ["orders:read"], "POST": ["orders:write"]}
    pagination_class = OrderCursorPagination
    serializer_class = OrderSummaryOutput
    extra_error_statuses = {"POST": [403, 404, 409, 428]}

    @extend_schema(
        tags=TAG,
        operation_id="orders_list",
        summary="Orders you may see, newest first",
        description="A shopper sees its own orders, a store client its store's, the operator all.",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, description="Comma-separated statuses."),
            store_parameter(OpenApiParameter.QUERY),
            OpenApiParameter("slot", OpenApiTypes.INT, description="Pickup slot id."),
            UPDATED_SINCE,
            *DEPRECATION_HEADERS,
        ],
        responses=OrderSummaryOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        store = code_param(request, "store")
        orders = selectors.orders_filter(
            selectors.orders_visible_to(caller=caller_from_request(request)),
            statuses=choices_param(request, "status", OrderStatus.values),
            store_id=resolve_store(self, store, source="query").id if store is not None else None,
            slot_id=id_param(request, "slot"),
            updated_since=updated_since_param(request),
        )
        page = self.paginate_queryset(orders.values(*ORDER_SUMMARY_ROW))
        assert page is not None  # the view paginates
        return self.get_paginated_response(order_summary_rows(page))

    @extend_schema(
        tags=TAG,
        operation_id="order_place",
        summary="Place a click-and-collect order",
        description=_PLACE_DESCRIPTION,
        request=OrderCreateInput,
        responses={201: OrderOutput},
        examples=[
            OpenApiExample(
                "Basket for a slot",
                value={"slot_id": 42, "lines": [{"product_id": 7, "quantity": 2}, {"product_id": 9, "quantity": 1}]},
                request_only=True,
            ),
            OpenApiExample(
                "With a coupon, the member's card and points",
                value={
                    "slot_id": 42,
                    "lines": [{"product_id": 7, "quantity": 10}],
                    "loyalty": {
                        "program": "demo",
                        "card_number": "2900000000018",
                        "codes": ["BIENVENUE10"],
                        "points": 200,
                    },
                },
                request_only=True,
            ),
            OpenApiExample(
                "From a hold",
                value={"hold_id": "0b6e5d1c-8f3e-4f8a-9a55-3c1f2b8d9e10", "lines": [{"product_id": 7, "quantity": 1}]},
                request_only=True,
            ),
        ],
    )
    @idempotent(required=True)
    def post(self, request: Request) -> Response:
        values = validated_body(OrderCreateInput, request.data)
        order = order_place(
            caller=caller_from_request(request),
            lines=[
                LineRequest(
                    product_id=line["product_id"],
                    quantity=line["quantity"],
                    recommendation_id=line.get("recommendation_id"),
                )
                for line in values["lines"]
            ],
            slot_id=values.get("slot_id"),
            hold_id=values.get("hold_id"),
            customer_id=values.get("customer_id"),
            idempotency_key=request.headers.get("Idempotency-Key", ""),
            loyalty=_loyalty(values.get("loyalty")),
        )
        return _order_response(order, status=201)


class OrderDetailView(APIView):
    required_scopes = ["orders:read"]

    @extend_schema(
        tags=TAG,
        operation_id="order_detail",
        summary="One order with its lines and status history",
        description="`If-None-Match` with the ETag answers 304 when nothing changed.",
        responses={200: OrderOutput, 304: None},
    )
    def get(self, request: Request, order_id: uuid.UUID) -> Response:
        order = selectors.order_get(caller=caller_from_request(request), order_id=order_id)
        if not_modified(request, _order_etag(order)):
            return Response(status=304, headers={"ETag": _order_etag(order)})
        return _order_response(order)


class OrderCancelView(APIView):
    required_scopes = ["orders:write"]
    extra_error_statuses = {"POST": [409]}

    @extend_schema(
        tags=TAG,
        operation_id="order_cancel",
        summary="Cancel an order (customer side, until the cut-off)",
        description="Allowed until the store's cut-off before the slot starts (120 minutes by default; "
        "409 `cancellation_cutoff_passed` after, with `cutoff_at`). Stock and the slot unit are given back. "
        "Cancelling a cancelled order changes nothing (200).",
        request=OrderCancelInput,
        responses=OrderOutput,
    )
    @idempotent(required=False)
    def post(self, request: Request, order_id: uuid.UUID) -> Response:
        data = validated_body(OrderCancelInput, request.data)
        caller = caller_from_request(request)
        order_transition(
            order_id=selectors.order_pk(caller=caller, order_id=order_id),
            to_status=OrderStatus.CANCELLED,
            actor=_actor(caller),
            reason=data.get("reason", ""),
            customer_cutoff=True,
        )
        return _order_response(selectors.order_get(caller=caller, order_id=order_id))


class OrderStatusView(APIView):
    required_scopes = ["orders:fulfil"]
    extra_error_statuses = {"POST": [409]}

    @extend_schema(
        tags=TAG,
        operation_id="order_status_change",
        summary="Move an order along (store staff, operator)",
        description="placed -> preparing -> ready -> collected; cancelled at any time before collected. "
        "Collected turns the stock reservations into sales; cancelled releases them and the slot unit. "
        "Asking for the status the order already has changes nothing (200); any other move answers 409 "
        "`order_transition_not_allowed` with the current `status`.",
        request=OrderStatusInput,
        responses=OrderOutput,
        examples=[OpenApiExample("Ready", value={"status": "ready"}, request_only=True)],
    )
    @idempotent(required=False)
    def post(self, request: Request, order_id: uuid.UUID) -> Response:
        data = validated_body(OrderStatusInput, request.data)
        caller = caller_from_request(request)
        order_transition(
            order_id=selectors.order_pk(caller=caller, order_id=order_id),
            to_status=data["status"],
            actor=_actor(caller),
            reason=data.get("reason", ""),
        )
        return _order_response(selectors.order_get(caller=caller, order_id=order_id))
