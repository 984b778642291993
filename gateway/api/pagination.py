"""Cursor pagination for every list: ``?cursor=&page_size=`` (default 50, 1 to 500)."""

from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import DateTimeField, Field, Model, QuerySet
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request
from rest_framework.views import APIView

from gateway.api.params import CONTROL_CHARACTERS, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, page_size_param, parse_instant
from gateway.api.problems import InvalidQueryParameter

MAX_CURSOR_LENGTH = 1000


class GatewayCursorPagination(CursorPagination):
    page_size = DEFAULT_PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE
    page_size_query_param = "page_size"
    page_size_query_description = f"Rows per page, 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE})."
    cursor_query_description = "Opaque cursor from `next` or `previous` of the previous page."
    # Lists are ordered by primary key unless the view says otherwise: stable,
    # unique, and indexed, so a cursor never skips or repeats a row.
    ordering: str | list[str] | tuple[str, ...] = "pk"

    def paginate_queryset(self, queryset: QuerySet[Any], request: Request, view: APIView | None = None) -> Any:
        # decode_cursor needs the model to type the cursor's position.
        self._model: type[Model] = queryset.model
        self._annotations = queryset.query.annotations
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request: Request) -> int:
        return page_size_param(request, default=self.page_size, maximum=self.max_page_size)

    def decode_cursor(self, request: Request) -> Cursor | None:
        # Base64 decoding skips characters outside its alphabet, so a NUL
        # would otherwise pass as a cursor.
        raw = request.query_params.get(self.cursor_query_param)
        if raw is not None and (len(raw) > MAX_CURSOR_LENGTH or CONTROL_CHARACTERS.search(raw)):
            raise _invalid_cursor()
        try:
            cursor = super().decode_cursor(request)
        except NotFound as exc:
            raise _invalid_cursor() from exc
        if cursor is None or cursor.position is None:
            return cursor
        # The stubs type a position as an int; DRF decodes and encodes it as text.
        position: Any = self._typed_position(str(cursor.position))
        return cursor._replace(position=position)

    def _typed_position(self, position: str) -> str:
        """The position as the ordering field's value, written the way DRF
        writes positions (``str`` of the value), or a 400: a crafted cursor
        must not reach the query's ``filter()`` with a value of another type."""
        field = self._ordering_field()
        if CONTROL_CHARACTERS.search(position):
            raise _invalid_cursor()
        try:
            if isinstance(field, DateTimeField):
                instant = parse_instant(position)
                if instant is None:
                    raise _invalid_cursor()
                return str(instant)
            value = field.to_python(position)
            field.run_validators(value)  # integers: the column's range; text: its length
        except (ValidationError, ValueError, TypeError, OverflowError) as exc:
            raise _invalid_cursor() from exc
        return str(value)

    def _ordering_field(self) -> Field[Any, Any]:
        # DRF refuses '__' lookups in a cursor ordering: the first ordering
        # is a column of the model or an annotation of the queryset.
        name = self.ordering[0].lstrip("-")
        if name in self._annotations:
            output: Field[Any, Any] = self._annotations[name].output_field
            return output
        field = self._model._meta.pk if name == "pk" else self._model._meta.get_field(name)
        if not isinstance(field, Field):
            raise FieldDoesNotExist(f"{self._model.__name__}.{name} is not a column")
        return field

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


def _invalid_cursor() -> InvalidQueryParameter:
    return InvalidQueryParameter("cursor", _("The cursor is invalid; use the next or previous link as given."))
