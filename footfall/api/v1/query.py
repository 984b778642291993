"""Query parameters of the footfall reads, declared once: each declaration
reads its value through gateway/api/params.py (the one parsing rule of every
endpoint) and writes its OpenAPI parameter from the same name, choices and
bounds, so what a view accepts and what the schema documents cannot drift
apart (``tests/footfall/test_query.py`` checks the schema's parameters are
these)."""

import datetime as dt
from dataclasses import dataclass

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from gateway.api import params


@dataclass(frozen=True)
class Code:
    """A code naming a row (a store); ``required`` only where the schema can
    say so (a requirement that depends on the caller is read with ``need``)."""

    name: str
    description: str = ""

    def parameters(self) -> list[OpenApiParameter]:
        return [OpenApiParameter(self.name, params.code_schema(), description=self.description)]

    def read(self, request: Request, *, need: bool = False) -> str | None:
        return params.code_param(request, self.name, required=need)


@dataclass(frozen=True)
class Choice:
    """One value out of ``values``; ``default`` when absent."""

    name: str
    values: tuple[str, ...]
    default: str | None = None
    description: str = ""

    def parameters(self) -> list[OpenApiParameter]:
        return [OpenApiParameter(self.name, OpenApiTypes.STR, enum=list(self.values), description=self.description)]

    def read(self, request: Request) -> str | None:
        return params.choice_param(request, self.name, self.values, default=self.default)


@dataclass(frozen=True)
class DayRange:
    """``from`` and ``to``, store-local days, both included and required."""

    description_from: str = "First store-local day."
    description_to: str = "Last store-local day (included)."

    def parameters(self) -> list[OpenApiParameter]:
        return [
            OpenApiParameter("from", OpenApiTypes.DATE, required=True, description=self.description_from),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True, description=self.description_to),
        ]

    def read(self, request: Request, *, max_days: int) -> tuple[dt.date, dt.date]:
        return params.date_range_params(request, max_days=max_days)
