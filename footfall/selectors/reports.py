"""Figures of a store's emailed report: visitors and sales (tills and
collected click-and-collect orders) per store-local day, the average day's
traffic per local hour, and the period's anomalies."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from footfall.errors import store_in_several_currencies
from footfall.models import Anomaly, SensorKind
from inventory import local_time
from inventory.models import Location


@dataclass(frozen=True)
class DayFigures:
    day: dt.date
    visitors: int
    tickets: int
    revenue: Decimal

    @property
    def conversion(self) -> float | None:
        return self.tickets / self.visitors if self.visitors else None


_VISITORS_PER_DAY = """
SELECT d.day, sum(d.in_total)
FROM footfall_sensor s JOIN footfall_countday d ON d.sensor_id = s.id AND d.day >= %s AND d.day <= %s
WHERE s.store_id = %s AND s.kind = %s
GROUP BY 1
"""

_SALES_PER_DAY = """
SELECT d.day, d.revenue_currency, d.tickets, d.revenue_amount
FROM footfall_salesday d
WHERE d.store_id = %s AND d.day >= %s AND d.day <= %s
"""

_ENTRIES_PER_HOUR = """
SELECT extract(hour FROM c.start AT TIME ZONE %s)::int, sum(c.in_count)
FROM footfall_sensor s JOIN footfall_countinterval c ON c.sensor_id = s.id AND c.start >= %s AND c.start < %s
WHERE s.store_id = %s AND s.kind = %s
GROUP BY 1
"""


def daily_figures(*, store: Location, first: dt.date, last: dt.date) -> list[DayFigures]:
    """Every day of ``first`` .. ``last``, zeros where nothing was received.
    Revenue in several currencies is refused, never added up."""
    with connection.cursor() as cursor:
        cursor.execute(_VISITORS_PER_DAY, [first, last, store.pk, SensorKind.ENTRANCE])
        visitors = dict(cursor.fetchall())
        cursor.execute(_SALES_PER_DAY, [store.pk, first, last])
        rows = cursor.fetchall()
    currencies = sorted({currency for _day, currency, _tickets, _revenue in rows})
    if len(currencies) > 1:
        raise store_in_several_currencies(first=first, last=last, currencies=currencies)
    sales = {day: (tickets, revenue) for day, _currency, tickets, revenue in rows}
    out = []
    for offset in range((last - first).days + 1):
        day = first + dt.timedelta(days=offset)
        tickets, revenue = sales.get(day, (0, Decimal(0)))
        out.append(DayFigures(day, int(visitors.get(day, 0)), int(tickets), revenue))
    return out


def hourly_profile(*, store: Location, first: dt.date, last: dt.date) -> list[float]:
    """Average entries per day in each local hour of the day (0 .. 23)."""
    tz = local_time.zone(store.time_zone)
    low, high = local_time.days_span(first, last, tz)
    with connection.cursor() as cursor:
        cursor.execute(_ENTRIES_PER_HOUR, [store.time_zone, low, high, store.pk, SensorKind.ENTRANCE])
        per_hour = dict(cursor.fetchall())
    days = (last - first).days + 1
    return [int(per_hour.get(hour, 0)) / days for hour in range(24)]


def anomalies_of_period(*, store: Location, first: dt.date, last: dt.date) -> list[Anomaly]:
    low, high = local_time.days_span(first, last, local_time.zone(store.time_zone))
    return list(
        Anomaly.objects.filter(sensor__store=store, period_start__lt=high, period_end__gt=low)
        .select_related("sensor")
        .order_by("period_start")
    )
