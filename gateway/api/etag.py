"""Strong ETags from a resource's version, ``If-Match`` on writes (412 on
mismatch, 428 when required and missing) and ``If-None-Match`` on reads (304)."""

from typing import Any

from django.utils.http import parse_etags, quote_etag
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response

from gateway.api.problems import PreconditionFailed, PreconditionRequired


def etag_for(kind: str, pk: object, version: int) -> str:
    """``"<kind>-<pk>-v<version>"``: changes exactly when the row's version does."""
    return quote_etag(f"{kind}-{pk}-v{version}")


def check_if_match(request: Request, current: str, *, required: bool = True) -> None:
    """Raise 412 when If-Match names another version, 428 when it is required and absent."""
    header = request.headers.get("If-Match")
    if header is None:
        if required:
            raise PreconditionRequired()
        return
    tags = parse_etags(header)
    if "*" not in tags and current not in tags:
        raise PreconditionFailed()


def not_modified(request: Request, current: str) -> bool:
    """True when If-None-Match already names the current version (answer 304)."""
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = parse_etags(header)
    return "*" in tags or current in tags


IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The ETag you read; 412 when the resource changed since, 428 when absent.",
)
IF_MATCH_OPTIONAL = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Optional: the ETag you read; 412 when the resource changed since.",
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag you hold; 304 without a body when it is still current.",
)
NOT_MODIFIED = {304: None}


def with_etag(request: Request, kind: str, pk: object, version: int, data: Any, *, status: int = 200) -> Response:
    """``data`` with its strong ETag, or 304 when If-None-Match already names it."""
    tag = etag_for(kind, pk, version)
    if status == 200 and request.method == "GET" and not_modified(request, tag):
        return Response(status=304, headers={"ETag": tag})
    return Response(data, status=status, headers={"ETag": tag})
