"""Demo click-and-collect: slot schedules for the demo stores, their next
days released at once (so the running server shows bookable slots), and a
few orders for the demo shopper when the demo catalogue has stock, one of
them already collected (a sale in the footfall KPIs of PAR01).

Cross-sell: with ``--data-dir`` holding ``groceries_train.csv`` (the
Groceries basket file), its baskets are imported as till baskets, a demo
product is created for each item name (SKU ``DEMO-`` and the name) and
stocked where the retailer's demo products are (inventory.demo), so the
offers can be collected there; then the
live co-purchase model is built (in this process) whenever none is live or
new baskets came in. Without the file, the model is built from the demo's
collected orders alone."""

import datetime as dt
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import OutputWrapper

from commerce.models import (
    CoPurchaseModel,
    ModelPurpose,
    ModelState,
    Order,
    OrderStatus,
    PickupSlot,
    SlotSchedule,
    SlotWindow,
)
from commerce.recommendations.baskets import SKU_PREFIX, baskets_import
from commerce.recommendations.building import co_purchase_model_build, co_purchase_rebuild_request
from commerce.services.lifecycle import Actor, order_transition
from commerce.services.orders import LineRequest, order_place
from commerce.services.release import slots_release_due
from inventory.demo import demo_stock_set
from inventory.local_time import zone
from inventory.models import Location, Product, StockLevel
from partners.callers import Caller
from partners.models import ApiClient

# store code -> weekly windows: (weekdays, opens, closes, slot minutes, capacity)
DEMO_SCHEDULES: dict[str, list[tuple[range, dt.time, dt.time, int, int]]] = {
    "PAR01": [
        (range(1, 7), dt.time(8, 30), dt.time(20, 30), 30, 12),
        (range(7, 8), dt.time(9, 0), dt.time(13, 0), 30, 6),
    ],
    "PAR02": [(range(1, 7), dt.time(9, 0), dt.time(20, 0), 60, 20)],
    "LYO01": [
        (range(1, 6), dt.time(8, 30), dt.time(12, 30), 30, 8),
        (range(1, 6), dt.time(14, 0), dt.time(20, 30), 30, 10),
        (range(6, 7), dt.time(8, 30), dt.time(20, 30), 30, 15),
    ],
}


def load(*, stdout: OutputWrapper, options: dict[str, Any]) -> None:
    stores = {store.code: store for store in Location.objects.filter(code__in=DEMO_SCHEDULES)}
    for code, windows in DEMO_SCHEDULES.items():
        store = stores.get(code)
        if store is None:
            continue
        schedule, _created = SlotSchedule.objects.get_or_create(store=store)
        SlotWindow.objects.filter(schedule=schedule).delete()
        SlotWindow.objects.bulk_create(
            [
                SlotWindow(schedule=schedule, weekday=day, opens=opens, closes=closes, slot_minutes=m, capacity=c)
                for days, opens, closes, m, c in windows
                for day in days
            ]
        )
    released = slots_release_due(store_ids=[store.pk for store in stores.values()])
    open_slots = PickupSlot.objects.filter(store__code__in=DEMO_SCHEDULES).count()
    stdout.write(
        f"  click-and-collect: schedules for {', '.join(sorted(stores))}; "
        f"{sum(1 for day in released if day.released)} store-days released now, {open_slots} slots in all"
    )
    _demo_orders(stdout=stdout, store=stores.get("PAR01"))
    _demo_recommendations(stdout=stdout, data_dir=options.get("data_dir") or "")


def _demo_orders(*, stdout: OutputWrapper, store: Location | None) -> None:
    shopper = get_user_model().objects.filter(username="shopper").first()
    operator = ApiClient.objects.filter(client_id="demo-operator").first()
    if store is None or shopper is None or operator is None or Order.objects.filter(customer=shopper).exists():
        return
    stocked = list(
        StockLevel.objects.filter(location=store, product__is_active=True, available__gte=5)
        .order_by("product_id")
        .values_list("product_id", flat=True)[:3]
    )
    tomorrow = dt.datetime.now(zone(store.time_zone)).date() + dt.timedelta(days=1)
    slots = list(
        PickupSlot.objects.filter(store=store, local_date__gte=tomorrow, is_closed=False).order_by("starts_at")[:3]
    )
    if not stocked or not slots:
        stdout.write("  no demo orders: the demo catalogue has no stock at PAR01 yet")
        return
    caller = Caller(client=operator, scopes=frozenset({"orders:write"}))
    orders = [
        order_place(
            caller=caller,
            lines=[LineRequest(product_id=pid, quantity=index + 1) for pid in stocked],
            slot_id=slot.pk,
            customer_id=shopper.pk,
            idempotency_key=f"demo-order-{index}",
        )
        for index, slot in enumerate(slots)
    ]
    # The last one was picked early: prepared, ready and handed over now.
    for status in (OrderStatus.PREPARING, OrderStatus.READY, OrderStatus.COLLECTED):
        order_transition(order_id=orders[-1].pk, to_status=status, actor=Actor(client=operator))
    stdout.write(f"  {len(orders)} demo orders for the shopper at PAR01, the last one collected")


BASKET_FILE = "groceries_train.csv"


def _demo_recommendations(*, stdout: OutputWrapper, data_dir: str) -> None:
    path = Path(data_dir) / BASKET_FILE if data_dir else None
    new_baskets = 0
    if path is not None and path.is_file():
        imported = baskets_import(path=path, create_products=True)
        new_baskets = imported.baskets
        stocked = demo_stock_set(list(Product.objects.filter(owner__isnull=True, sku__startswith=SKU_PREFIX)))
        stdout.write(
            f"  cross-sell: {imported.baskets} baskets imported from {BASKET_FILE}, "
            f"{imported.products_created} demo products created, {stocked} stock levels set"
        )
    live = CoPurchaseModel.objects.filter(purpose=ModelPurpose.LIVE, state=ModelState.READY).exists()
    if live and not new_baskets:
        return
    request = co_purchase_rebuild_request(enqueue=False)
    model = co_purchase_model_build(model_id=request.model.pk) if request.created else None
    if model is not None and model.state == ModelState.READY:
        stdout.write(
            f"  cross-sell: co-purchase model {model.pk} from {model.basket_count} baskets, {model.score_count} scores"
        )
