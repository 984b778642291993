"""Reads on inventory, scoped to the caller: what a caller may not see does not exist for it."""

from inventory.selectors.callers import store_id_of_caller

__all__ = ["store_id_of_caller"]
