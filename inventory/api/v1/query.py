"""Query parameters declared once: each declaration reads its value through
gateway/api/params.py (the one parsing rule of every endpoint) and writes its
OpenAPI parameter from the same name, bounds and default, so what a view
accepts and what its schema documents cannot drift apart."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from gateway.api.params import (
    MAX_TEXT_LENGTH,
    code_schema,
    float_param,
    instant_param,
    int_param,
    list_param,
    text_param,
    text_schema,
)
from gateway.api.problems import InvalidQueryParameter


@dataclass(frozen=True)
class CodeList:
    """Codes, repeated or comma-separated, at most ``limit`` once duplicates
    are dropped; ``missing`` (a message) makes at least one required."""

    name: str
    limit: int
    missing: Promise | None = None
    description: str = ""

    def parameter(self) -> OpenApiParameter:
        least = {"minItems": 1} if self.missing is not None else {}
        schema = {"type": "array", "items": code_schema(required=True), **least, "maxItems": self.limit}
        return OpenApiParameter(
            self.name, schema, required=self.missing is not None, explode=True, description=self.description
        )

    def read(self, request: Request) -> list[str]:
        values = list_param(request, self.name, limit=self.limit)
        if not values and self.missing is not None:
            raise InvalidQueryParameter(self.name, str(self.missing), code="required")
        return values


@dataclass(frozen=True)
class Text:
    """Free text or a code of at most ``max_length`` printable characters."""

    name: str
    max_length: int = MAX_TEXT_LENGTH
    description: str = ""

    def parameter(self) -> OpenApiParameter:
        return OpenApiParameter(self.name, text_schema(max_length=self.max_length), description=self.description)

    def read(self, request: Request) -> str | None:
        return text_param(request, self.name, max_length=self.max_length)


@dataclass(frozen=True)
class Number:
    """A decimal number from ``low`` to ``high``; ``default`` when absent."""

    name: str
    low: float
    high: float
    default: float | None = None
    description: str = ""

    def parameter(self) -> OpenApiParameter:
        return OpenApiParameter(
            self.name, _bounded("number", self.low, self.high, self.default), description=self.description
        )

    def read(self, request: Request) -> float | None:
        return float_param(request, self.name, low=self.low, high=self.high, default=self.default)


@dataclass(frozen=True)
class Whole:
    """A whole number from ``low`` to ``high``, ``default`` when absent."""

    name: str
    low: int
    high: int
    default: int
    description: str = ""

    def parameter(self) -> OpenApiParameter:
        return OpenApiParameter(
            self.name, _bounded("integer", self.low, self.high, self.default), description=self.description
        )

    def read(self, request: Request) -> int:
        return int_param(request, self.name, low=self.low, high=self.high, default=self.default)


@dataclass(frozen=True)
class Instant:
    """An RFC 3339 instant with its offset."""

    name: str
    description: str = ""

    def parameter(self) -> OpenApiParameter:
        return OpenApiParameter(self.name, OpenApiTypes.DATETIME, description=self.description)

    def read(self, request: Request) -> dt.datetime | None:
        return instant_param(request, self.name)


def _bounded(kind: str, low: float, high: float, default: float | None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": kind, "minimum": low, "maximum": high}
    return schema if default is None else {**schema, "default": default}
