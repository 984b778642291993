"""Reads on inventory, scoped to the caller: what a caller may not see does not exist for it."""

from inventory.selectors.callers import store_id_of_caller
from inventory.selectors.products import OrderableProduct, orderable_products

__all__ = ["OrderableProduct", "orderable_products", "store_id_of_caller"]
