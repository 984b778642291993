"""A store named in a request: by its code, as inventory and footfall name it
(``PAR01``), or by its numeric id, the form click-and-collect took first.

The id form keeps answering as it did (an unknown id is what the endpoint made
of it before), with ``Deprecation`` (RFC 9745), ``Sunset`` (RFC 8594) and, when
the caller may see the store, a ``Link`` to the same request naming it by code.
A value of ASCII digits only is the id form; anything else is a code, looked up
among the stores the caller may see (inventory's rule), so a code of a store it
may not see is unknown: 404 in a path, 400 ``invalid_query_parameter`` in a
query."""

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Literal

from django.urls import reverse
from django.utils.http import http_date
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.views import APIView

from commerce.errors import ObjectNotFound
from gateway.api.params import MAX_CODE_LENGTH, MAX_ID
from gateway.api.problems import InvalidQueryParameter
from inventory.models import Location, LocationKind
from inventory.selectors.locations import location_visible_by_code, locations_visible_to
from partners.callers import caller_from_request

# When the code form arrived and the numeric id became deprecated.
STORE_ID_DEPRECATED_AT = dt.datetime(2026, 12, 4, tzinfo=dt.UTC)
# After this the numeric store id may stop being answered: seven months after
# the deprecation, so an integrator has more than two quarterly releases to move
# to codes. Sent as the Sunset header of every request that uses the id form.
STORE_ID_SUNSET = dt.datetime(2027, 7, 1, tzinfo=dt.UTC)

_ID_FORM = re.compile(r"[0-9]+")
# What a path segment naming a store may be; anything else is a 404 before a
# view runs (a NUL could not even be sent to PostgreSQL).
STORE_SEGMENT = rf"[^/\x00-\x1f\x7f]{{1,{MAX_CODE_LENGTH}}}"

Source = Literal["path", "query"]


class StoreConverter:
    regex = STORE_SEGMENT

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


@dataclass(frozen=True)
class StoreRef:
    id: int
    # The store's row when the caller may see it (always, for a code), so a
    # selector need not read it again.
    location: Location | None


def resolve_store(view: APIView, value: str, *, source: Source, name: str = "store") -> StoreRef:
    """The store ``value`` names, in a path segment or a query parameter
    ``name`` (the raw text, read with gateway.api.params). Whether the caller
    may act on that store is the commerce selectors' business."""
    request = view.request
    caller = caller_from_request(request)
    if _ID_FORM.fullmatch(value) is None:
        location = location_visible_by_code(caller=caller, code=value)  # one plain statement
        if location is None or location.kind != LocationKind.STORE:
            raise _unknown(source, name)
        return StoreRef(location.pk, location)
    stores = locations_visible_to(caller=caller).select_related(None).filter(kind=LocationKind.STORE)
    store_id = int(value)
    if not 1 <= store_id <= MAX_ID:
        raise _unknown(source, name)
    headers = {
        "Deprecation": f"@{int(STORE_ID_DEPRECATED_AT.timestamp())}",
        "Sunset": http_date(STORE_ID_SUNSET.timestamp()),
    }
    location = stores.filter(pk=store_id).first()
    if location is not None:
        headers["Link"] = f'<{_successor(view, source, name, location.code)}>; rel="successor-version"'
    # APIView.finalize_response copies these onto the answer, an error too.
    view.headers.update(headers)
    return StoreRef(store_id, location)


def _unknown(source: Source, name: str) -> Exception:
    if source == "path":
        return ObjectNotFound()
    return InvalidQueryParameter(name, _("No store with this code."), code="unknown_store")


def _successor(view: APIView, source: Source, name: str, code: str) -> str:
    """The request's own URL, naming the store by ``code``."""
    request = view.request
    query = request.query_params.copy()
    if source == "query":
        query[name] = code
        path = request.path
    else:
        match = request.resolver_match
        assert match is not None  # the request came through a URL pattern naming the store
        path = reverse(match.view_name, kwargs={**match.kwargs, name: code})
    return f"{path}?{query.urlencode()}" if query else path


_NUMERIC_FORM = (
    "Its numeric id (digits only) is still read but deprecated: the answer then carries `Deprecation`, `Sunset` "
    "and a `Link` to the same request by code."
)
# The two forms, apart: a value of digits only is never read as a code.
STORE_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "pattern": f"^(?![0-9]+$){STORE_SEGMENT}$", "description": "Store code, e.g. `PAR01`."},
        {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_ID,
            "deprecated": True,
            "description": "Numeric store id (deprecated).",
        },
    ]
}


def store_parameter(location: Literal["path", "query"], *, required: bool = False) -> OpenApiParameter:
    """The ``store`` parameter, in the path or the query."""
    return OpenApiParameter(
        "store",
        STORE_SCHEMA,
        location,
        required=required,
        description=f"Store code, as inventory and footfall name stores. {_NUMERIC_FORM}",
    )


# Response headers of an answer to the id form.
DEPRECATION_HEADERS = [
    OpenApiParameter(
        "Deprecation",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=True,
        description="Only when the store was named by its numeric id: `@<unix seconds>` (RFC 9745), when "
        "that form was deprecated.",
    ),
    OpenApiParameter(
        "Sunset",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=True,
        description="Only when the store was named by its numeric id: the HTTP-date after which that form may "
        "stop being answered (RFC 8594).",
    ),
    OpenApiParameter(
        "Link",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=True,
        description='Only when the store was named by its numeric id: `<url>; rel="successor-version"`, the '
        "same request naming the store by code.",
    ),
]
