from typing import Any

from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Shared inventory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Which cached availability and product answers an outbox event makes
        # stale (gateway/api/readcache.py): a stock change at a store, the
        # answers at that store and the answers near a point that store is in
        # reach of (its level key), or at a warehouse or partner store the
        # answers at every store (their supply); a product change, all of its
        # SKU's, the product's own and the catalogue lists.
        from gateway.api import readcache
        from inventory.selectors.locations import location_is_store

        def stock_keys(payload: dict[str, Any]) -> list[str]:
            # Answers "at a store" are asked of stores only: the level key of
            # a warehouse or partner store would be read by none; answers
            # near a point list stores only.
            sku, code = payload["sku"], payload["location"]
            if location_is_store(code=code):
                return [readcache.sku_level_key(sku, code), readcache.sku_stores_key(sku)]
            return [readcache.sku_supply_key(sku)]

        def product_keys(payload: dict[str, Any]) -> list[str]:
            sku = payload["sku"]
            return [
                readcache.sku_key(sku),
                readcache.sku_supply_key(sku),
                readcache.product_key(int(payload["id"])),
                readcache.CATALOGUE,
            ]

        readcache.on_event("stock.changed", stock_keys, fields=["sku", "location"])
        readcache.on_event("product.changed", product_keys, fields=["sku", "id"])
