"""Figures of a store's emailed report: visitors and sales (tills and
collected click-and-collect orders) per store-local day, the average day's
traffic per local hour, and the period's anomalies."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from footfall.errors import store_in_several_currencies
from footfall.models import Anomaly, SensorKind
from footfall.sql import reads as reads_sql
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


def daily_figures(*, store: Location, first: dt.date, last: dt.date) -> list[DayFigures]:
    """Every day of ``first`` .. ``last``, zeros where nothing was received.
    Revenue in several currencies is refused, never added up."""
    with connection.cursor() as cursor:
        cursor.execute(reads_sql.VISITORS_PER_DAY, [first, last, store.pk, SensorKind.ENTRANCE])
        visitors = dict(cursor.fetchall())
        cursor.execute(reads_sql.SALES_PER_DAY, [store.pk, first, last])
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
        cursor.execute(reads_sql.ENTRIES_PER_HOUR, [store.time_zone, low, high, store.pk, SensorKind.ENTRANCE])
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
