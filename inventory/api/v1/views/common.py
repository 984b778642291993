"""What the inventory views share: OpenAPI parameters and the ETag answer."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response

from gateway.api.etag import etag_for, not_modified

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The ETag you read; 412 when the resource changed since, 428 when absent.",
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
