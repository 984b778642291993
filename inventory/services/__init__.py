"""Writes on inventory: keyword-only services named <noun>_<verb>.

- catalog: products and locations, store bindings;
- stock: ``stock_apply`` for orders (reserve, release, sell, return);
- changes: absolute sets and deltas (``stock_set``, ``stock_adjust``, and the
  set-based engine ``stock_changes_apply`` under them);
- sync: the bulk stock sync (``stock_sync``)."""

from inventory.models import MovementReason
from inventory.services.catalog import (
    client_location_bind,
    location_create,
    location_update,
    product_create,
    product_update,
)
from inventory.services.changes import ChangeOutcome, StockChanges, stock_adjust, stock_changes_apply, stock_set
from inventory.services.stock import MAX_QUANTITY, StockLine, stock_apply, stock_changed_event
from inventory.services.sync import SYNC_MAX_LINES, SyncReport, stock_sync

__all__ = [
    "MAX_QUANTITY",
    "SYNC_MAX_LINES",
    "ChangeOutcome",
    "MovementReason",
    "StockChanges",
    "StockLine",
    "SyncReport",
    "client_location_bind",
    "location_create",
    "location_update",
    "product_create",
    "product_update",
    "stock_adjust",
    "stock_apply",
    "stock_changed_event",
    "stock_changes_apply",
    "stock_set",
    "stock_sync",
]
