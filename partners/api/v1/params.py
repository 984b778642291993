"""Query parameters of the events and webhooks endpoints, parsed strictly:
every bad value is a 400 ``invalid_query_parameter`` problem."""

import datetime as dt
from collections.abc import Collection

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from rest_framework.request import Request

from gateway.api.problems import InvalidQueryParameter

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50


def page_size_param(request: Request) -> int:
    raw = request.query_params.get("page_size")
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise InvalidQueryParameter("page_size", _("page_size must be an integer from 1 to %d.") % MAX_PAGE_SIZE)
    return int(raw)


def choices_param(request: Request, name: str, allowed: Collection[str]) -> list[str]:
    """A repeatable parameter (``?type=a&type=b``, or ``?type=a,b``) whose values come from ``allowed``."""
    values = [v.strip() for raw in request.query_params.getlist(name) for v in raw.split(",") if v.strip()]
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise InvalidQueryParameter(
            name,
            _("Unknown value(s) %(values)s; allowed: %(allowed)s.")
            % {
                "values": ", ".join(unknown),
                "allowed": ", ".join(sorted(allowed)),
            },
        )
    return sorted(set(values))


def updated_since_param(request: Request) -> dt.datetime | None:
    raw = request.query_params.get("updated_since")
    if raw is None:
        return None
    try:
        value = parse_datetime(raw.replace(" ", "+"))  # a "+" left unencoded in a query string arrives as a space
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise InvalidQueryParameter(
            "updated_since", _("updated_since must be an RFC 3339 timestamp with an offset, e.g. 2026-11-22T10:00:00Z.")
        )
    return value
