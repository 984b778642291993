"""Query parameters, parsed one way on every endpoint.

Each function takes the DRF request and the parameter's name and returns the
typed value, or ``None`` (or the default) when the parameter is absent or
empty. A bad value is a 400 ``invalid_query_parameter`` naming the parameter;
``required=True`` makes an absent one a 400 with the code ``required``. Every
string goes through the text rule: bounded length and no control character
(PostgreSQL refuses NUL in text, so a NUL reaching a query would be a 500).
"""

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any, Literal, overload

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from gateway.api.problems import InvalidQueryParameter

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_TEXT_LENGTH = 100
MAX_CODE_LENGTH = 64
MAX_ID = 2**63 - 1  # bigint primary keys

# Unicode category Cc: C0 controls (NUL included), DEL and C1 controls.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f-\x9f]*$"  # the same rule as an OpenAPI pattern
_INTEGER = re.compile(r"-?[0-9]{1,19}")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# RFC 3339 date-time; seconds may be left out. The offset's '+' is also read
# from a space: a '+' left unencoded in a query string arrives as one.
_INSTANT = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]"
    r"(?P<time>[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?)"
    r"(?P<offset>[Zz]|(?P<sign>[+ -])(?P<hhmm>[0-9]{2}:[0-9]{2}))"
)
_TRUE = ("true", "1")
_FALSE = ("false", "0")


def text_schema(*, max_length: int = MAX_TEXT_LENGTH, required: bool = False) -> dict[str, Any]:
    """The OpenAPI schema of what ``text_param`` takes (an empty value is an absent one)."""
    schema: dict[str, Any] = {"type": "string", "maxLength": max_length, "pattern": NO_CONTROL_CHARACTERS}
    return {**schema, "minLength": 1} if required else schema


def code_schema(*, required: bool = False) -> dict[str, Any]:
    """The OpenAPI schema of what ``code_param`` (and each value of ``list_param``) takes."""
    return text_schema(max_length=MAX_CODE_LENGTH, required=required)


def _raw(request: Request, name: str, required: bool) -> str | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        if required:
            raise InvalidQueryParameter(name, _("This parameter is required."), code="required")
        return None
    return raw


def _text(name: str, value: str, max_length: int) -> str:
    if len(value) > max_length or CONTROL_CHARACTERS.search(value):
        raise InvalidQueryParameter(name, _("At most %(max)d printable characters.") % {"max": max_length})
    return value


def _values(request: Request, name: str, max_length: int) -> list[str]:
    """Every value of a repeatable parameter: ``?x=a&x=b`` or ``?x=a,b``, in
    order, duplicates dropped."""
    values = [item.strip(" ") for raw in request.query_params.getlist(name) for item in raw.split(",")]
    return list(dict.fromkeys(_text(name, value, max_length) for value in values if value))


@overload
def text_param(request: Request, name: str, *, required: Literal[True], max_length: int = MAX_TEXT_LENGTH) -> str: ...
@overload
def text_param(
    request: Request, name: str, *, required: bool = False, max_length: int = MAX_TEXT_LENGTH
) -> str | None: ...
def text_param(request: Request, name: str, *, required: bool = False, max_length: int = MAX_TEXT_LENGTH) -> str | None:
    """Free text (a search, a category): at most ``max_length`` characters, no control character."""
    raw = _raw(request, name, required)
    return None if raw is None else _text(name, raw, max_length)


@overload
def code_param(request: Request, name: str, *, required: Literal[True]) -> str: ...
@overload
def code_param(request: Request, name: str, *, required: bool = False) -> str | None: ...
def code_param(request: Request, name: str, *, required: bool = False) -> str | None:
    """A code, SKU or slug naming a row: the text rule with the codes' length."""
    return text_param(request, name, required=required, max_length=MAX_CODE_LENGTH)


@overload
def int_param(request: Request, name: str, *, low: int, high: int, default: int, required: bool = False) -> int: ...
@overload
def int_param(
    request: Request, name: str, *, low: int, high: int, default: None = None, required: Literal[True]
) -> int: ...
@overload
def int_param(
    request: Request, name: str, *, low: int, high: int, default: None = None, required: bool = False
) -> int | None: ...
def int_param(
    request: Request, name: str, *, low: int, high: int, default: int | None = None, required: bool = False
) -> int | None:
    """A whole number from ``low`` to ``high``, in ASCII digits."""
    raw = _raw(request, name, required)
    if raw is None:
        return default
    if not _INTEGER.fullmatch(raw) or not low <= int(raw) <= high:
        raise InvalidQueryParameter(
            name, _("Expected a whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
        )
    return int(raw)


@overload
def id_param(request: Request, name: str, *, required: Literal[True]) -> int: ...
@overload
def id_param(request: Request, name: str, *, required: bool = False) -> int | None: ...
def id_param(request: Request, name: str, *, required: bool = False) -> int | None:
    """The id of a row: a positive integer that fits a bigint."""
    raw = _raw(request, name, required)
    if raw is None:
        return None
    if not _INTEGER.fullmatch(raw) or not 1 <= int(raw) <= MAX_ID:
        raise InvalidQueryParameter(name, _("Expected a positive integer."))
    return int(raw)


def page_size_param(request: Request, *, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE) -> int:
    """``page_size``: rows per page, 1 to ``maximum``; out of range is an error, never clamped."""
    return int_param(request, "page_size", low=1, high=maximum, default=default)


@overload
def float_param(request: Request, name: str, *, low: float, high: float, default: float) -> float: ...
@overload
def float_param(request: Request, name: str, *, low: float, high: float, default: None = None) -> float | None: ...
def float_param(request: Request, name: str, *, low: float, high: float, default: float | None = None) -> float | None:
    """A decimal number from ``low`` to ``high`` (no NaN, no infinity)."""
    raw = _raw(request, name, False)
    if raw is None:
        return default
    value = float(raw) if len(raw) <= 32 and _NUMBER.fullmatch(raw) else float("nan")
    if not low <= value <= high:  # NaN fails both comparisons
        raise InvalidQueryParameter(name, _("Expected a number from %(low)s to %(high)s.") % {"low": low, "high": high})
    return value


@overload
def bool_param(request: Request, name: str, *, default: bool) -> bool: ...
@overload
def bool_param(request: Request, name: str, *, default: None = None) -> bool | None: ...
def bool_param(request: Request, name: str, *, default: bool | None = None) -> bool | None:
    """``true``/``1`` or ``false``/``0``, in any case."""
    raw = _raw(request, name, False)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise InvalidQueryParameter(name, _("Expected true or false."))


@overload
def date_param(request: Request, name: str, *, required: Literal[True]) -> dt.date: ...
@overload
def date_param(request: Request, name: str, *, required: bool = False) -> dt.date | None: ...
def date_param(request: Request, name: str, *, required: bool = False) -> dt.date | None:
    """A calendar date, YYYY-MM-DD."""
    raw = _raw(request, name, required)
    if raw is None:
        return None
    try:
        if _DATE.fullmatch(raw):
            return dt.date.fromisoformat(raw)
    except ValueError:
        pass
    raise InvalidQueryParameter(name, _("Expected a date as YYYY-MM-DD."))


def date_range_params(
    request: Request, *, max_days: int, default_from: dt.date | None = None, default_days: int | None = None
) -> tuple[dt.date, dt.date]:
    """``from`` and ``to``, both included, at most ``max_days`` days. Each is
    required unless given a default: ``default_from``, and ``to`` as
    ``default_days`` after ``from``."""
    first = date_param(request, "from", required=default_from is None) or default_from
    assert first is not None  # required without a default
    last = date_param(request, "to", required=default_days is None)
    if last is None:
        assert default_days is not None  # required without a default
        last = first + dt.timedelta(days=default_days)
    if last < first:
        raise InvalidQueryParameter("to", _("to is on or after from."))
    if (last - first).days + 1 > max_days:
        raise InvalidQueryParameter("to", _("At most %(n)d days per request.") % {"n": max_days}, code="range_too_long")
    return first, last


def parse_instant(text: str) -> dt.datetime | None:
    """An RFC 3339 date-time with its offset, in UTC; ``None`` if ``text`` is
    not one. A time without offset is refused: it would be ambiguous."""
    match = _INSTANT.fullmatch(text)
    if match is None:
        return None
    offset = "+00:00" if match["offset"] in "Zz" else ("-" if match["sign"] == "-" else "+") + match["hhmm"]
    try:
        return dt.datetime.fromisoformat(f"{match['date']}T{match['time']}{offset}").astimezone(dt.UTC)
    except (ValueError, OverflowError):  # 2026-02-30, 25:00, or an offset past year 1 or 9999
        return None


@overload
def instant_param(request: Request, name: str, *, required: Literal[True]) -> dt.datetime: ...
@overload
def instant_param(request: Request, name: str, *, required: bool = False) -> dt.datetime | None: ...
def instant_param(request: Request, name: str, *, required: bool = False) -> dt.datetime | None:
    """An instant: RFC 3339 with an offset ('Z' or +hh:mm), e.g. 2026-03-29T00:00:00Z."""
    raw = _raw(request, name, required)
    if raw is None:
        return None
    value = parse_instant(raw) if len(raw) <= 64 else None
    if value is None:
        raise InvalidQueryParameter(name, _("Expected an RFC 3339 timestamp with offset, e.g. 2026-03-29T00:00:00Z."))
    return value


# Every list of rows that change takes it; declared once for all their schemas.
UPDATED_SINCE = OpenApiParameter(
    "updated_since",
    OpenApiTypes.DATETIME,
    description="Only rows changed at or after this instant (RFC 3339 with offset).",
)


def updated_since_param(request: Request) -> dt.datetime | None:
    """``?updated_since=``, the instant a list of changing rows starts from."""
    return instant_param(request, UPDATED_SINCE.name)


@overload
def choice_param(request: Request, name: str, allowed: Iterable[str], *, default: str) -> str: ...
@overload
def choice_param(request: Request, name: str, allowed: Iterable[str], *, default: None = None) -> str | None: ...
def choice_param(request: Request, name: str, allowed: Iterable[str], *, default: str | None = None) -> str | None:
    """One value out of ``allowed``."""
    raw = _raw(request, name, False)
    if raw is None:
        return default
    choices = list(allowed)
    if raw not in choices:
        raise InvalidQueryParameter(name, _("Expected one of: %(allowed)s.") % {"allowed": ", ".join(choices)})
    return raw


def choices_param(request: Request, name: str, allowed: Iterable[str]) -> list[str]:
    """Values out of ``allowed``, repeated (``?x=a&x=b``) or comma-separated
    (``?x=a,b``); an empty list when absent."""
    choices = list(allowed)
    values = _values(request, name, MAX_CODE_LENGTH)
    unknown = [value for value in values if value not in choices]
    if unknown:
        raise InvalidQueryParameter(
            name,
            _("Unknown value(s): %(values)s. Allowed: %(allowed)s.")
            % {"values": ", ".join(unknown), "allowed": ", ".join(choices)},
        )
    return values


def list_param(request: Request, name: str, *, limit: int, max_length: int = MAX_CODE_LENGTH) -> list[str]:
    """Codes, repeated (``?sku=A&sku=B``) or comma-separated (``?sku=A,B``),
    at most ``limit`` of them after duplicates are dropped."""
    values = _values(request, name, max_length)
    if len(values) > limit:
        raise InvalidQueryParameter(name, _("At most %(limit)d values.") % {"limit": limit}, code="too_many")
    return values
