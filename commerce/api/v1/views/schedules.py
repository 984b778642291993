"""Slot schedules: the weekly template and the exceptions of a store (its
own store client, or the operator)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce import selectors
from commerce.api.v1.serializers import (
    PickupScheduleInput,
    PickupScheduleOutput,
    SlotExceptionInput,
    SlotExceptionOutput,
)
from commerce.api.v1.stores import DEPRECATION_HEADERS, resolve_store, store_parameter
from commerce.errors import ObjectNotFound
from commerce.models import SlotSchedule
from commerce.services.schedules import (
    ScheduleSettings,
    WindowSpec,
    slot_exception_delete,
    slot_exception_set,
    slot_schedule_set,
)
from gateway.api.etag import check_if_match, etag_for, not_modified
from gateway.api.idempotency import idempotent
from gateway.api.strict import validated_body
from partners.callers import caller_from_request

TAG = ["pickup schedules"]
STORE_PARAMETERS = [store_parameter(OpenApiParameter.PATH), *DEPRECATION_HEADERS]


def _schedule_etag(schedule: SlotSchedule) -> str:
    return etag_for("pickup-schedule", schedule.store_id, schedule.version)


class PickupScheduleView(APIView):
    required_scopes = {"GET": ["inventory:read"], "PUT": ["inventory:write"]}
    extra_error_statuses = {"PUT": [404, 412, 428]}

    @extend_schema(
        tags=TAG,
        operation_id="pickup_schedule_detail",
        summary="A store's slot schedule: settings, weekly windows, exceptions",
        parameters=STORE_PARAMETERS,
        responses={200: PickupScheduleOutput, 304: None},
    )
    def get(self, request: Request, store: str) -> Response:
        store_id = resolve_store(self, store, source="path").id
        schedule = selectors.schedule_for_staff(caller=caller_from_request(request), store_id=store_id)
        etag = _schedule_etag(schedule)
        if not_modified(request, etag):
            return Response(status=304, headers={"ETag": etag})
        return Response(PickupScheduleOutput(schedule).data, headers={"ETag": etag})

    @extend_schema(
        tags=TAG,
        operation_id="pickup_schedule_set",
        summary="Create or replace a store's slot schedule",
        description="Replaces the settings and every weekly window. Replacing needs `If-Match` with the ETag "
        "you read (428 without, 412 when it changed); creating needs none. Slots already created keep their "
        "times and capacities: the schedule shapes the days released from now on. Each window gives slots of "
        "`slot_minutes` from `opens` to `closes`, laid out in real time in the store's time zone (an hour fewer "
        "on the spring DST day, an hour more on the autumn one when the window spans 02:00-03:00).",
        parameters=[OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER), *STORE_PARAMETERS],
        request=PickupScheduleInput,
        responses={200: PickupScheduleOutput},
        examples=[
            OpenApiExample(
                "Drive, Monday to Saturday",
                value={
                    "days_ahead": 7,
                    "release_time": "00:00",
                    "windows": [
                        {"weekday": d, "opens": "08:00", "closes": "20:00", "slot_minutes": 30, "capacity": 12}
                        for d in range(1, 7)
                    ],
                },
                request_only=True,
            )
        ],
    )
    def put(self, request: Request, store: str) -> Response:
        caller = caller_from_request(request)
        store_id = resolve_store(self, store, source="path").id
        location = selectors.store_for_staff(caller=caller, store_id=store_id)
        existing = SlotSchedule.objects.filter(store=location).first()
        if existing is not None:
            check_if_match(request, _schedule_etag(existing))
        data = validated_body(PickupScheduleInput, request.data)
        values = dict(data)
        windows = [WindowSpec(**window) for window in values.pop("windows")]
        slot_schedule_set(
            store=location,
            settings=ScheduleSettings(**values),
            windows=windows,
            expected_version=existing.version if existing is not None else _if_match_sent(request),
        )
        schedule = selectors.schedule_for_staff(caller=caller, store_id=store_id)
        return Response(PickupScheduleOutput(schedule).data, headers={"ETag": _schedule_etag(schedule)})


def _if_match_sent(request: Request) -> int | None:
    """Creating with an If-Match names a version that cannot exist: the service answers 412."""
    return 0 if request.headers.get("If-Match") else None


class SlotExceptionListView(APIView):
    required_scopes = ["inventory:write"]
    extra_error_statuses = {"POST": [404, 409]}

    @extend_schema(
        tags=TAG,
        operation_id="pickup_schedule_exception_set",
        summary="Close a date (or one slot of it) or change its capacity",
        description="Replaces the exception of the same date and `slot_start`. Only for dates whose slots do not "
        "exist yet (409 `day_already_released`); change released slots with PATCH /pickup-slots/{id}. A "
        "`slot_start` on the autumn DST day matches both slots starting at that wall time.",
        parameters=STORE_PARAMETERS,
        request=SlotExceptionInput,
        responses={201: SlotExceptionOutput},
        examples=[
            OpenApiExample("Closed on a holiday", value={"date": "2026-12-25", "closed": True}, request_only=True),
            OpenApiExample("Fewer pickers", value={"date": "2026-12-24", "capacity": 6}, request_only=True),
        ],
    )
    @idempotent(required=False)
    def post(self, request: Request, store: str) -> Response:
        store_id = resolve_store(self, store, source="path").id
        schedule = selectors.schedule_for_staff(caller=caller_from_request(request), store_id=store_id)
        data = validated_body(SlotExceptionInput, request.data)
        exception = slot_exception_set(schedule=schedule, **data)
        return Response(SlotExceptionOutput(exception).data, status=201)


class SlotExceptionDetailView(APIView):
    required_scopes = ["inventory:write"]
    extra_error_statuses = {"DELETE": [409]}

    @extend_schema(
        tags=TAG,
        operation_id="pickup_schedule_exception_delete",
        summary="Remove an exception (before its date's slots exist)",
        parameters=STORE_PARAMETERS,
        responses={204: None},
    )
    def delete(self, request: Request, store: str, exception_id: int) -> Response:
        store_id = resolve_store(self, store, source="path").id
        schedule = selectors.schedule_for_staff(caller=caller_from_request(request), store_id=store_id)
        if exception_id <= 0:
            raise ObjectNotFound()
        slot_exception_delete(schedule=schedule, exception_id=exception_id)
        return Response(status=204)
