"""Network availability: at a store (with supply lead times) or near a point."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gateway.api.etag import IF_NONE_MATCH, NOT_MODIFIED
from gateway.api.problems import InvalidQueryParameter
from gateway.api.readcache import REVALIDATE, cached_read, conditional
from inventory.api.v1 import query
from inventory.api.v1.readcache import availability_read, near_read
from inventory.api.v1.serializers import AvailabilityOutput, availability_output
from inventory.selectors.availability import (
    Availability,
    availability_at_store,
    availability_near,
    availability_store_get,
)
from partners.callers import caller_from_request

MAX_SKUS = 50
DEFAULT_RADIUS_KM = 10.0
MAX_RADIUS_KM = 100.0
MIN_RADIUS_KM = 0.1
DEFAULT_LIMIT = 10
MAX_LIMIT = 50

# The query, declared once: the view reads each parameter with it and the
# schema lists the same declarations (inventory/api/v1/query.py).
SKU = query.CodeList("sku", limit=MAX_SKUS, missing=gettext_lazy("Give at least one SKU."))
STORE = query.Text("store", description="Store code (store mode).")
LAT = query.Number("lat", low=-90, high=90, description="Latitude (near mode).")
LNG = query.Number("lng", low=-180, high=180, description="Longitude (near mode).")
RADIUS_KM = query.Number(
    "radius_km",
    low=MIN_RADIUS_KM,
    high=MAX_RADIUS_KM,
    default=DEFAULT_RADIUS_KM,
    description=f"Near mode: default {DEFAULT_RADIUS_KM:g}, at most {MAX_RADIUS_KM:g}.",
)
LIMIT = query.Whole(
    "limit",
    low=1,
    high=MAX_LIMIT,
    default=DEFAULT_LIMIT,
    description=f"Locations per SKU: default {DEFAULT_LIMIT}, at most {MAX_LIMIT}.",
)
AT = query.Instant("at", description="Store mode: the instant to plan from (RFC 3339).")
QUERY = (SKU, STORE, LAT, LNG, RADIUS_KM, LIMIT, AT)


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
            "partner at its own locations, a store client at its own store.\n\n"
            "Conditional: the answer carries an `ETag` and `Cache-Control: private, no-cache`; send the ETag back "
            "in `If-None-Match` and a 304 without a body says the answer has not changed (stock, products and "
            "stores are as they were). A stock change makes the ETag change at once on every server."
        ),
        parameters=[*(parameter.parameter() for parameter in QUERY), IF_NONE_MATCH],
        responses={200: AvailabilityOutput, **NOT_MODIFIED},
    )
    @conditional(REVALIDATE)
    def get(self, request: Request) -> Response:
        skus = SKU.read(request)
        caller = caller_from_request(request)
        limit = LIMIT.read(request)
        code = STORE.read(request)
        lat = LAT.read(request)
        lng = LNG.read(request)
        if code is not None:
            if lat is not None or lng is not None:
                raise InvalidQueryParameter("store", _("Ask either at a store or near a point, not both."))
            at = AT.read(request)

            def at_store() -> Response:
                store = availability_store_get(code=code)
                if store is None:
                    raise InvalidQueryParameter("store", _("No active store with this code."), code="unknown_store")
                answer = availability_at_store(
                    caller=caller, skus=skus, store=store, at=at or timezone.now(), limit=limit
                )
                return Response(availability_output(answer))

            return cached_read(
                request, availability_read(request, caller, skus, store=code, clock=at is None), at_store
            )
        if lat is None or lng is None:
            raise InvalidQueryParameter("lat", _("Give store, or lat and lng."), code="required")
        radius = RADIUS_KM.read(request)
        assert radius is not None  # a default is given

        computed: list[Availability] = []

        def near() -> Response:
            answer = availability_near(caller=caller, skus=skus, lat=lat, lng=lng, radius_km=radius, limit=limit)
            computed.append(answer)
            return Response(availability_output(answer))

        return cached_read(request, near_read(request, caller, skus, computed), near)
