"""The stores' calendars: days the anomaly notifier does not judge as
ordinary ones (closed, an event, a local holiday). Read with
``footfall:read``, written with ``footfall:ingest`` by the operator (any
store) and a store's own client; devices count, they keep no calendar."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from footfall.models import CalendarDayKind, StoreCalendarDay
from footfall.selectors.calendar import calendar_day_get, calendar_days_visible_to, store_for_calendar
from footfall.services.calendar import calendar_day_create, calendar_day_delete
from gateway.api import params
from gateway.api.idempotency import idempotent
from gateway.api.strict import StrictCharField, StrictInput, validated_body
from partners.callers import caller_from_request

TAG = ["footfall"]


class CalendarDayCreateInput(StrictInput):
    store = StrictCharField(
        max_length=40, required=False, help_text="Store code: required for the operator; a store client its own."
    )
    day = serializers.DateField(help_text="Store-local date, YYYY-MM-DD.")
    kind = serializers.ChoiceField(
        choices=CalendarDayKind.choices,
        help_text="closed: not judged at all. event: not judged as a spike or a low day, kept out of the usual. "
        "holiday: judged like a public holiday (not against ordinary days, kept out of the usual).",
    )
    # DRF's metaclass takes declared fields out of the class, so this does not shadow Field.label at run time
    label = StrictCharField(  # type: ignore[assignment]  # mypy sees Serializer.label, the field's own caption
        max_length=200, allow_blank=True, required=False, help_text="What it is, in words."
    )


class CalendarDayOutput(serializers.ModelSerializer[StoreCalendarDay]):
    store = serializers.CharField(source="store.code")
    kind = serializers.ChoiceField(choices=CalendarDayKind.choices)

    class Meta:
        model = StoreCalendarDay
        fields = ["id", "store", "day", "kind", "label", "created_at", "updated_at"]


class CalendarListView(GenericAPIView[StoreCalendarDay]):
    required_scopes = {"GET": ["footfall:read"], "POST": ["footfall:ingest"]}
    serializer_class = CalendarDayOutput
    extra_error_statuses = {"GET": [400], "POST": [404, 409]}

    def get_queryset(self) -> QuerySet[StoreCalendarDay]:
        request = self.request
        days = calendar_days_visible_to(caller=caller_from_request(request))
        filters = {
            "store__code": params.code_param(request, "store"),
            "kind": params.choice_param(request, "kind", CalendarDayKind.values),
            "day__gte": params.date_param(request, "from"),
            "day__lte": params.date_param(request, "to"),
            "updated_at__gte": params.updated_since_param(request),
        }
        return days.filter(**{key: value for key, value in filters.items() if value})

    @extend_schema(
        tags=TAG,
        operation_id="footfall_calendar_list",
        summary="Closed, event and holiday days of the stores you may read",
        parameters=[
            OpenApiParameter("store", params.code_schema(), description="Store code."),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=CalendarDayKind.values),
            OpenApiParameter("from", OpenApiTypes.DATE, description="First day (store-local)."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (store-local)."),
            params.UPDATED_SINCE,
        ],
        responses=CalendarDayOutput(many=True),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(CalendarDayOutput(page, many=True).data)

    @extend_schema(
        tags=TAG,
        operation_id="footfall_calendar_create",
        summary="Add a day to a store's calendar",
        description="The anomaly notifier does not judge a closed day, raises no spike or low day on an event "
        "day, judges a holiday like a public one, and keeps all three out of the usual traffic it compares with, "
        "from its next run on. One entry per store and day (409 `calendar_day_taken`: delete it first).",
        request=CalendarDayCreateInput,
        responses={201: CalendarDayOutput},
        examples=[
            OpenApiExample(
                "Closed for stock-taking",
                value={"store": "PAR01", "day": "2026-06-30", "kind": "closed", "label": "Stock-taking"},
                request_only=True,
            )
        ],
    )
    @idempotent(required=False)
    def post(self, request: Request) -> Response:
        fields = validated_body(CalendarDayCreateInput, request.data)
        store = store_for_calendar(caller=caller_from_request(request), code=fields.get("store"))
        day = calendar_day_create(store=store, day=fields["day"], kind=fields["kind"], label=fields.get("label", ""))
        return Response(CalendarDayOutput(day).data, status=201)


class CalendarDetailView(APIView):
    required_scopes = {"GET": ["footfall:read"], "DELETE": ["footfall:ingest"]}

    @extend_schema(
        tags=TAG,
        operation_id="footfall_calendar_day",
        summary="One day of a store's calendar",
        responses=CalendarDayOutput,
    )
    def get(self, request: Request, day_id: int) -> Response:
        day = calendar_day_get(caller=caller_from_request(request), day_id=day_id)
        return Response(CalendarDayOutput(day).data)

    @extend_schema(
        tags=TAG,
        operation_id="footfall_calendar_delete",
        summary="Remove a day from a store's calendar",
        description="The day is judged as an ordinary one again from the notifier's next run on.",
        responses={204: None},
    )
    def delete(self, request: Request, day_id: int) -> Response:
        day = calendar_day_get(caller=caller_from_request(request), day_id=day_id)
        calendar_day_delete(calendar_day=day)
        return Response(status=204)
