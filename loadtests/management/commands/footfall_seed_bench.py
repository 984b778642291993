"""Seed the "already there" data of the footfall benchmark in a few
statements: stores (inventory locations), an entrance and a window sensor
per store, hourly till sales over the benchmarked days, and collected
click-and-collect orders (``seed_collected_orders``, 20 a store
and day by default, about a tenth of the till tickets) recorded as sales the
way footfall records orders written without events (the backfill). Counts
are not seeded: the benchmark sends them through the API.

    manage.py footfall_seed_bench --stores 1800 --first-day 2026-10-01 --days 30
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction

from footfall.models import CollectedOrderSale, SalesDay, SalesInterval, Sensor, SensorKind
from footfall.services.click_and_collect import collected_orders_backfill
from gateway.sql import fragment
from inventory.models import Location, LocationKind

PREFIX = "BENCH"
_HOURS = {str(day): [["09:00", "20:00"]] for day in range(1, 7)}

# Hourly sales of every bench store for every open hour of every day, in one
# statement: tickets and revenue vary with the store and the hour.
_SALES = fragment(
    """
    INSERT INTO {s} ({s.store}, {s.register}, {s.start}, "{s.end}", {s.tickets}, {s.revenue_amount},
                     {s.revenue_currency}, {s.received_at})
    SELECT l.{l.id}, 'T1', h.start, h.start + interval '1 hour', t.tickets, t.tickets * %(basket)s, 'EUR', now()
    FROM {l} l
    CROSS JOIN LATERAL (
        SELECT ((d::date + make_interval(hours => hour))::timestamp AT TIME ZONE l.{l.time_zone}) AS start
        FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS d, generate_series(9, 19) AS hour
    ) h
    CROSS JOIN LATERAL (SELECT 10 + (l.{l.id} * 7 + extract(epoch FROM h.start)::bigint / 3600) %% 23 AS tickets) t
    WHERE l.{l.code} LIKE %(prefix)s
    ON CONFLICT ({s.store}, {s.register}, {s.start}) DO NOTHING
    """,
    s=SalesInterval,
    l=Location,
)


# ... and their daily totals (what sales ingest and the collected orders
# maintain), from the intervals and the collected orders.
_SALES_DAYS = fragment(
    """
    INSERT INTO {d} ({d.store}, {d.day}, {d.revenue_currency}, {d.tickets}, {d.revenue_amount})
    SELECT store_id, day, currency, sum(tickets), sum(amount)
    FROM (
        SELECT s.{s.store} AS store_id, (s.{s.start} AT TIME ZONE l.{l.time_zone})::date AS day,
               s.{s.revenue_currency} AS currency, s.{s.tickets} AS tickets, s.{s.revenue_amount} AS amount
        FROM {s} s JOIN {l} l ON l.{l.id} = s.{s.store}
        WHERE l.{l.code} LIKE %(prefix)s
        UNION ALL
        SELECT c.{c.store}, (c.{c.collected_at} AT TIME ZONE l.{l.time_zone})::date, c.{c.revenue_currency}, 1,
               c.{c.revenue_amount}
        FROM {c} c JOIN {l} l ON l.{l.id} = c.{c.store}
        WHERE l.{l.code} LIKE %(prefix)s
    ) AS sales
    GROUP BY 1, 2, 3
    ON CONFLICT ({d.store}, {d.day}, {d.revenue_currency}) DO UPDATE SET
        {d.tickets} = EXCLUDED.{d.tickets}, {d.revenue_amount} = EXCLUDED.{d.revenue_amount}
    """,
    d=SalesDay,
    s=SalesInterval,
    c=CollectedOrderSale,
    l=Location,
)


class Command(BaseCommand):
    help = "Seed stores, sensors and sales for loadtests/bench_footfall.py (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--stores", type=int, default=1800)
        parser.add_argument("--first-day", type=dt.date.fromisoformat, required=True)
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--collected-per-day", type=int, default=20, help="Collected orders per store and day.")

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
                cursor.execute(f"ANALYZE {SalesInterval._meta.db_table}")  # the day rebuilds below plan on it
            call_command(
                "seed_collected_orders",
                store_prefix=PREFIX,
                first_day=first,
                days=options["days"],
                per_day=options["collected_per_day"],
                stdout=self.stdout,
            )
            collected = collected_orders_backfill()
            with connection.cursor() as cursor:
                cursor.execute(_SALES_DAYS, {"prefix": f"{PREFIX}%"})
        self.stdout.write(
            f"{len(stores)} stores, {2 * len(stores)} sensors, {sales} new sales intervals, "
            f"{collected} new collected orders ({first} .. {last})"
        )
