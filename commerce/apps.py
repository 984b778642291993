import datetime as dt
from typing import Any

from django.apps import AppConfig


class CommerceConfig(AppConfig):
    name = "commerce"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Which cached slot answers an outbox event makes stale
        # (gateway/api/readcache.py). The slot services bump the exact day
        # themselves; an order's event names the slot's start in UTC only, so
        # it bumps the store-local days that start can fall on (a backstop:
        # one miss more on a neighbouring day costs nothing).
        from gateway.api import readcache

        def order_keys(payload: dict[str, Any]) -> list[str]:
            day = dt.datetime.fromisoformat(payload["slot_starts_at"]).astimezone(dt.UTC).date()
            store_id = int(payload["store_id"])
            return [readcache.slot_day_key(store_id, day + dt.timedelta(days=shift)) for shift in (-1, 0, 1)]

        def release_keys(payload: dict[str, Any]) -> list[str]:
            return [readcache.slot_day_key(int(payload["store_id"]), payload["date"])]

        fields = ["store_id", "slot_starts_at"]
        readcache.on_event("order.created", order_keys, fields=fields)
        readcache.on_event("order.status_changed", order_keys, fields=fields)
        readcache.on_event("slots.released", release_keys, fields=["store_id", "date"])
