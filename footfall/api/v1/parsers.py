"""Request body parsers of the footfall ingest endpoints."""

from collections.abc import Mapping
from typing import IO, Any

from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ParseError
from rest_framework.parsers import BaseParser

from gateway.api.strict import FORBIDDEN_IN_MULTILINE_TEXT, INVALID_CHARACTERS, MAX_REPORTED


class CsvTextParser(BaseParser):
    """``text/csv`` bodies as text (UTF-8, a byte-order mark tolerated). A
    control character other than tab, CR and LF is a 422 naming its lines
    (``line 3``, the header being line 1): rows are read by hand, and a NUL
    would reach PostgreSQL, which refuses it in text."""

    media_type = "text/csv"

    def parse(  # type: ignore[override]  # a CSV body is text, not a mapping
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> str:
        try:
            text: str = stream.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ParseError(_("The CSV body is not UTF-8.")) from exc
        _refuse_control_characters(text)
        return text


def _refuse_control_characters(text: str) -> None:
    errors: dict[str, list[ErrorDetail]] = {}
    line, counted_to = 1, 0
    for match in FORBIDDEN_IN_MULTILINE_TEXT.finditer(text):
        line += text.count("\n", counted_to, match.start())
        counted_to = match.start()
        errors[f"line {line}"] = [
            ErrorDetail(_("Control characters (such as NUL) are not allowed."), code=INVALID_CHARACTERS)
        ]
        if len(errors) == MAX_REPORTED:
            break
    if errors:
        raise serializers.ValidationError(errors)
