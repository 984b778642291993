"""Query parameters of the inventory API, parsed strictly: a bad value is a
400 ``invalid_query_parameter`` naming the parameter."""

import datetime as dt
import math

from django.utils.translation import gettext as _
from rest_framework.request import Request

from gateway.api.problems import InvalidQueryParameter

MAX_TEXT_PARAM = 100


def instant_param(request: Request, name: str) -> dt.datetime | None:
    """An RFC 3339 timestamp with its offset. A '+' left unencoded in a query
    string arrives as a space; it is read back as the '+' it was."""
    raw = request.query_params.get(name)
    if not raw:
        return None
    text = raw.strip().replace(" ", "+")
    try:
        value = dt.datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        value = None
    if value is None or value.tzinfo is None or "T" not in text.upper():
        raise InvalidQueryParameter(name, _("Expected an RFC 3339 timestamp with offset, e.g. 2026-03-29T00:00:00Z."))
    return value


def text_param(request: Request, name: str) -> str | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if len(raw) > MAX_TEXT_PARAM or not raw.isprintable():
        raise InvalidQueryParameter(name, _("At most %(max)d printable characters.") % {"max": MAX_TEXT_PARAM})
    return raw


def choice_param(request: Request, name: str, allowed: tuple[str, ...]) -> str | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if raw not in allowed:
        raise InvalidQueryParameter(name, _("Allowed: %(allowed)s.") % {"allowed": ", ".join(allowed)})
    return raw


def bool_param(request: Request, name: str) -> bool | None:
    raw = (request.query_params.get(name) or "").lower()
    if raw == "":
        return None
    if raw in ("true", "1"):
        return True
    if raw in ("false", "0"):
        return False
    raise InvalidQueryParameter(name, _("Expected true or false."))


def float_param(request: Request, name: str, *, low: float, high: float, default: float | None = None) -> float | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw) if len(raw) <= 32 else math.nan
    except ValueError:
        value = math.nan
    if not low <= value <= high:  # NaN fails both comparisons
        raise InvalidQueryParameter(name, _("Expected a number from %(low)s to %(high)s.") % {"low": low, "high": high})
    return value


def int_param(request: Request, name: str, *, low: int, high: int, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or len(raw) > 9 or not low <= int(raw) <= high:
        raise InvalidQueryParameter(
            name, _("Expected a whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
        )
    return int(raw)


def list_param(request: Request, name: str, *, limit: int) -> list[str]:
    """Repeated (``?sku=A&sku=B``) or comma-separated (``?sku=A,B``), order kept, duplicates dropped."""
    values: list[str] = []
    for raw in request.query_params.getlist(name):
        values.extend(item.strip() for item in raw.split(",") if item.strip())
    unique = list(dict.fromkeys(values))
    if len(unique) > limit:
        raise InvalidQueryParameter(name, _("At most %(limit)d values.") % {"limit": limit}, code="too_many")
    if any(len(value) > 64 or not value.isprintable() for value in unique):
        raise InvalidQueryParameter(name, _("Each value is at most 64 printable characters."))
    return unique
