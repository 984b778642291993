"""Query parameters of the footfall endpoints, parsed strictly: a bad value
is a 400 ``invalid_query_parameter`` naming the parameter."""

import datetime as dt
from collections.abc import Iterable

from django.utils.translation import gettext as _
from rest_framework.request import Request

from gateway.api.problems import InvalidQueryParameter


def text_param(request: Request, name: str, *, required: bool = False, max_length: int = 64) -> str | None:
    raw = request.query_params.get(name)
    if not raw:
        if required:
            raise InvalidQueryParameter(name, _("This parameter is required."), code="required")
        return None
    if len(raw) > max_length:
        raise InvalidQueryParameter(name, _("At most %(n)d characters.") % {"n": max_length})
    return raw


def date_param(request: Request, name: str, *, required: bool = False) -> dt.date | None:
    raw = text_param(request, name, required=required)
    if raw is None:
        return None
    try:
        if len(raw) == 10:
            return dt.date.fromisoformat(raw)
    except ValueError:
        pass
    raise InvalidQueryParameter(name, _("Expected a date as YYYY-MM-DD."))


def date_range_params(request: Request, *, max_days: int) -> tuple[dt.date, dt.date]:
    """``from`` and ``to``, store-local dates, both included."""
    first = date_param(request, "from", required=True)
    last = date_param(request, "to", required=True)
    assert first is not None
    assert last is not None
    if last < first:
        raise InvalidQueryParameter("to", _("to is on or after from."))
    if (last - first).days + 1 > max_days:
        raise InvalidQueryParameter("to", _("At most %(n)d days per request.") % {"n": max_days}, code="range_too_long")
    return first, last


def choice_param(request: Request, name: str, allowed: Iterable[str], *, default: str | None = None) -> str | None:
    raw = request.query_params.get(name)
    if not raw:
        return default
    allowed = list(allowed)
    if raw not in allowed:
        raise InvalidQueryParameter(name, _("Expected one of: %(allowed)s.") % {"allowed": ", ".join(allowed)})
    return raw


def instant_param(request: Request, name: str) -> dt.datetime | None:
    """An RFC 3339 timestamp with its offset (a time without one is ambiguous)."""
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None or len(raw) < 16:
        raise InvalidQueryParameter(name, _("Expected an RFC 3339 timestamp with offset, e.g. 2026-03-29T00:00:00Z."))
    return value
