"""Cursor pagination for every list: ``?cursor=&page_size=`` (default 50, max 500)."""

from typing import Any

from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

from gateway.api.problems import InvalidQueryParameter


class GatewayCursorPagination(CursorPagination):
    page_size = 50
    max_page_size = 500
    page_size_query_param = "page_size"
    page_size_query_description = "Rows per page, 1 to 500 (default 50)."
    cursor_query_description = "Opaque cursor from `next` or `previous` of the previous page."
    # Lists are ordered by primary key unless the view says otherwise: stable,
    # unique, and indexed, so a cursor never skips or repeats a row.
    ordering = "pk"

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            return super().decode_cursor(request)
        except NotFound as exc:
            raise InvalidQueryParameter(
                "cursor", "The cursor is invalid; use the next or previous link as given."
            ) from exc

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param["name"] == "page_size":
                param["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                    "default": self.page_size,
                }
        return params
