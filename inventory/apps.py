from typing import Any

from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Shared inventory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Which cached availability and product answers an outbox event makes
        # stale (gateway/api/readcache.py): a stock change, the answers near a
        # point for its SKU, and at a store those of that store (its own
        # level) or, at a warehouse or partner store, of every store (their
        # supply); a product change, all of its SKU's, the product's own and
        # the catalogue lists.
        from gateway.api import readcache
        from inventory.selectors.locations import location_is_store

        def stock_keys(payload: dict[str, Any]) -> list[str]:
            sku, code = payload["sku"], payload["location"]
            keys = [readcache.sku_key(sku), readcache.sku_level_key(sku, code)]
            if not location_is_store(code=code):
                keys.append(readcache.sku_supply_key(sku))
            return keys

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
