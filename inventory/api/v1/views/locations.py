"""Locations: stores, warehouses and partner stores (inventory:read / inventory:write)."""

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gateway.api.etag import IF_MATCH, IF_NONE_MATCH, NOT_MODIFIED, check_if_match, etag_for, with_etag
from gateway.api.idempotency import idempotent
from gateway.api.params import (
    UPDATED_SINCE,
    bool_param,
    choice_param,
    text_param,
    text_schema,
    updated_since_param,
)
from gateway.api.strict import validated_body
from inventory import services
from inventory.api.v1.serializers import LocationCreateInput, LocationOutput, LocationUpdateInput
from inventory.models import Location, LocationKind
from inventory.selectors.locations import (
    ensure_catalog_editor,
    location_get,
    location_get_for_edit,
    locations_filtered,
    owner_for_new_object,
)
from partners.callers import caller_from_request

TAG = ["locations"]
_KINDS = tuple(LocationKind.values)


class LocationListView(GenericAPIView[Location]):
    required_scopes = {"GET": ["inventory:read"], "POST": ["inventory:write"]}
    serializer_class = LocationOutput
    extra_error_statuses = {"POST": [409]}

    def get_queryset(self) -> QuerySet[Location]:
        request = self.request
        return locations_filtered(
            caller=caller_from_request(request),
            kind=choice_param(request, "kind", _KINDS),
            owner=text_param(request, "owner"),
            updated_since=updated_since_param(request),
            q=text_param(request, "q"),
            click_and_collect=bool_param(request, "click_and_collect"),
        )

    @extend_schema(
        tags=TAG,
        operation_id="locations_list",
        summary="List locations",
        description="The operator sees every location; others the retailer's active stores, and a partner "
        "also its own warehouses and partner stores.",
        parameters=[
            UPDATED_SINCE,
            OpenApiParameter("kind", OpenApiTypes.STR, enum=list(_KINDS)),
            OpenApiParameter(
                "owner",
                text_schema(),
                description="Operator only: `retailer` or a partner's slug; ignored otherwise.",
            ),
            OpenApiParameter("q", text_schema(), description="Text in the name or city, or the exact code."),
            OpenApiParameter("click_and_collect", OpenApiTypes.BOOL),
        ],
        responses=LocationOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(LocationOutput(page, many=True).data)

    @extend_schema(
        tags=TAG,
        operation_id="locations_create",
        summary="Create a location",
        description="Partners create their own warehouses and partner stores; the operator any location "
        "(stores are always the retailer's). Codes are unique (409 `location_code_taken`).",
        request=LocationCreateInput,
        responses={201: LocationOutput},
        examples=[
            OpenApiExample(
                "Partner warehouse",
                value={
                    "code": "ACME-WH2",
                    "name": "Acme Foods Lille warehouse",
                    "kind": "warehouse",
                    "city": "Lille",
                    "latitude": "50.629250",
                    "longitude": "3.057256",
                    "time_zone": "Europe/Paris",
                    "lead_time_days": 2,
                },
                request_only=True,
            )
        ],
    )
    @idempotent(required=False)
    def post(self, request: Request) -> Response:
        caller = caller_from_request(request)
        ensure_catalog_editor(caller=caller)
        data = validated_body(LocationCreateInput, request.data)
        fields = dict(data)
        owner = owner_for_new_object(caller=caller, slug=fields.pop("owner", None))
        location = services.location_create(owner=owner, fields=fields)
        response = with_etag(
            request, "location", location.pk, location.version, LocationOutput(location).data, status=201
        )
        response["Location"] = f"/api/v1/locations/{location.code}"
        return response


class LocationDetailView(APIView):
    required_scopes = {"GET": ["inventory:read"], "PATCH": ["inventory:write"]}
    extra_error_statuses = {"PATCH": [412, 428]}

    @extend_schema(
        tags=TAG,
        operation_id="locations_detail",
        summary="One location",
        parameters=[IF_NONE_MATCH],
        responses={200: LocationOutput, **NOT_MODIFIED},
    )
    def get(self, request: Request, code: str) -> Response:
        location = location_get(caller=caller_from_request(request), code=code)
        return with_etag(request, "location", location.pk, location.version, LocationOutput(location).data)

    @extend_schema(
        tags=TAG,
        operation_id="locations_update",
        summary="Change a location",
        description="Send If-Match with the ETag you read. `code`, `kind` and `owner` never change.",
        parameters=[IF_MATCH],
        request=LocationUpdateInput,
        responses={200: LocationOutput},
    )
    def patch(self, request: Request, code: str) -> Response:
        location = location_get_for_edit(caller=caller_from_request(request), code=code)
        check_if_match(request, etag_for("location", location.pk, location.version))
        data = validated_body(LocationUpdateInput, request.data)
        location = services.location_update(location=location, expected_version=location.version, fields=dict(data))
        return with_etag(request, "location", location.pk, location.version, LocationOutput(location).data)
