"""Pickup slots (shoppers browse them, staff adjust them) and slot holds."""

import datetime as dt
import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce import selectors
from commerce.api.v1.readcache import SlotStore, slots_read
from commerce.api.v1.serializers import (
    PICKUP_SLOT_ROW,
    OrderQueueOutput,
    PickupSlotOutput,
    PickupSlotStaffOutput,
    PickupSlotUpdateInput,
    SlotHoldCreateInput,
    SlotHoldOutput,
    pickup_slot_rows,
)
from commerce.api.v1.stores import DEPRECATION_HEADERS, resolve_store, store_parameter
from commerce.models import DEFAULT_DAYS_AHEAD, Order, OrderStatus, PickupSlot
from commerce.services.schedules import pickup_slot_update
from commerce.services.slots import slot_hold_create, slot_hold_release
from gateway.api.etag import IF_NONE_MATCH, NOT_MODIFIED, check_if_match, etag_for
from gateway.api.idempotency import idempotent
from gateway.api.pagination import GatewayCursorPagination
from gateway.api.params import (
    UPDATED_SINCE,
    bool_param,
    choices_param,
    code_param,
    date_range_params,
    updated_since_param,
)
from gateway.api.readcache import REVALIDATE, cached_read, conditional
from gateway.api.strict import validated_body
from inventory.local_time import zone
from partners.callers import caller_from_request

SLOTS = ["pickup slots"]
HOLDS = ["pickup slots"]
MAX_RANGE_DAYS = 31


class SlotCursorPagination(GatewayCursorPagination):
    ordering = "starts_at"


class QueueCursorPagination(GatewayCursorPagination):
    # pk breaks ties of created_at (the transaction's start), so the rows
    # a cursor skips by offset are the same on every request.
    ordering = ("created_at", "pk")


def _slot_etag(slot: PickupSlot) -> str:
    return etag_for("pickup-slot", slot.pk, slot.version)


class PickupSlotListView(GenericAPIView[PickupSlot]):
    required_scopes = ["orders:read"]
    pagination_class = SlotCursorPagination
    serializer_class = PickupSlotOutput
    extra_error_statuses = {"GET": [404]}

    @extend_schema(
        tags=SLOTS,
        operation_id="pickup_slots_list",
        summary="Open pickup slots of a store, with remaining capacity",
        description="Only released, open, future slots. Dates are store-local; `from` defaults to the store's "
        "today, `to` to the last released day; at most 31 days. `remaining` already ignores expired holds.\n\n"
        "Conditional: the answer carries an `ETag` and `Cache-Control: private, no-cache`; send the ETag back in "
        "`If-None-Match` and a 304 without a body says the slots have not changed. A booking, a hold, a "
        "cancellation or a capacity change makes the ETag of that day change at once on every server.",
        parameters=[
            store_parameter(OpenApiParameter.QUERY, required=True),
            OpenApiParameter("from", OpenApiTypes.DATE, description="First store-local date (YYYY-MM-DD)."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last store-local date (YYYY-MM-DD)."),
            OpenApiParameter("available", OpenApiTypes.BOOL, description="true: only slots with remaining > 0."),
            UPDATED_SINCE,
            IF_NONE_MATCH,
            *DEPRECATION_HEADERS,
        ],
        responses={200: PickupSlotOutput(many=True), **NOT_MODIFIED},
    )
    @conditional(REVALIDATE)
    def get(self, request: Request) -> Response:
        code = code_param(request, "store", required=True)
        assert code is not None  # required
        cached = slots_read(
            request,
            caller_from_request(request),
            code,
            resolve=lambda: self._store(code),
            max_days=MAX_RANGE_DAYS,
            default_days=DEFAULT_DAYS_AHEAD,
        )
        if cached is None:
            return self._list(request, self._store(code))
        read, store = cached
        return cached_read(request, read, lambda: self._list(request, store()))

    def _store(self, code: str) -> SlotStore:
        ref = resolve_store(self, code, source="query")
        store = selectors.click_and_collect_store(store_id=ref.id, location=ref.location)
        return SlotStore(store.pk, store.code, store.time_zone)

    def _list(self, request: Request, store: SlotStore) -> Response:
        today = dt.datetime.now(dt.UTC).astimezone(zone(store.time_zone)).date()
        date_from, date_to = date_range_params(
            request, max_days=MAX_RANGE_DAYS, default_from=today, default_days=DEFAULT_DAYS_AHEAD
        )
        updated_since = updated_since_param(request)
        slots = selectors.pickup_slots_open(
            store_id=store.id,
            date_from=date_from,
            date_to=date_to,
            only_available=bool_param(request, "available", default=False),
        )
        if updated_since is not None:
            slots = slots.filter(updated_at__gte=updated_since)
        page = self.paginate_queryset(slots.values(*PICKUP_SLOT_ROW))
        assert page is not None  # the view paginates
        return self.get_paginated_response(pickup_slot_rows(page, store_code=store.code, time_zone=store.time_zone))


class PickupSlotDetailView(APIView):
    required_scopes = {"GET": ["orders:read"], "PATCH": ["inventory:write"]}
    extra_error_statuses = {"PATCH": [409, 412, 428]}

    @extend_schema(
        tags=SLOTS,
        operation_id="pickup_slot_detail",
        summary="One released pickup slot",
        description="The `ETag` header is what a PATCH of the slot sends in `If-Match`.",
        responses=PickupSlotOutput,
    )
    def get(self, request: Request, slot_id: int) -> Response:
        slot = selectors.pickup_slot_open(slot_id=slot_id)
        return Response(PickupSlotOutput(slot).data, headers={"ETag": _slot_etag(slot)})

    @extend_schema(
        tags=SLOTS,
        operation_id="pickup_slot_update",
        summary="Change a slot's capacity, close or reopen it (store staff, operator)",
        description="Needs `If-Match` with the slot's ETag (read it from a previous PATCH or the order queue's "
        "slot). Capacity never goes below booked + held (409 `capacity_below_bookings`). A closed slot takes no "
        "new orders or holds; existing orders stay.",
        parameters=[OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)],
        request=PickupSlotUpdateInput,
        responses=PickupSlotStaffOutput,
    )
    def patch(self, request: Request, slot_id: int) -> Response:
        slot = selectors.slot_for_staff(caller=caller_from_request(request), slot_id=slot_id)
        check_if_match(request, _slot_etag(slot))
        data = validated_body(PickupSlotUpdateInput, request.data)
        slot = pickup_slot_update(
            slot=slot,
            capacity=data.get("capacity"),
            closed=data.get("closed"),
            expected_version=slot.version,
        )
        return Response(PickupSlotStaffOutput(slot).data, headers={"ETag": _slot_etag(slot)})


_STATUSES = "|".join(OrderStatus.values)


class SlotOrderQueueView(GenericAPIView[Order]):
    required_scopes = ["orders:fulfil"]
    pagination_class = QueueCursorPagination
    serializer_class = OrderQueueOutput

    @extend_schema(
        tags=SLOTS,
        operation_id="pickup_slot_orders",
        summary="A slot's order queue, to prepare (store staff, operator)",
        description="The orders of one slot of your store with their lines and customers, oldest first. "
        "Response headers carry the slot's ETag for a following PATCH of the slot.",
        parameters=[
            OpenApiParameter(
                "status",
                {
                    "type": "string",
                    "pattern": "^(" + "|".join(OrderStatus.values) + ")(,(" + "|".join(OrderStatus.values) + "))*$",
                },
                description="Comma-separated statuses to keep, e.g. `placed,preparing`.",
            ),
            UPDATED_SINCE,
        ],
        responses=OrderQueueOutput(many=True),
    )
    def get(self, request: Request, slot_id: int) -> Response:
        statuses = choices_param(request, "status", OrderStatus.values)
        updated_since = updated_since_param(request)
        caller = caller_from_request(request)
        slot = selectors.slot_for_staff(caller=caller, slot_id=slot_id)
        orders = selectors.slot_order_queue(slot=slot, statuses=statuses)
        if updated_since is not None:
            orders = orders.filter(updated_at__gte=updated_since)
        page = self.paginate_queryset(orders)
        response = self.get_paginated_response(OrderQueueOutput(page, many=True).data)
        response["ETag"] = _slot_etag(slot)
        return response


class SlotHoldCreateView(APIView):
    required_scopes = ["orders:write"]
    extra_error_statuses = {"POST": [404, 409]}

    @extend_schema(
        tags=HOLDS,
        operation_id="pickup_hold_create",
        summary="Hold one unit of a slot while the customer checks out",
        description="The unit is yours until `expires_at` (the store's hold time, 10 minutes by default); "
        "place the order with `hold_id` before then. A shopper holds one slot at a time: a new hold gives the "
        "previous one back. Problems: `slot_full` (with `alternatives`: the same day's open slots with room "
        "left, in start order, each `id`, `starts_at`, `ends_at`, `remaining`), `slot_not_released` (with "
        "`release_at` and `Retry-After`), "
        "`slot_started`, `store_closed`.",
        request=SlotHoldCreateInput,
        responses={201: SlotHoldOutput},
        examples=[OpenApiExample("Hold", value={"slot_id": 42}, request_only=True)],
    )
    @idempotent(required=False)
    def post(self, request: Request) -> Response:
        data = validated_body(SlotHoldCreateInput, request.data)
        hold = slot_hold_create(slot_id=data["slot_id"], caller=caller_from_request(request))
        return Response(SlotHoldOutput(hold).data, status=201)


class SlotHoldDetailView(APIView):
    required_scopes = ["orders:write"]

    @extend_schema(
        tags=HOLDS,
        operation_id="pickup_hold_release",
        summary="Give a hold back",
        description="Idempotent: releasing a hold that already ended changes nothing.",
        responses={204: None},
    )
    def delete(self, request: Request, hold_id: uuid.UUID) -> Response:
        slot_hold_release(hold_id=hold_id, caller=caller_from_request(request))
        return Response(status=204)
