"""Seeds the "already there" data of the recommendations benchmark, set-based:
the bench stores (``seed_bench_stock``), ``--products`` retailer products in
200 categories ("aisles"), each store stocking ``--per-store`` of them (about
one level in six empty), four warehouses holding everything with lead times
of one to four days, and ``--orders`` collected click-and-collect orders of
``--lines`` lines each, drawn within one aisle so that the co-purchase model
has structure to find.

    manage.py seed_bench_recommendations --products 20000 --per-store 1000 --orders 100000 --lines 10

Product numbers are BENCH-000001...; aisle of product n is (n - 1) % 200. A
second run finds the orders and does nothing."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from commerce.models import Order, OrderLine, PickupSlot
from gateway.sql import fragment
from inventory.models import Location, Product, StockLevel

AISLES = 200
WAREHOUSES = 4
CUSTOMER = "bench-reco-shopper"
KEY_PREFIX = "reco-bench-"

TABLES: dict[str, Any] = {
    "p": Product,
    "loc": Location,
    "lvl": StockLevel,
    "ord": Order,
    "line": OrderLine,
    "slot": PickupSlot,
}

_PRODUCTS = fragment(
    """
INSERT INTO {p} (owner_id, sku, gtin, brand, category, price_amount, price_currency, name_fr, name_en, description_fr,
                 description_en, is_active, version, created_at, updated_at)
SELECT NULL, 'BENCH-' || lpad(i::text, 6, '0'), '', 'Bench', 'aisle-' || ((i - 1) %% %(aisles)s),
       1.00 + (i %% 50) / 10.0, 'EUR', 'Produit banc ' || i, 'Bench product ' || i, '', '', true, 1, now(), now()
FROM generate_series(1, %(products)s) AS i
ON CONFLICT DO NOTHING
""",
    **TABLES,
)
_CATEGORIES = fragment(
    """
UPDATE {p} SET category = 'aisle-' || ((substr(sku, 7)::int - 1) %% %(aisles)s)
WHERE owner_id IS NULL AND sku LIKE 'BENCH-%%' AND category NOT LIKE 'aisle-%%'
""",
    **TABLES,
)
_STORE_LEVELS = fragment(
    """
INSERT INTO {lvl} (product_id, location_id, on_hand, reserved, version, updated_at)
SELECT p.id, l.id, CASE WHEN random() < 0.15 THEN 0 ELSE 1 + (random() * 40)::int END, 0, 1, now()
FROM {loc} l JOIN {p} p
  ON p.owner_id IS NULL AND p.sku LIKE 'BENCH-%%'
 AND (substr(p.sku, 7)::int + substr(l.code, 4)::int) %% %(stride)s = 0
WHERE l.code LIKE 'BST%%' AND l.kind = 'store'
ON CONFLICT DO NOTHING
""",
    **TABLES,
)
_WAREHOUSES = fragment(
    """
INSERT INTO {loc} (code, name, kind, owner_id, address, city, postal_code, country, time_zone, opening_hours,
                 click_and_collect, lead_time_days, is_active, version, created_at, updated_at)
SELECT 'BWH' || lpad(i::text, 4, '0'), 'Bench warehouse ' || i, 'warehouse', NULL, '', 'Bench', '', 'FR',
       'Europe/Paris', '{{}}'::jsonb, false, i, true, 1, now(), now()
FROM generate_series(1, %(warehouses)s) AS i
ON CONFLICT DO NOTHING
""",
    **TABLES,
)
_WAREHOUSE_LEVELS = fragment(
    """
INSERT INTO {lvl} (product_id, location_id, on_hand, reserved, version, updated_at)
SELECT p.id, l.id, CASE WHEN (substr(p.sku, 7)::int + substr(l.code, 4)::int) %% 3 = 0 THEN 0 ELSE 100 END, 0, 1, now()
FROM {loc} l CROSS JOIN {p} p
WHERE l.code LIKE 'BWH%%' AND p.owner_id IS NULL AND p.sku LIKE 'BENCH-%%'
ON CONFLICT DO NOTHING
""",
    **TABLES,
)
_SLOTS = fragment(
    """
INSERT INTO {slot} (store_id, local_date, starts_at, ends_at, release_at, capacity, booked, held, is_closed, version,
                    created_at, updated_at)
SELECT l.id, current_date - 3, (current_date - 3 + time '09:00') AT TIME ZONE l.time_zone,
       (current_date - 3 + time '20:00') AT TIME ZONE l.time_zone, now() - interval '10 days', 100000, 0, 0, false,
       1, now(), now()
FROM {loc} l WHERE l.code LIKE 'BST%%' AND l.kind = 'store'
ON CONFLICT DO NOTHING
""",
    **TABLES,
)
_ORDERS = fragment(
    """
WITH stores AS (
    SELECT row_number() OVER (ORDER BY l.id) - 1 AS n, l.id, s.id AS slot_id
    FROM {loc} l JOIN {slot} s ON s.store_id = l.id AND s.local_date = current_date - 3
    WHERE l.code LIKE 'BST%%' AND l.kind = 'store'
)
INSERT INTO {ord} (public_id, store_id, slot_id, customer_id, status, currency, total_amount, item_count,
                 idempotency_key, version, created_at, updated_at)
SELECT gen_random_uuid(), st.id, st.slot_id, %(customer)s, 'collected', 'EUR', 10.00, %(lines)s,
       %(prefix)s::text || k, 1, now() - interval '3 days', now() - interval '3 days'
FROM generate_series(1, %(orders)s) AS k
JOIN stores st ON st.n = k %% (SELECT count(*) FROM stores)
""",
    **TABLES,
)
# Lines of order k: aisle (k * 7919) mod 200, and ``lines`` distinct products of it
# (offsets (k div 200) * 37 + j * 13 modulo the aisle's depth differ for j = 1..10,
# 13 being prime to 100 and to 10; k div 200 varies the start independently of the
# aisle, so every product of an aisle is bought).
_LINES = fragment(
    """
INSERT INTO {line} (order_id, product_id, sku, name_fr, name_en, quantity, unit_price_amount, line_total_amount)
SELECT o.id, p.id, p.sku, p.name_fr, p.name_en, 1, p.price_amount, p.price_amount
FROM {ord} o
CROSS JOIN generate_series(1, %(lines)s) AS j
JOIN {p} p ON p.owner_id IS NULL AND p.sku = 'BENCH-' || lpad((
    1 + (substr(o.idempotency_key, %(prefix_end)s)::int * 7919) %% %(aisles)s
      + %(aisles)s * (((substr(o.idempotency_key, %(prefix_end)s)::int / %(aisles)s * 37) + j * 13) %% %(depth)s)
)::text, 6, '0')
WHERE o.idempotency_key LIKE %(prefix)s::text || '%%'
ON CONFLICT DO NOTHING
""",
    **TABLES,
)


class Command(BaseCommand):
    help = "Seed the recommendations benchmark: products in aisles, store and warehouse stock, collected orders."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--stores", type=int, default=1800)
        parser.add_argument("--products", type=int, default=20_000)
        parser.add_argument("--per-store", type=int, default=1_000)
        parser.add_argument("--orders", type=int, default=100_000)
        parser.add_argument("--lines", type=int, default=10)

    def handle(self, *args: Any, **options: Any) -> None:
        products, per_store, lines = options["products"], options["per_store"], options["lines"]
        if products % AISLES or not 1 <= lines <= 10 or not 1 <= per_store <= products:
            raise CommandError(f"--products must be a multiple of {AISLES}; --lines 1-10; --per-store 1-products.")
        if Order.objects.filter(idempotency_key=f"{KEY_PREFIX}1").exists():
            self.stdout.write("recommendation bench data already seeded; nothing to do")
            return
        stores = options["stores"]
        call_command("seed_bench_stock", "--stores", str(stores), "--levels", str(stores), stdout=self.stdout)
        customer, _ = get_user_model().objects.get_or_create(username=CUSTOMER)
        depth = min(100, products // AISLES)
        params = {
            "aisles": AISLES,
            "warehouses": WAREHOUSES,
            "prefix": KEY_PREFIX,
            "prefix_end": len(KEY_PREFIX) + 1,
            "products": products,
            "stride": max(1, products // per_store),
            "customer": customer.pk,
            "orders": options["orders"],
            "lines": lines,
            "depth": depth,
        }
        with transaction.atomic(), connection.cursor() as cursor:
            for step in (
                _PRODUCTS,
                _CATEGORIES,
                _STORE_LEVELS,
                _WAREHOUSES,
                _WAREHOUSE_LEVELS,
                _SLOTS,
                _ORDERS,
                _LINES,
            ):
                cursor.execute(step, {name: value for name, value in params.items() if f"%({name})s" in step})
            cursor.execute("ANALYZE")
        count = OrderLine.objects.count()
        self.stdout.write(f"seeded {products} products, {options['orders']} collected orders, {count} order lines")
