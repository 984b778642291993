"""Reading a co-purchase model: the products a basket calls for, best first,
from one version (the live one for the API, a scratch one for the evaluation:
the same statement either way). No stock or catalogue check here; the offers
(``commerce.recommendations.offers``) filter what this ranks."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from commerce.models import ModelPurpose
from commerce.sql import recommendations as sql


@dataclass(frozen=True, slots=True)
class ModelVersion:
    id: int
    method: str
    prior_weight: float


@dataclass(frozen=True, slots=True)
class ScoredProduct:
    """``because``: the basket product that speaks most for this one, and
    ``together`` the baskets holding both (None: only popularity did)."""

    product_id: int
    score: float
    because: int | None
    together: int | None
    baskets: int


def model_version_active(*, purpose: str = ModelPurpose.LIVE) -> ModelVersion | None:
    """The version serving ``purpose``; None before the first build."""
    with connection.cursor() as cursor:
        cursor.execute(sql.MODEL_ACTIVE, {"purpose": purpose})
        row = cursor.fetchone()
    return None if row is None else _version(row)


def model_version_of(model_id: int, method: str, parameters: dict[str, Any]) -> ModelVersion:
    return _version((model_id, method, parameters))


def _version(row: Sequence[Any]) -> ModelVersion:
    model_id, method, parameters = row
    if isinstance(parameters, str):  # Django's psycopg backend leaves jsonb as text on raw cursors
        parameters = json.loads(parameters)
    return ModelVersion(id=model_id, method=method, prior_weight=float((parameters or {}).get("prior_weight", 0.0)))


def basket_scores(*, model: ModelVersion, basket: Sequence[int], limit: int) -> list[ScoredProduct]:
    """The ``limit`` products ``basket`` calls for most, none of its own."""
    with connection.cursor() as cursor:
        cursor.execute(
            sql.BASKET_SCORES,
            {
                "model": model.id,
                "basket": list(basket),
                "prior_weight": model.prior_weight,
                "popular": limit + len(basket),
                "limit": limit,
            },
        )
        return [ScoredProduct(*row) for row in cursor.fetchall()]
