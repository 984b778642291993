"""Seed click-and-collect history in a few statements, for benchmarks that
read it (footfall KPIs count collected orders as sales): for every store
whose code starts with ``--store-prefix`` and every day of the range, one
all-day pickup slot (09:00-20:00 store-local) with ``--per-day`` collected
orders spread over the day, two cancelled ones and one no-show, each with
its status history (placed, then the final status; the steps between are
left out, nothing here reads them). Idempotent: a store and day
that already has its slot is left alone. Orders carry no lines (nothing
reads them here); totals vary with the store and the order.

    manage.py seed_collected_orders --store-prefix BENCH --first-day 2026-10-01 --days 30 --per-day 20
"""

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction

BENCH_CUSTOMER = "bench-collector"
NOT_COLLECTED = 3  # two cancelled, one no-show per store and day

_SEED = """
WITH slots AS (
    INSERT INTO commerce_pickupslot
        (store_id, local_date, starts_at, ends_at, release_at, capacity, booked, held, is_closed, version,
         created_at, updated_at)
    SELECT l.id, d::date, (d::date + time '09:00') AT TIME ZONE l.time_zone,
           (d::date + time '20:00') AT TIME ZONE l.time_zone,
           (d::date - 7 + time '00:00') AT TIME ZONE l.time_zone, %(per_day)s + 3, %(per_day)s, 0, false, 1,
           now(), now()
    FROM inventory_location l CROSS JOIN generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS d
    WHERE l.code LIKE %(prefix)s AND l.kind = 'store'
    ON CONFLICT (store_id, starts_at) DO NOTHING
    RETURNING id, store_id, starts_at, ends_at
), planned AS (
    SELECT s.id AS slot_id, s.store_id, s.starts_at, s.ends_at, k,
           CASE WHEN k <= %(per_day)s THEN 'collected' WHEN k <= %(per_day)s + 2 THEN 'cancelled' ELSE 'no_show' END
               AS status,
           s.starts_at + (s.ends_at - s.starts_at) * k / (%(per_day)s + 1) AS collected_at,
           (12 + (s.store_id * 7 + k * 13) %% 61)::numeric + 0.45 AS total
    FROM slots s CROSS JOIN generate_series(1, %(per_day)s + 3) AS k
), orders AS (
    INSERT INTO commerce_order
        (public_id, store_id, slot_id, customer_id, status, currency, total_amount, item_count, idempotency_key,
         version, created_at, updated_at)
    SELECT gen_random_uuid(), p.store_id, p.slot_id, %(customer)s, p.status, 'EUR', p.total, 3, '', 4,
           p.starts_at - interval '2 days',
           CASE p.status WHEN 'collected' THEN p.collected_at WHEN 'cancelled' THEN p.starts_at - interval '1 day'
                ELSE p.ends_at + interval '1 hour' END
    FROM planned p
    ORDER BY p.slot_id, p.k  -- ids grouped by store and day, as a day's orders follow each other
    RETURNING id, status, created_at, updated_at
)
INSERT INTO commerce_orderstatuschange (order_id, from_status, to_status, at, reason)
SELECT o.id, h.from_status, h.to_status, h.at, ''
FROM orders o CROSS JOIN LATERAL (VALUES ('', 'placed', o.created_at), ('placed', o.status, o.updated_at))
    AS h(from_status, to_status, at)
"""

# Seeding runs in one transaction, before autovacuum could see the rows:
# without statistics the planner reads a page of orders by scanning them all.
_ANALYZE = "ANALYZE commerce_pickupslot, commerce_order, commerce_orderstatuschange"


class Command(BaseCommand):
    help = "Seed collected, cancelled and no-show click-and-collect orders for benchmark stores (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--store-prefix", required=True)
        parser.add_argument("--first-day", type=dt.date.fromisoformat, required=True)
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--per-day", type=int, default=20, help="Collected orders per store and day.")

    def handle(self, *args: Any, **options: Any) -> None:
        first = options["first_day"]
        last = first + dt.timedelta(days=options["days"] - 1)
        with transaction.atomic():
            customer, _ = get_user_model().objects.get_or_create(username=BENCH_CUSTOMER)
            with connection.cursor() as cursor:
                cursor.execute(
                    _SEED,
                    {
                        "prefix": f"{options['store_prefix']}%",
                        "first": first,
                        "last": last,
                        "per_day": options["per_day"],
                        "customer": customer.pk,
                    },
                )
                changes = cursor.rowcount
                cursor.execute(_ANALYZE)
        self.stdout.write(f"{changes} order status changes seeded ({first} .. {last})")
