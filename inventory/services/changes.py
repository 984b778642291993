"""Absolute sets and signed deltas on stock levels, one line or thousands, in
a constant number of statements: create missing levels, lock every level in
primary-key order, decide each line in Python on the locked values, then one
statement that updates the levels and inserts their movements, and one batch
of outbox events.

The per-line work is a few comparisons on lists (no model instances, no
query per line): at 20,000 lines/s the whole budget is 50 microseconds a line."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import connection, transaction
from django.utils.translation import gettext as _

from gateway.api.problems import PreconditionFailed, ProblemError
from gateway.sql import int_array
from inventory.errors import InsufficientStock, QuantityTooLarge, StockBelowReserved
from inventory.locks import lock_stock_levels_by_pairs
from inventory.models import Location, MovementReason, Product
from inventory.services.stock import MAX_QUANTITY, stock_changed_event
from inventory.sql import LEVELS_CREATE, LEVELS_DROP_EMPTY, LEVELS_SET_WITH_MOVEMENTS
from partners.services import events_record

APPLIED = "applied"
UNCHANGED = "unchanged"
FAILED = "failed"
LINE_STATUSES = (APPLIED, UNCHANGED, FAILED)


@dataclass
class StockChanges:
    """A columnar batch of changes, one per distinct (product, location).
    ``is_set`` says whether ``quantity`` is the new on-hand figure or a delta;
    ``expected_on_hand`` and ``expected_version`` are compare-and-swap guards."""

    product_ids: list[int] = field(default_factory=list)
    location_ids: list[int] = field(default_factory=list)
    quantities: list[int] = field(default_factory=list)
    is_set: list[bool] = field(default_factory=list)
    expected_on_hand: list[int | None] = field(default_factory=list)
    expected_version: list[int | None] = field(default_factory=list)
    skus: list[str] = field(default_factory=list)
    location_codes: list[str] = field(default_factory=list)
    audiences: list[int | None] = field(default_factory=list)

    def add(
        self,
        *,
        product_id: int,
        location_id: int,
        quantity: int,
        is_set: bool,
        sku: str,
        location_code: str,
        audience: int | None,
        expected_on_hand: int | None = None,
        expected_version: int | None = None,
    ) -> None:
        self.product_ids.append(product_id)
        self.location_ids.append(location_id)
        self.quantities.append(quantity)
        self.is_set.append(is_set)
        self.expected_on_hand.append(expected_on_hand)
        self.expected_version.append(expected_version)
        self.skus.append(sku)
        self.location_codes.append(location_code)
        self.audiences.append(audience)

    def __len__(self) -> int:
        return len(self.product_ids)


class ChangeOutcome(NamedTuple):
    """What happened to one line: ``status`` applied / unchanged / failed,
    ``code`` why it failed, and the level's figures after the batch (the
    figures found, for a failed or unchanged line; zeros when there is no level)."""

    status: str
    code: str = ""
    on_hand: int = 0
    reserved: int = 0
    version: int = 0


# (product id, location id) -> the locked row (id, product, location, on hand, reserved, version)
Locked = dict[tuple[int, int], tuple[int, int, int, int, int, int]]
# line index -> (stock level id, new on hand, old on hand)
Writes = dict[int, tuple[int, int, int]]


class ChangesRejected(Exception):
    """All or nothing, and some line failed: nothing was written."""

    def __init__(self, outcomes: list[ChangeOutcome]) -> None:
        super().__init__("stock changes rejected")
        self.outcomes = outcomes


def stock_changes_apply(
    *,
    changes: StockChanges,
    reason: str,
    actor_id: int | None,
    reference: str = "",
    idempotency_key: str = "",
    all_or_nothing: bool,
) -> list[ChangeOutcome]:
    """Apply ``changes``; returns one outcome per line, in order. With
    ``all_or_nothing`` a failed line raises ChangesRejected and nothing
    (not even a created level) remains."""
    if not len(changes):
        return []
    with transaction.atomic():
        locked, created = _levels_lock(changes)
        outcomes, writes = _decide(changes, locked)
        if all_or_nothing and any(o.status == FAILED for o in outcomes):
            raise ChangesRejected(outcomes)
        _levels_drop_failed(created, changes, outcomes, locked)
        if writes:
            outcomes = _write(changes, outcomes, writes, reason, actor_id, reference, idempotency_key)
    return outcomes


def _levels_lock(changes: StockChanges) -> tuple[Locked, set[tuple[int, int]]]:
    """Lock the levels of the batch: those that exist, in primary-key order;
    then create the ones a set or a positive delta needs and lock them too.
    Returns the locked rows by (product, location) and the pairs created."""
    pairs = list(zip(changes.product_ids, changes.location_ids, strict=True))
    rows = lock_stock_levels_by_pairs(product_ids=changes.product_ids, location_ids=changes.location_ids)
    locked: Locked = {(row[1], row[2]): row for row in rows}
    missing = sorted(
        {pair for pair, q, s in zip(pairs, changes.quantities, changes.is_set, strict=True) if s or q > 0}
        - locked.keys()
    )
    if not missing:
        return locked, set()
    created = _levels_create(missing)
    products, locations = zip(*missing, strict=True)
    for row in lock_stock_levels_by_pairs(product_ids=products, location_ids=locations):
        locked[(row[1], row[2])] = row
    return locked, created


def _levels_create(pairs: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """Create levels at on hand 0 (what their empty ledger sums to), in
    (product, location) order, the unique index's order, so two batches
    creating the same levels queue instead of deadlocking. A level another
    transaction created meanwhile is left as it is. Returns the pairs created."""
    products, locations = zip(*pairs, strict=True)
    with connection.cursor() as cursor:
        cursor.execute(
            LEVELS_CREATE,
            [int_array(products), int_array(locations)],
        )
        return {(row[0], row[1]) for row in cursor.fetchall()}


def _decide(changes: StockChanges, locked: Locked) -> tuple[list[ChangeOutcome], Writes]:
    """Each line against its locked level: the hot loop of a bulk sync."""
    outcomes: list[ChangeOutcome] = []
    writes: Writes = {}
    for index, (key, quantity, is_set, expected, version_wanted) in enumerate(_lines(changes)):
        row = locked.get(key)
        if row is None:  # a negative delta on a level that does not exist
            outcomes.append(ChangeOutcome(FAILED, "insufficient_stock"))
            continue
        level_id, _p, _l, on_hand, reserved, version = row
        new = quantity if is_set else on_hand + quantity
        if expected is not None and expected != on_hand:
            code = "on_hand_mismatch"
        elif version_wanted is not None and version_wanted != version:
            code = "version_mismatch"
        elif new == on_hand:
            outcomes.append(ChangeOutcome(UNCHANGED, "", on_hand, reserved, version))
            continue
        elif new > MAX_QUANTITY:
            code = "quantity_too_large"
        elif new < reserved:
            code = "below_reserved" if is_set else "insufficient_stock"
        else:
            writes[index] = (level_id, new, on_hand)
            outcomes.append(ChangeOutcome(APPLIED, "", new, reserved, version + 1))
            continue
        outcomes.append(ChangeOutcome(FAILED, code, on_hand, reserved, version))
    return outcomes, writes


def _lines(changes: StockChanges) -> Iterator[tuple[tuple[int, int], int, bool, int | None, int | None]]:
    return zip(
        zip(changes.product_ids, changes.location_ids, strict=True),
        changes.quantities,
        changes.is_set,
        changes.expected_on_hand,
        changes.expected_version,
        strict=True,
    )


def _levels_drop_failed(
    created: set[tuple[int, int]], changes: StockChanges, outcomes: list[ChangeOutcome], locked: Locked
) -> None:
    """A level created for a line that then failed (a guard mismatch) goes
    away again, so a failed line leaves no trace. (A set to 0 of a level not
    held yet keeps it: the location now lists the product, at 0.)"""
    failed = sorted(
        locked[pair][0]
        for pair, outcome in zip(zip(changes.product_ids, changes.location_ids, strict=True), outcomes, strict=True)
        if outcome.status == FAILED and pair in created and pair in locked
    )
    if failed:
        with connection.cursor() as cursor:
            cursor.execute(LEVELS_DROP_EMPTY, [int_array(failed)])


def _write(
    changes: StockChanges,
    outcomes: list[ChangeOutcome],
    writes: Writes,
    reason: str,
    actor_id: int | None,
    reference: str,
    idempotency_key: str,
) -> list[ChangeOutcome]:
    level_ids, new_values, old_values = zip(*writes.values(), strict=True)
    with connection.cursor() as cursor:
        cursor.execute(
            LEVELS_SET_WITH_MOVEMENTS,
            [
                int_array(level_ids),
                int_array(new_values),
                int_array(old_values),
                reason,
                actor_id,
                idempotency_key,
                reference,
            ],
        )
        after = {row[0]: (row[1], row[2]) for row in cursor.fetchall()}
    if len(after) != len(writes):  # impossible while the rows are locked; never write a partial batch
        raise RuntimeError("stock levels changed under their row locks")
    return _record_events(changes, outcomes, writes, after, reason)


def _record_events(
    changes: StockChanges,
    outcomes: list[ChangeOutcome],
    writes: Writes,
    after: dict[int, tuple[int, int]],
    reason: str,
) -> list[ChangeOutcome]:
    events = []
    for index, (level_id, new, _old) in writes.items():
        reserved, version = after[level_id]
        outcomes[index] = ChangeOutcome(APPLIED, "", new, reserved, version)
        events.append(
            stock_changed_event(
                sku=changes.skus[index],
                location_code=changes.location_codes[index],
                owner_id=changes.audiences[index],
                on_hand=new,
                reserved=reserved,
                reason=reason,
                version=version,
            )
        )
    events_record(events=events)
    return outcomes


def stock_set(
    *,
    location: Location,
    product: Product,
    on_hand: int,
    expected_on_hand: int | None = None,
    expected_version: int | None = None,
    actor_id: int | None = None,
    reference: str = "",
) -> ChangeOutcome:
    """Set one level's on-hand figure, guarded by the version the client read
    (If-Match) and/or the quantity it expects to replace (compare-and-swap).
    A level that does not exist yet counts as on hand 0."""
    changes = StockChanges()
    changes.add(
        product_id=product.pk,
        location_id=location.pk,
        quantity=on_hand,
        is_set=True,
        sku=product.sku,
        location_code=location.code,
        audience=product.owner_id,
        expected_on_hand=expected_on_hand,
        expected_version=expected_version,
    )
    return _one(changes, reason=MovementReason.ADJUSTMENT, actor_id=actor_id, reference=reference)


def stock_adjust(
    *,
    location: Location,
    product: Product,
    delta: int,
    reason: str,
    actor_id: int | None = None,
    reference: str = "",
    idempotency_key: str = "",
) -> ChangeOutcome:
    """Move one level's on-hand figure by ``delta`` (a count correction, a
    till sale, a customer return), never below what orders reserved."""
    changes = StockChanges()
    changes.add(
        product_id=product.pk,
        location_id=location.pk,
        quantity=delta,
        is_set=False,
        sku=product.sku,
        location_code=location.code,
        audience=product.owner_id,
    )
    return _one(changes, reason=reason, actor_id=actor_id, reference=reference, idempotency_key=idempotency_key)


def _one(changes: StockChanges, *, reason: str, actor_id: int | None, **kwargs: str) -> ChangeOutcome:
    try:
        return stock_changes_apply(changes=changes, reason=reason, actor_id=actor_id, all_or_nothing=True, **kwargs)[0]
    except ChangesRejected as rejected:
        raise _single_line_error(rejected.outcomes[0]) from None


def _single_line_error(outcome: ChangeOutcome) -> ProblemError:
    current = {"on_hand": outcome.on_hand, "reserved": outcome.reserved, "version": outcome.version}
    if outcome.code in {"on_hand_mismatch", "version_mismatch"}:
        return PreconditionFailed(
            _("The stock level changed since you read it (now on hand %(on_hand)d, version %(version)d).") % current,
            extra={"current": current},
        )
    if outcome.code == "below_reserved":
        return StockBelowReserved(
            _("On hand cannot go below the %(reserved)d unit(s) reserved by orders.") % current,
            extra={"current": current},
        )
    if outcome.code == "quantity_too_large":
        return QuantityTooLarge(
            _("On hand may not exceed %(max)d.") % {"max": MAX_QUANTITY}, extra={"current": current}
        )
    return InsufficientStock(
        _("Not enough stock: %(available)d available.") % {"available": max(outcome.on_hand - outcome.reserved, 0)},
        extra={"current": current},
    )
