"""Bulk stock sync: up to SYNC_MAX_LINES lines of {sku, location, on_hand |
delta [, expected_on_hand]} in one request.

Lines are validated in plain Python (no serializer per line), SKUs and
location codes resolved with one query each, and the batch applied by the
set-based engine (inventory.services.changes). ``reject_all`` applies
nothing when any line is bad; ``apply_valid`` applies the good lines and
reports each bad one with its index and code."""

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inventory.errors import SyncRejected
from inventory.models import MovementReason
from inventory.selectors.locations import stock_locations_of
from inventory.services.changes import (
    APPLIED,
    FAILED,
    ChangeOutcome,
    ChangesRejected,
    StockChanges,
    stock_changes_apply,
)
from inventory.services.stock import MAX_QUANTITY
from inventory.specs import Choice, Items, Record, Text, Whole
from inventory.sql import PRODUCTS_BY_OWNER_AND_SKU
from partners.callers import Caller

# One request carries at most this many lines; larger feeds go as several
# requests. 5,000 lines of about 80 bytes are some 400 KB of JSON, well under
# the 4 MiB body cap, and a batch commits in a fraction of a second.
SYNC_MAX_LINES = 5000
REJECT_ALL = "reject_all"
APPLY_VALID = "apply_valid"
ERROR_POLICIES = (REJECT_ALL, APPLY_VALID)


# One line of a sync, declared once: ``_line_problem`` checks lines with these
# rules and the OpenAPI schema is written from them (inventory/specs.py). A
# null quantity reads as absent. The oneOf says what the check says in code:
# exactly one of on_hand and delta, and expected_on_hand only beside on_hand.
_SKU = Text(64, 1, printable=True, description="The SKU among the products of the location's owner.")
_LOCATION = Text(64, 1, printable=True, description="Location code.")
_ON_HAND = Whole(0, MAX_QUANTITY, nullable=True, description="Absolute on hand (or send delta).")
_DELTA = Whole(-MAX_QUANTITY, MAX_QUANTITY, nullable=True, description="Signed change (or send on_hand).")
_EXPECTED = Whole(
    0, MAX_QUANTITY, nullable=True, description="With on_hand: fail the line unless on hand is this (compare-and-swap)."
)
SYNC_LINE = Record(
    fields={"sku": _SKU, "location": _LOCATION, "on_hand": _ON_HAND, "delta": _DELTA, "expected_on_hand": _EXPECTED},
    required=("sku", "location"),
    rules={
        "oneOf": [
            {"required": ["on_hand"], "properties": {"on_hand": {"type": "integer"}}},
            {"required": ["delta"], "properties": {"delta": {"type": "integer"}, "expected_on_hand": {"type": "null"}}},
        ]
    },
    description=(
        "Printable sku and location; exactly one of on_hand and delta (null is absent); expected_on_hand only "
        "with on_hand. Under `apply_valid` a line that breaks these is reported in `results`, not refused. "
        "Fields not listed here are refused (error code `invalid_line`)."
    ),
)

# The request around the lines (the view checks it with these rules). A batch
# over SYNC_MAX_LINES is refused whole with 413 batch_too_large, so the schema
# states the limit in words only.
SYNC_POLICY = Choice(ERROR_POLICIES, default=REJECT_ALL)
SYNC_REFERENCE = Text(120, description="Your feed or file reference.")
SYNC_LINES = Items(
    SYNC_LINE,
    min_items=1,
    max_items=SYNC_MAX_LINES,
    over_max=413,
    description=f"1 to {SYNC_MAX_LINES} lines (413 above).",
)
SYNC_REQUEST = Record(
    fields={"error_policy": SYNC_POLICY, "reference": SYNC_REFERENCE, "lines": SYNC_LINES}, required=("lines",)
)

_LINE_KEYS = SYNC_LINE.names
_CODE_RULES = (("sku", _SKU), ("location", _LOCATION))


@dataclass(frozen=True)
class LineError:
    index: int
    field: str
    code: str
    message: str

    def as_error(self) -> dict[str, str]:
        return {
            "field": f"lines.{self.index}{'.' + self.field if self.field else ''}",
            "code": self.code,
            "message": self.message,
        }


@dataclass(frozen=True)
class SyncReport:
    results: list[dict[str, Any]]
    applied: int
    unchanged: int
    failed: int


def stock_sync(
    *, caller: Caller, lines: list[Any], error_policy: str, reference: str = "", idempotency_key: str = ""
) -> SyncReport:
    """Validate, resolve and apply ``lines``. Raises SyncRejected (422, with
    per-line ``errors``) under ``reject_all`` when any line fails."""
    parsed, errors = _parse(lines)
    changes, line_of_change = _resolve(caller, parsed, errors)
    if errors and error_policy == REJECT_ALL:
        raise _rejected(errors)
    try:
        outcomes = stock_changes_apply(
            changes=changes,
            reason=MovementReason.SYNC,
            actor_id=caller.client.pk,
            reference=reference,
            idempotency_key=idempotency_key,
            all_or_nothing=error_policy == REJECT_ALL,
        )
    except ChangesRejected as rejected:
        raise _rejected(_outcome_errors(rejected.outcomes, line_of_change)) from None
    errors.extend(_outcome_errors(outcomes, line_of_change))
    return _report(len(lines), outcomes, line_of_change, errors)


# (index, sku, location code, quantity, is_set, expected_on_hand)
Parsed = tuple[int, str, str, int, bool, int | None]


def _parse(lines: list[Any]) -> tuple[list[Parsed], list[LineError]]:
    parsed: list[Parsed] = []
    errors: list[LineError] = []
    for index, line in enumerate(lines):
        problem = _line_problem(line)
        if problem is not None:
            errors.append(LineError(index, *problem))
            continue
        on_hand = line.get("on_hand")
        is_set = on_hand is not None
        parsed.append(
            (
                index,
                line["sku"],
                line["location"],
                on_hand if is_set else line["delta"],
                is_set,
                line.get("expected_on_hand"),
            )
        )
    return parsed, errors


def _line_problem(line: Any) -> tuple[str, str, str] | None:
    """(field, code, message) of the first thing wrong with one raw line
    (SYNC_LINE's rules, in this order), or None."""
    if type(line) is not dict:
        return "", "invalid_line", _("Each line must be an object.")
    if not line.keys() <= _LINE_KEYS:
        return "", "invalid_line", _("Unknown field(s); a line has sku, location, on_hand or delta, expected_on_hand.")
    for name, rule in _CODE_RULES:
        if not rule.accepts(line.get(name)):
            return name, "invalid_" + name, _("A non-empty printable string of at most 64 characters is required.")
    on_hand, delta, expected = line.get("on_hand"), line.get("delta"), line.get("expected_on_hand")
    if (on_hand is None) == (delta is None):
        return "", "invalid_quantity", _("Give exactly one of on_hand (absolute) and delta (relative).")
    name, value, bounds = ("on_hand", on_hand, _ON_HAND) if delta is None else ("delta", delta, _DELTA)
    if not bounds.accepts(value):
        if type(value) is int and abs(value) > bounds.maximum and (value > 0 or bounds.minimum < 0):
            return name, "quantity_too_large", _("At most %(max)d.") % {"max": bounds.maximum}
        return name, "invalid_quantity", _("A whole number is required (on_hand at least 0).")
    if expected is not None and (delta is not None or not _EXPECTED.accepts(expected)):
        return "expected_on_hand", "invalid_quantity", _("expected_on_hand is a whole number sent with on_hand.")
    return None


def _resolve(caller: Caller, parsed: list[Parsed], errors: list[LineError]) -> tuple[StockChanges, list[int]]:
    """SKUs and location codes to ids (one query each), in the caller's reach:
    a location the caller may not change is unknown to it, and a SKU is looked
    up among the products of the location's owner."""
    locations = {
        code: (pk, owner)
        for pk, code, owner in stock_locations_of(caller=caller)
        .filter(code__in={p[2] for p in parsed})
        .values_list("pk", "code", "owner_id")
    }
    products = _products_by_owner_and_sku({p[1] for p in parsed}, {owner for _pk, owner in locations.values()})
    changes, line_of_change, seen = StockChanges(), [], set()
    for index, sku, code, quantity, is_set, expected in parsed:
        location = locations.get(code)
        if location is None:
            errors.append(LineError(index, "location", "unknown_location", _("No location with this code.")))
            continue
        product_id = products.get((location[1], sku))
        if product_id is None:
            errors.append(LineError(index, "sku", "unknown_sku", _("No product with this SKU at this location.")))
            continue
        if (product_id, location[0]) in seen:
            errors.append(LineError(index, "", "duplicate_line", _("Another line of this batch names this level.")))
            continue
        seen.add((product_id, location[0]))
        changes.add(
            product_id=product_id,
            location_id=location[0],
            quantity=quantity,
            is_set=is_set,
            sku=sku,
            location_code=code,
            audience=location[1],
            expected_on_hand=expected,
        )
        line_of_change.append(index)
    return changes, line_of_change


def _products_by_owner_and_sku(skus: set[str], owners: set[int | None]) -> dict[tuple[int | None, str], int]:
    if not skus or not owners:
        return {}
    partner_ids = [owner for owner in owners if owner is not None]
    with connection.cursor() as cursor:
        cursor.execute(
            PRODUCTS_BY_OWNER_AND_SKU,
            [list(skus), partner_ids, None in owners],
        )
        return {(owner, sku): pk for owner, sku, pk in cursor.fetchall()}


_OUTCOME_MESSAGES = {
    "below_reserved": gettext_lazy("On hand cannot go below the quantity reserved by orders."),
    "insufficient_stock": gettext_lazy("Not enough stock for this delta."),
    "on_hand_mismatch": gettext_lazy("On hand is not the expected_on_hand sent."),
    "quantity_too_large": gettext_lazy("The resulting on hand is too large."),
}


def _outcome_errors(outcomes: list[ChangeOutcome], line_of_change: list[int]) -> list[LineError]:
    return [
        LineError(line_of_change[i], "", o.code, str(_OUTCOME_MESSAGES.get(o.code, o.code)))
        for i, o in enumerate(outcomes)
        if o.status == FAILED
    ]


def _rejected(errors: list[LineError]) -> SyncRejected:
    errors.sort(key=lambda e: e.index)
    return SyncRejected(
        _("%(count)d line(s) failed; nothing was applied.") % {"count": len(errors)},
        extra={"errors": [e.as_error() for e in errors]},
    )


def _report(
    count: int, outcomes: list[ChangeOutcome], line_of_change: list[int], errors: list[LineError]
) -> SyncReport:
    results: list[dict[str, Any]] = [{}] * count
    applied = unchanged = 0
    for index, outcome in zip(line_of_change, outcomes, strict=True):
        if outcome.status == FAILED:
            continue
        if outcome.status == APPLIED:
            applied += 1
        else:
            unchanged += 1
        results[index] = {
            "index": index,
            "status": outcome.status,
            "on_hand": outcome.on_hand,
            "reserved": outcome.reserved,
            "available": outcome.on_hand - outcome.reserved,
            "version": outcome.version,
        }
    for error in errors:
        results[error.index] = {
            "index": error.index,
            "status": FAILED,
            "code": error.code,
            "field": error.as_error()["field"],
            "message": error.message,
        }
    return SyncReport(results=results, applied=applied, unchanged=unchanged, failed=len(errors))
