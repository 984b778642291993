"""Network availability: at a store (with supply lead times) or near a point."""

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gateway.api.params import (
    code_schema,
    float_param,
    instant_param,
    int_param,
    list_param,
    text_param,
    text_schema,
)
from gateway.api.problems import InvalidQueryParameter
from inventory.api.v1.serializers import AvailabilityOutput, availability_output
from inventory.selectors.availability import availability_at_store, availability_near, availability_store_get
from partners.callers import caller_from_request

MAX_SKUS = 50
DEFAULT_RADIUS_KM = 10.0
MAX_RADIUS_KM = 100.0
MIN_RADIUS_KM = 0.1
DEFAULT_LIMIT = 10
MAX_LIMIT = 50


class AvailabilityView(APIView):
    required_scopes = ["inventory:read"]
    extra_error_statuses = {"GET": [400]}

    @extend_schema(
        tags=["availability"],
        operation_id="availability",
        summary="Where SKUs are available",
        description=(
            "Give `sku` (repeated or comma-separated, at most 50) and either `store` or `lat`+`lng`.\n\n"
            "- `store=CODE`: the store's own stock, and the warehouses and partner stores holding the SKU with "
            "`available_on`, the day their lead time brings it to the store (computed in the store's time zone "
            "from `at`, default now, and moved to the next day the store opens).\n"
            "- `lat`, `lng` [, `radius_km`]: active click-and-collect stores within the radius that hold the "
            "SKU, nearest first.\n\n"
            "Figures of others above `quantity_cap` are shown as the cap; the operator sees exact figures, a "
            "partner at its own locations, a store client at its own store."
        ),
        parameters=[
            OpenApiParameter(
                "sku",
                {"type": "array", "items": code_schema(required=True), "minItems": 1, "maxItems": MAX_SKUS},
                required=True,
                explode=True,
            ),
            OpenApiParameter("store", text_schema(), description="Store code (store mode)."),
            OpenApiParameter(
                "lat", {"type": "number", "minimum": -90, "maximum": 90}, description="Latitude (near mode)."
            ),
            OpenApiParameter(
                "lng", {"type": "number", "minimum": -180, "maximum": 180}, description="Longitude (near mode)."
            ),
            OpenApiParameter(
                "radius_km",
                {"type": "number", "minimum": MIN_RADIUS_KM, "maximum": MAX_RADIUS_KM, "default": DEFAULT_RADIUS_KM},
                description=f"Near mode: default {DEFAULT_RADIUS_KM:g}, at most {MAX_RADIUS_KM:g}.",
            ),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
                description=f"Locations per SKU: default {DEFAULT_LIMIT}, at most {MAX_LIMIT}.",
            ),
            OpenApiParameter(
                "at", OpenApiTypes.DATETIME, description="Store mode: the instant to plan from (RFC 3339)."
            ),
        ],
        responses={200: AvailabilityOutput},
    )
    def get(self, request: Request) -> Response:
        skus = list_param(request, "sku", limit=MAX_SKUS)
        if not skus:
            raise InvalidQueryParameter("sku", _("Give at least one SKU."), code="required")
        caller = caller_from_request(request)
        limit = int_param(request, "limit", low=1, high=MAX_LIMIT, default=DEFAULT_LIMIT)
        code = text_param(request, "store")
        lat = float_param(request, "lat", low=-90, high=90)
        lng = float_param(request, "lng", low=-180, high=180)
        if code is not None:
            if lat is not None or lng is not None:
                raise InvalidQueryParameter("store", _("Ask either at a store or near a point, not both."))
            store = availability_store_get(code=code)
            if store is None:
                raise InvalidQueryParameter("store", _("No active store with this code."), code="unknown_store")
            at = instant_param(request, "at") or timezone.now()
            answer = availability_at_store(caller=caller, skus=skus, store=store, at=at, limit=limit)
            return Response(availability_output(answer))
        if lat is None or lng is None:
            raise InvalidQueryParameter("lat", _("Give store, or lat and lng."), code="required")
        radius = float_param(request, "radius_km", low=MIN_RADIUS_KM, high=MAX_RADIUS_KM, default=DEFAULT_RADIUS_KM)
        assert radius is not None  # a default is given
        answer = availability_near(caller=caller, skus=skus, lat=lat, lng=lng, radius_km=radius, limit=limit)
        return Response(availability_output(answer))
