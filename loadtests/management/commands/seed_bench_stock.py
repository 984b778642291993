"""Seeds the "already there" data of the inventory benchmarks, set-based:
stores spread over France (a third of them around Paris), retailer products,
and the stock levels pairing them, each level with its opening ledger
movement so the ledger reconciles from the start.

    manage.py seed_bench_stock --stores 1800 --levels 200000

Codes are BST00001... (stores) and BENCH-000001... (products); a second run
with the same figures finds them and does nothing."""

import math
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from inventory.models import Location

_STORES_SQL = """
INSERT INTO inventory_location
    (code, name, kind, owner_id, address, city, postal_code, country, latitude, longitude, time_zone,
     opening_hours, click_and_collect, lead_time_days, is_active, version, created_at, updated_at)
SELECT 'BST' || lpad(i::text, 5, '0'), 'Bench store ' || i, 'store', NULL, '', 'Bench', '', 'FR',
       round((CASE WHEN i %% 3 = 0 THEN 48.8566 + (random() - 0.5) * 0.6 ELSE 43.3 + random() * 7.0 END)::numeric, 6),
       round((CASE WHEN i %% 3 = 0 THEN 2.3522 + (random() - 0.5) * 0.9 ELSE -1.2 + random() * 8.5 END)::numeric, 6),
       'Europe/Paris', %s::jsonb, true, 0, true, 1, now(), now()
FROM generate_series(1, %s) AS i
"""

_PRODUCTS_SQL = """
INSERT INTO inventory_product
    (owner_id, sku, gtin, brand, category, price_amount, price_currency, name_fr, name_en, description_fr,
     description_en, is_active, version, created_at, updated_at)
SELECT NULL, 'BENCH-' || lpad(i::text, 6, '0'), '', 'Bench', 'bench', 1.00 + (i %% 50) / 10.0, 'EUR',
       'Produit banc ' || i, 'Bench product ' || i, '', '', true, 1, now(), now()
FROM generate_series(1, %s) AS i
"""

# Levels pair every bench product with every bench store until the count is reached.
_LEVELS_SQL = """
INSERT INTO inventory_stocklevel (product_id, location_id, on_hand, reserved, version, updated_at)
SELECT p.id, l.id, (random() * 200)::int, 0, 1, now()
FROM inventory_location l CROSS JOIN inventory_product p
WHERE l.code LIKE 'BST%%' AND p.sku LIKE 'BENCH-%%' AND p.owner_id IS NULL
ORDER BY l.id, p.id
LIMIT %s
"""

_MOVEMENTS_SQL = """
INSERT INTO inventory_stockmovement
    (stock_level_id, reason, delta_on_hand, delta_reserved, on_hand_after, reserved_after, actor_id,
     idempotency_key, reference, created_at)
SELECT s.id, 'sync', s.on_hand, 0, s.on_hand, 0, NULL, '', 'bench-seed', now()
FROM inventory_stocklevel s JOIN inventory_location l ON l.id = s.location_id
WHERE l.code LIKE 'BST%%' AND s.on_hand <> 0
"""

_HOURS = (
    '{"1": [["08:30", "20:30"]], "2": [["08:30", "20:30"]], "3": [["08:30", "20:30"]], '
    '"4": [["08:30", "20:30"]], "5": [["08:30", "20:30"]], "6": [["08:30", "20:30"]]}'
)


class Command(BaseCommand):
    help = "Seed benchmark stores, products and stock levels (with their ledger) in a few set-based statements."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--stores", type=int, default=1800)
        parser.add_argument("--levels", type=int, default=200_000)
        parser.add_argument("--seed", type=float, default=0.42, help="PostgreSQL random seed, -1 to 1.")

    def handle(self, *args: Any, **options: Any) -> None:
        stores, levels = options["stores"], options["levels"]
        if stores < 1 or levels < 1 or levels > 50_000_000:
            raise CommandError("--stores and --levels must be positive (levels at most 50 million).")
        if Location.objects.filter(code="BST00001").exists():
            self.stdout.write("bench data already seeded; nothing to do")
            return
        products = math.ceil(levels / stores)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT setseed(%s)", [options["seed"]])
            cursor.execute(_STORES_SQL, [_HOURS, stores])
            cursor.execute(_PRODUCTS_SQL, [products])
            cursor.execute(_LEVELS_SQL, [levels])
            cursor.execute(_MOVEMENTS_SQL, [])
            cursor.execute(
                "ANALYZE inventory_location, inventory_product, inventory_stocklevel, inventory_stockmovement"
            )
        self.stdout.write(f"seeded {stores} stores, {products} products, {levels} stock levels")
