"""Building the co-purchase model: a new version is mined and written beside
the one serving, then switched to in one statement, so reads never wait for a
rebuild and never see half of one; old versions are dropped after the switch
(a read already running keeps its snapshot of them, PostgreSQL's MVCC).

A live build is requested (``co_purchase_rebuild_request``: nightly by beat,
or by the operator through the API) as a ``building`` row, which a Celery task
then builds by id (``co_purchase_model_build``). A partial unique constraint
allows one live build at a time; a build whose worker died is run again by the
task's redelivery (``acks_late``) and starts over, its partial rows dropped
first; one older than ``STALE_BUILD`` is marked failed when a new one is asked.

Evaluation builds go to the scratch area (purpose ``scratch``): same code, never
activated, dropped by the evaluation when done."""

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Now
from django.utils import timezone

from commerce.models import CoPurchaseActive, CoPurchaseModel, ModelPurpose, ModelState
from commerce.recommendations.mining import EASE, MinedModel, co_purchase_mine
from commerce.sql import recommendations as sql
from inventory.models import Product
from partners.models import ApiClient

logger = logging.getLogger(__name__)

# A live build of a million order lines takes well under a minute
# (loadtests/bench_recommendations.py); one still "building" after an hour lost
# its worker for good and would block every later request.
STALE_BUILD = dt.timedelta(hours=1)


@dataclass(frozen=True)
class RebuildRequest:
    model: CoPurchaseModel
    created: bool


def co_purchase_rebuild_request(*, requested_by: ApiClient | None = None, enqueue: bool = True) -> RebuildRequest:
    """A live build to run: a new ``building`` row and its task (published
    after commit, unless ``enqueue`` is False: the caller builds it itself), or
    the build already under way (``created`` False)."""
    CoPurchaseModel.objects.filter(
        purpose=ModelPurpose.LIVE, state=ModelState.BUILDING, created_at__lt=Now() - STALE_BUILD
    ).update(state=ModelState.FAILED, error="stale: no progress within an hour", finished_at=Now())
    try:
        with transaction.atomic():
            model = CoPurchaseModel.objects.create(purpose=ModelPurpose.LIVE, method=EASE, requested_by=requested_by)
    except IntegrityError:
        running = CoPurchaseModel.objects.filter(purpose=ModelPurpose.LIVE, state=ModelState.BUILDING).first()
        if running is None:  # it finished between the insert and this read: ask again
            return co_purchase_rebuild_request(requested_by=requested_by, enqueue=enqueue)
        return RebuildRequest(running, created=False)
    if not enqueue:
        return RebuildRequest(model, created=True)
    from commerce.recommendations.tasks import co_purchase_model_rebuild  # the tasks module imports this one

    transaction.on_commit(lambda: co_purchase_model_rebuild.delay(model.pk), robust=True)
    return RebuildRequest(model, created=True)


def co_purchase_model_build(*, model_id: int) -> CoPurchaseModel | None:
    """Build the requested live version ``model_id`` from collected orders
    and imported baskets, switch to it, drop the versions it replaces.
    Idempotent: a version no longer ``building`` is left as it is."""
    model = CoPurchaseModel.objects.filter(pk=model_id).first()
    if model is None or model.state != ModelState.BUILDING:
        return model
    try:
        _drop_rows([model.pk])  # rows of a run that lost its worker
        store_baskets, imported = _baskets_to_mine()
        baskets = [ids for _store, ids in store_baskets] + imported
        mined = co_purchase_mine(baskets, method=model.method, progress=lambda share: _progress(model, 60 * share))
        _write(model, mined, store_baskets=store_baskets)
        _finish(model, mined, activate=True)
    except Exception as exc:
        logger.exception("co-purchase build %s failed", model.pk)
        _drop_rows([model.pk])
        CoPurchaseModel.objects.filter(pk=model.pk).update(
            state=ModelState.FAILED, error=str(exc)[:500], finished_at=Now()
        )
        raise
    _drop_replaced(ModelPurpose.LIVE)
    model.refresh_from_db()
    return model


def co_purchase_scratch_build(*, baskets: Iterable[Sequence[int]], method: str) -> CoPurchaseModel:
    """A version in the scratch area, mined from ``baskets`` with ``method``
    by the same code as the live one; never served. The caller drops it with
    :func:`co_purchase_scratch_drop`."""
    model = CoPurchaseModel.objects.create(purpose=ModelPurpose.SCRATCH, method=method)
    mined = co_purchase_mine(baskets, method=method)
    _write(model, mined, store_baskets=[], categories={})
    _finish(model, mined, activate=False)
    return model


def co_purchase_scratch_drop(*, models: Sequence[CoPurchaseModel]) -> None:
    ids = [model.pk for model in models]
    _drop_rows(ids)
    CoPurchaseModel.objects.filter(pk__in=ids, purpose=ModelPurpose.SCRATCH).delete()


def _baskets_to_mine() -> tuple[list[tuple[int, list[int]]], list[list[int]]]:
    with connection.cursor() as cursor:
        cursor.execute(sql.COLLECTED_BASKETS)
        store_baskets = [(store_id, list(ids)) for store_id, ids in cursor.fetchall()]
        cursor.execute(sql.IMPORTED_BASKETS)
        imported = [list(row[0]) for row in cursor.fetchall()]
    return store_baskets, imported


def _progress(model: CoPurchaseModel, percent: float) -> None:
    """Shown by the rebuild endpoint; written outside any transaction so it is seen at once."""
    CoPurchaseModel.objects.filter(pk=model.pk).update(progress=min(99, int(percent)))


def _categories_of(product_ids: Sequence[int]) -> dict[int, str]:
    """Catalogue categories, copied into the version for cold-start reads."""
    categories: dict[int, str] = {}
    for start in range(0, len(product_ids), 10_000):
        chunk = [int(pid) for pid in product_ids[start : start + 10_000]]
        categories.update(Product.objects.filter(pk__in=chunk).values_list("pk", "category"))
    return categories


def _store_counts(store_baskets: list[tuple[int, list[int]]]) -> list[tuple[int, int, int]]:
    """(store, product, baskets) of collected orders: each product once per order."""
    if not store_baskets:
        return []
    stores = np.concatenate([np.full(len(set(ids)), store, np.int64) for store, ids in store_baskets])
    products = np.concatenate([np.unique(np.asarray(ids, np.int64)) for _store, ids in store_baskets])
    pairs, counts = np.unique(np.stack([stores, products], axis=1), axis=0, return_counts=True)
    return [(int(s), int(p), int(c)) for (s, p), c in zip(pairs, counts, strict=True)]


def _write(
    model: CoPurchaseModel,
    mined: MinedModel,
    *,
    store_baskets: list[tuple[int, list[int]]],
    categories: dict[int, str] | None = None,
) -> None:
    """Items and scores of the version by binary COPY (about a million rows
    in a few seconds; INSERTs would take minutes)."""
    products = mined.products.tolist()
    if categories is None:
        categories = _categories_of(products)
        _progress(model, 65)
    priors = mined.priors.tolist()
    items: list[tuple[Any, ...]] = [
        (model.pk, None, pid, categories.get(pid, ""), baskets, prior)
        for pid, baskets, prior in zip(products, mined.product_baskets.tolist(), priors, strict=True)
    ]
    orders = max(len(store_baskets), 1)
    items.extend(
        (model.pk, store, pid, categories.get(pid, ""), baskets, baskets / orders)
        for store, pid, baskets in _store_counts(store_baskets)
    )
    _copy(sql.ITEMS_COPY, ["int8", "int8", "int8", "text", "int4", "float8"], items)
    _progress(model, 75)
    scores = zip(
        mined.sources.tolist(), mined.targets.tolist(), mined.scores.tolist(), mined.together.tolist(), strict=True
    )
    _copy(sql.SCORES_COPY, ["int8", "int8", "int8", "float8", "int4"], ((model.pk, *row) for row in scores))
    _progress(model, 95)


def _copy(command: str, types: list[str], rows: Iterable[Sequence[Any]]) -> None:
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor, cursor.copy(command) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def _finish(model: CoPurchaseModel, mined: MinedModel, *, activate: bool) -> None:
    """The version is ready and, for a live one, serves from now on: both in
    one transaction, so state and switch agree."""
    model.state = ModelState.READY
    model.progress = 100
    model.parameters = mined.parameters
    model.basket_count = mined.basket_count
    model.item_count = int(mined.products.size)
    model.score_count = int(mined.scores.size)
    model.finished_at = timezone.now()
    with transaction.atomic():
        model.save(
            update_fields=[
                "state",
                "progress",
                "parameters",
                "basket_count",
                "item_count",
                "score_count",
                "finished_at",
            ]
        )
        if activate:
            with connection.cursor() as cursor:
                cursor.execute(sql.MODEL_ACTIVATE, {"purpose": model.purpose, "model": model.pk})


def _drop_replaced(purpose: str) -> None:
    """Rows of the versions of ``purpose`` that no longer serve."""
    active = CoPurchaseActive.objects.filter(purpose=purpose).values_list("model_id", flat=True).first()
    if active is None:
        return
    old = list(
        CoPurchaseModel.objects.filter(purpose=purpose, state=ModelState.READY)
        .exclude(pk=active)
        .values_list("pk", flat=True)
    )
    if old:
        _drop_rows(old)
        CoPurchaseModel.objects.filter(pk__in=old).delete()


def _drop_rows(model_ids: list[int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql.SCORES_DROP, [model_ids])
        cursor.execute(sql.ITEMS_DROP, [model_ids])


def co_purchase_rebuild_get(*, model_id: int) -> CoPurchaseModel | None:
    """A live build, for its progress."""
    return CoPurchaseModel.objects.filter(pk=model_id, purpose=ModelPurpose.LIVE).first()
