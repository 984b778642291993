from typing import Any

from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Shared inventory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Which cached availability and product answers an outbox event makes
        # stale (gateway/api/readcache.py): its SKU's, the product's own and
        # the catalogue lists.
        from gateway.api import readcache

        def stock_keys(payload: dict[str, Any]) -> list[str]:
            return [readcache.sku_key(payload["sku"])]

        def product_keys(payload: dict[str, Any]) -> list[str]:
            return [readcache.sku_key(payload["sku"]), readcache.product_key(int(payload["id"])), readcache.CATALOGUE]

        readcache.on_event("stock.changed", stock_keys, fields=["sku"])
        readcache.on_event("product.changed", product_keys, fields=["sku", "id"])
