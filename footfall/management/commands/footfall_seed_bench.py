"""Seed the "already there" data of the footfall benchmark in a few
statements: stores (inventory locations), an entrance and a window sensor
per store, and hourly till sales over the benchmarked days. Counts are not
seeded: the benchmark sends them through the API.

    manage.py footfall_seed_bench --stores 1800 --first-day 2026-10-01 --days 30
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction

from footfall.models import Sensor, SensorKind
from inventory.models import Location, LocationKind

PREFIX = "BENCH"
_HOURS = {str(day): [["09:00", "20:00"]] for day in range(1, 7)}

# Hourly sales of every bench store for every open hour of every day, in one
# statement: tickets and revenue vary with the store and the hour.
_SALES = """
INSERT INTO footfall_salesinterval (store_id, register, start, "end", tickets, revenue_amount, revenue_currency,
                                    received_at)
SELECT l.id, 'T1', h.start, h.start + interval '1 hour', t.tickets, t.tickets * %(basket)s, 'EUR', now()
FROM inventory_location l
CROSS JOIN LATERAL (
    SELECT ((d::date + make_interval(hours => hour))::timestamp AT TIME ZONE l.time_zone) AS start
    FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS d, generate_series(9, 19) AS hour
) h
CROSS JOIN LATERAL (SELECT 10 + (l.id * 7 + extract(epoch FROM h.start)::bigint / 3600) %% 23 AS tickets) t
WHERE l.code LIKE %(prefix)s
ON CONFLICT (store_id, register, start) DO NOTHING
"""


# ... and their daily totals (what sales ingest maintains), from the intervals.
_SALES_DAYS = """
INSERT INTO footfall_salesday (store_id, day, revenue_currency, tickets, revenue_amount)
SELECT s.store_id, (s.start AT TIME ZONE l.time_zone)::date, s.revenue_currency, sum(s.tickets), sum(s.revenue_amount)
FROM footfall_salesinterval s JOIN inventory_location l ON l.id = s.store_id
WHERE l.code LIKE %(prefix)s
GROUP BY 1, 2, 3
ON CONFLICT (store_id, day, revenue_currency) DO UPDATE SET
    tickets = EXCLUDED.tickets, revenue_amount = EXCLUDED.revenue_amount
"""


class Command(BaseCommand):
    help = "Seed stores, sensors and sales for loadtests/bench_footfall.py (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--stores", type=int, default=1800)
        parser.add_argument("--first-day", type=dt.date.fromisoformat, required=True)
        parser.add_argument("--days", type=int, default=30)

    def handle(self, *args: Any, **options: Any) -> None:
        count, first = options["stores"], options["first_day"]
        last = first + dt.timedelta(days=options["days"] - 1)
        with transaction.atomic():
            codes = [f"{PREFIX}{n:04d}" for n in range(1, count + 1)]
            Location.objects.bulk_create(
                [
                    Location(code=code, name=f"Bench store {code[-4:]}", kind=LocationKind.STORE, opening_hours=_HOURS)
                    for code in codes
                ],
                ignore_conflicts=True,
            )
            stores = dict(Location.objects.filter(code__in=codes).values_list("code", "pk"))
            Sensor.objects.bulk_create(
                [
                    Sensor(store_id=stores[code], code=f"{code}-{suffix}", name=name, kind=kind)
                    for code in codes
                    for suffix, name, kind in (("E1", "Door", SensorKind.ENTRANCE), ("W1", "Window", SensorKind.WINDOW))
                ],
                ignore_conflicts=True,
            )
            with connection.cursor() as cursor:
                cursor.execute(
                    _SALES, {"first": first, "last": last, "basket": Decimal("23.50"), "prefix": f"{PREFIX}%"}
                )
                sales = cursor.rowcount
                cursor.execute(_SALES_DAYS, {"prefix": f"{PREFIX}%"})
        self.stdout.write(
            f"{len(stores)} stores, {2 * len(stores)} sensors, {sales} new sales intervals ({first} .. {last})"
        )
