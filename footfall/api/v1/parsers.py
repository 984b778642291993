"""Request body parsers of the footfall ingest endpoints."""

from collections.abc import Mapping
from typing import IO, Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser


class CsvTextParser(BaseParser):
    """``text/csv`` bodies as text (UTF-8, a byte-order mark tolerated)."""

    media_type = "text/csv"

    def parse(  # type: ignore[override]  # a CSV body is text, not a mapping
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> str:
        try:
            return stream.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ParseError(_("The CSV body is not UTF-8.")) from exc
