"""Reading a co-purchase model: the products a basket calls for, best first,
from one version (the live one for the API, a scratch one for the evaluation:
the same code either way). No stock or catalogue check here; the offers
(``commerce.recommendations.offers``) filter what this ranks.

A version's rows never change once it is built (a rebuild writes a new
version and switches to it), so each process reads what it needs of a version
once and ranks in memory: the products' popularity when the version is first
used, and each product's neighbours when a basket first holds it (at most
``NEIGHBOUR_CACHE`` products per version, least recently used dropped). Which
version serves is read on every call, so a switch is seen at once. A version is
known by its id and creation time: ids alone could come back after a test
database is flushed."""

import datetime as dt
import heapq
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from commerce.models import ModelPurpose
from commerce.sql import recommendations as sql

NEIGHBOUR_CACHE = 20_000  # products whose neighbours a process keeps per version
_NOT_BOUGHT = (0.0, 0)  # (prior, baskets) of a product no basket holds
VERSIONS_KEPT = 4  # versions a process keeps in memory (the live one, and an evaluation's scratch ones)


@dataclass(frozen=True, slots=True)
class ModelVersion:
    id: int
    method: str
    prior_weight: float
    created_at: dt.datetime | None = None


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


def model_version_active_and_curated(
    *, products: Sequence[int], purpose: str = ModelPurpose.LIVE
) -> tuple[ModelVersion | None, list[tuple[int, int, str, float, int]]]:
    """The version serving ``purpose`` and the curated relations in force
    from ``products`` ((from, to, kind, weight, relation id), best weight
    first), read together: a basket question needs both."""
    with connection.cursor() as cursor:
        cursor.execute(sql.MODEL_ACTIVE_AND_CURATED, {"purpose": purpose, "products": list(products)})
        row = cursor.fetchone()
    assert row is not None  # one row always, NULLs before the first build
    curated = json.loads(row[4]) if isinstance(row[4], str) else row[4]
    model = None if row[0] is None else _version(row[:4])
    return model, [(a, b, kind, float(weight), rid) for a, b, kind, weight, rid in curated]


def model_version_of(
    model_id: int, method: str, parameters: dict[str, Any], created_at: dt.datetime | None
) -> ModelVersion:
    return _version((model_id, method, parameters, created_at))


def _version(row: Sequence[Any]) -> ModelVersion:
    model_id, method, parameters, created_at = row
    if isinstance(parameters, str):  # Django's psycopg backend leaves jsonb as text on raw cursors
        parameters = json.loads(parameters)
    return ModelVersion(
        id=model_id,
        method=method,
        prior_weight=float((parameters or {}).get("prior_weight", 0.0)),
        created_at=created_at,
    )


def basket_scores(*, model: ModelVersion, basket: Sequence[int], limit: int) -> list[ScoredProduct]:
    """The ``limit`` products ``basket`` calls for most, none of its own: the
    sum of the scores from every basket product plus the weighted popularity
    prior, over the products some basket product scores and the most bought
    ones (so a basket nothing speaks for still gets the best sellers).
    ``because``/``together``: the basket product that contributes most (the
    highest score, then the lowest id), and in how many baskets the two were
    bought together, for the reason shown."""
    rows = _rows_of(model)
    own = set(basket)
    summed: dict[int, list[Any]] = {}  # product -> [score sum, best score, because, together]
    for product_id, neighbours in rows.neighbours_of(sorted(own)).items():
        for other, score, both in neighbours:
            entry = summed.get(other)
            if entry is None:
                summed[other] = [score, score, product_id, both]
                continue
            entry[0] += score
            if score > entry[1] or (score == entry[1] and product_id < entry[2]):
                entry[1:] = [score, product_id, both]
    candidates = set(summed).union(rows.popular[: limit + len(basket)]) - own
    items, prior_weight = rows.items, model.prior_weight
    keyed = []  # (-score, product): the order kept, and only the best become ScoredProducts
    for product_id in candidates:
        entry = summed.get(product_id)
        prior = prior_weight * items.get(product_id, _NOT_BOUGHT)[0]
        keyed.append((-(prior if entry is None else entry[0] + prior), product_id))
    ranked = []
    for negative, product_id in heapq.nsmallest(limit, keyed):
        baskets = items.get(product_id, _NOT_BOUGHT)[1]
        best = summed.get(product_id)
        because = None if best is None else best[2]
        together = None if best is None else best[3]
        ranked.append(ScoredProduct(product_id, -negative, because, together, baskets))
    return ranked


class _VersionRows:
    """What a process has read of one version."""

    def __init__(self, model_id: int) -> None:
        self.model_id = model_id
        with connection.cursor() as cursor:
            cursor.execute(sql.VERSION_ITEMS, {"model": model_id})
            rows = cursor.fetchall()
        self.items: dict[int, tuple[float, int]] = {pid: (prior, baskets) for pid, prior, baskets in rows}
        self.popular: list[int] = [pid for pid, _prior, _baskets in rows]
        self._neighbours: OrderedDict[int, list[tuple[int, float, int]]] = OrderedDict()
        self._lock = threading.Lock()

    def neighbours_of(self, product_ids: Sequence[int]) -> dict[int, list[tuple[int, float, int]]]:
        found: dict[int, list[tuple[int, float, int]]] = {}
        with self._lock:
            for pid in product_ids:
                if (known := self._neighbours.get(pid)) is not None:
                    self._neighbours.move_to_end(pid)
                    found[pid] = known
        missing = [pid for pid in product_ids if pid not in found]
        if missing:
            read: dict[int, list[tuple[int, float, int]]] = {pid: [] for pid in missing}
            with connection.cursor() as cursor:
                cursor.execute(sql.VERSION_NEIGHBOURS, {"model": self.model_id, "products": missing})
                for pid, other, score, together in cursor.fetchall():
                    read[pid].append((other, score, together))
            with self._lock:
                self._neighbours.update(read)
                while len(self._neighbours) > NEIGHBOUR_CACHE:
                    self._neighbours.popitem(last=False)
            found.update(read)
        return found


_versions: OrderedDict[tuple[int, dt.datetime | None], _VersionRows] = OrderedDict()
_versions_lock = threading.Lock()


def _rows_of(model: ModelVersion) -> _VersionRows:
    key = (model.id, model.created_at)
    with _versions_lock:
        rows = _versions.get(key)
    if rows is None:
        rows = _VersionRows(model.id)
        with _versions_lock:
            _versions[key] = rows
            while len(_versions) > VERSIONS_KEPT:
                _versions.popitem(last=False)
    return rows
