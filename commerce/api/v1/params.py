"""Query parameters of the click-and-collect lists: parsed strictly, a bad
value is a 400 ``invalid_query_parameter`` naming the parameter."""

import datetime as dt
from collections.abc import Iterable

from django.utils.translation import gettext as _
from rest_framework.request import Request

from gateway.api.problems import InvalidQueryParameter


def int_param(request: Request, name: str, *, required: bool = False) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        if required:
            raise InvalidQueryParameter(name, _("This parameter is required."), code="required")
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidQueryParameter(name, _("Expected a positive integer."))
    return int(raw)


def date_param(request: Request, name: str) -> dt.date | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw) if len(raw) == 10 else _bad_date(name)
    except ValueError:
        return _bad_date(name)


def _bad_date(name: str) -> dt.date:
    raise InvalidQueryParameter(name, _("Expected a date as YYYY-MM-DD."))


def bool_param(request: Request, name: str) -> bool:
    raw = (request.query_params.get(name) or "").lower()
    if raw in ("", "false", "0"):
        return False
    if raw in ("true", "1"):
        return True
    raise InvalidQueryParameter(name, _("Expected true or false."))


def instant_param(request: Request, name: str) -> dt.datetime | None:
    """An RFC 3339 timestamp with its offset (a time without one is ambiguous)."""
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        value = None
    if value is None or value.tzinfo is None or "T" not in raw.upper():
        raise InvalidQueryParameter(name, _("Expected an RFC 3339 timestamp with offset, e.g. 2026-03-29T00:00:00Z."))
    return value


def choices_param(request: Request, name: str, allowed: Iterable[str]) -> list[str] | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    values = [item.strip() for item in raw.split(",") if item.strip()]
    allowed_set = set(allowed)
    unknown = [value for value in values if value not in allowed_set]
    if unknown or not values:
        raise InvalidQueryParameter(
            name,
            _("Unknown value(s): %(values)s. Allowed: %(allowed)s.")
            % {"values": ", ".join(unknown), "allowed": ", ".join(sorted(allowed_set))},
        )
    return values
