"""KPIs crossed with sales, for one store or the whole network, over
store-local days, each with the same period last week and last year.

Definitions (footfall reference, section B.3); every ratio divides summed
numerators by summed denominators, never averages ratios:

- visitors = entries = sum of ``in`` of entrance sensors;
- passers-by = sum of ``in + out`` of window sensors (both walking directions);
- conversion rate = tickets / visitors, None when the period has no sales
  at all (no till sent anything: unknown, not 0 %) or no visitors;
- capture rate, two variants the industry uses, named in every response:
  ``entries_per_passerby`` = entries / passers-by (V-Count "draw-in rate"),
  ``entries_per_entries_and_passersby`` = entries / (entries + passers-by)
  (Aura Vision, when passers-by exclude those who enter);
- sales per visitor = revenue / visitors; average ticket = revenue / tickets.

"Last year" is 364 days earlier, so weekdays line up (retail calendars
compare a Saturday with a Saturday).

Sales (tickets and revenue) are the daily totals of ``SalesDay``: the till
sales intervals plus the collected click-and-collect orders, each of those
one ticket of its total on the store-local day it was collected
(footfall.services.click_and_collect). Pickups belong in conversion: a
shopper collecting an order walks in through the entrance counter, so the
visit is in the denominator and its ticket in the numerator; leaving it out
would understate conversion in stores with many pickups. Revenue is never
added up across currencies: a period whose sales are in several currencies
is refused (422 ``mixed_currencies``)."""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count
from django.utils.translation import gettext as _

from footfall.errors import MixedCurrencies, store_in_several_currencies
from footfall.models import Sensor, SensorKind
from footfall.sql import reads as reads_sql
from inventory import local_time

CAPTURE_FORMULAS = {
    "entries_per_passerby": "entries / passersby",
    "entries_per_entries_and_passersby": "entries / (entries + passersby)",
}
FORMULAS = {
    "visitors": "sum of in of entrance sensors",
    "passersby": "sum of in + out of window sensors",
    "tickets": "till tickets + collected click-and-collect orders (one ticket each, on the store-local day "
    "of collection)",
    "revenue": "till revenue + totals of collected click-and-collect orders, in one currency",
    "conversion_rate": "tickets / visitors (click-and-collect pickups included: their shoppers walk in through "
    "the entrance counter); null when no sales were received for the period",
    "sales_per_visitor": "revenue / visitors",
    "average_ticket": "revenue / tickets",
    "entrance_completeness": "covered seconds of entrance sensors / (active entrance sensors x seconds in the period)",
}
COMPARISONS = (("same_period_last_week", 7), ("same_period_last_year", 364))


@dataclass(frozen=True)
class Period:
    label: str
    first: dt.date
    last: dt.date


@dataclass(frozen=True)
class PeriodKpis:
    """The figures of one period. Money is in ``currency`` (None when the
    period sold nothing), unrounded: rounding to minor units belongs to
    whoever shows it (``gateway.api.money``)."""

    first: dt.date
    last: dt.date
    visitors: int
    exits: int
    passersby: int
    tickets: int
    currency: str | None
    revenue: Decimal | None
    conversion_rate: float | None
    capture_rate: float | None
    sales_per_visitor: Decimal | None
    average_ticket: Decimal | None
    entrance_completeness: float | None
    # The same share for window sensors (passers-by); not in the API body.
    window_completeness: float | None = None


@dataclass(frozen=True)
class Kpis:
    """A period's KPIs with its comparison periods; ``capture_formula`` is a
    key of CAPTURE_FORMULAS."""

    capture_formula: str
    current: PeriodKpis
    same_period_last_week: PeriodKpis
    same_period_last_year: PeriodKpis


@dataclass
class SalesTotals:
    tickets: int = 0
    revenue: dict[str, Decimal] = field(default_factory=dict)

    def add(self, tickets: int, currency: str, amount: Decimal) -> None:
        self.tickets += tickets
        self.revenue[currency] = self.revenue.get(currency, Decimal(0)) + amount


def _period_params(periods: Sequence[Period]) -> list[Any]:
    return [[p.label for p in periods], [p.first for p in periods], [p.last for p in periods]]


def _sales(store_ids: Sequence[int] | None, periods: Sequence[Period]) -> dict[str, SalesTotals]:
    """Tickets and revenue (tills and collected orders) of each period's
    store-local days, from the daily totals."""
    params = _period_params(periods)
    if store_ids is None:
        sql = reads_sql.NETWORK_SALES
    else:
        sql = reads_sql.STORES_SALES
        params.append(list(store_ids))
    totals: dict[str, SalesTotals] = defaultdict(SalesTotals)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for label, currency, tickets, amount in cursor.fetchall():
            totals[label].add(int(tickets), currency, amount)
    return totals


def _traffic(
    store_ids: Sequence[int] | None, periods: Sequence[Period]
) -> dict[tuple[str, str], tuple[int, int, float]]:
    params = _period_params(periods)
    if store_ids is None:
        sql = reads_sql.NETWORK_TRAFFIC
    else:
        sql = reads_sql.STORES_TRAFFIC
        params.append(list(store_ids))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(label, kind): (int(i), int(o), float(c)) for label, kind, i, o, c in cursor.fetchall()}


def _sensors_by_zone(store_ids: Sequence[int] | None, kind: str) -> dict[str, int]:
    sensors = Sensor.objects.filter(kind=kind, is_active=True)
    if store_ids is not None:
        sensors = sensors.filter(store_id__in=store_ids)
    return {row["store__time_zone"]: row["n"] for row in sensors.values("store__time_zone").annotate(n=Count("id"))}


def _expected_seconds(sensors_by_zone: dict[str, int], period: Period) -> float:
    """Seconds the active entrance sensors should cover in the period (a
    day lasts 23 or 25 hours when the clocks change)."""
    total = 0.0
    for zone_name, count in sensors_by_zone.items():
        start, end = local_time.days_span(period.first, period.last, local_time.zone(zone_name))
        total += count * (end - start).total_seconds()
    return total


def _ratio(numerator: float | Decimal, denominator: float | Decimal) -> float | None:
    return round(float(numerator) / float(denominator), 4) if denominator else None


def _per(amount: Decimal | None, denominator: int) -> Decimal | None:
    return amount / denominator if amount is not None and denominator else None


def _one_currency(sales: SalesTotals, period: Period, *, one_store: bool) -> tuple[str | None, Decimal | None]:
    """The period's revenue and its currency; several currencies are refused,
    never added up (a store's tills and its click-and-collect orders too)."""
    if len(sales.revenue) > 1:
        if not one_store:
            raise MixedCurrencies(_("These stores sell in several currencies; ask for one store at a time."))
        raise store_in_several_currencies(first=period.first, last=period.last, currencies=sales.revenue)
    return next(iter(sales.revenue.items()), (None, None))


def _period_kpis(
    period: Period,
    traffic: dict[tuple[str, str], tuple[int, int, float]],
    sales: SalesTotals,
    capture_formula: str,
    expected_seconds: dict[str, float],
    *,
    one_store: bool,
) -> PeriodKpis:
    entries, exits, covered = traffic.get((period.label, SensorKind.ENTRANCE), (0, 0, 0.0))
    window_in, window_out, window_covered = traffic.get((period.label, SensorKind.WINDOW), (0, 0, 0.0))
    passersby = window_in + window_out
    currency, revenue = _one_currency(sales, period, one_store=one_store)
    capture_denominator = passersby if capture_formula == "entries_per_passerby" else entries + passersby
    return PeriodKpis(
        first=period.first,
        last=period.last,
        visitors=entries,
        exits=exits,
        passersby=passersby,
        tickets=sales.tickets,
        currency=currency,
        revenue=revenue,
        # No sales rows at all (a store without tills, or tills that sent
        # nothing) is an unknown conversion, not 0 %.
        conversion_rate=_ratio(sales.tickets, entries) if sales.revenue else None,
        capture_rate=_ratio(entries, capture_denominator) if passersby else None,
        sales_per_visitor=_per(revenue, entries),
        average_ticket=_per(revenue, sales.tickets),
        entrance_completeness=_ratio(covered, expected_seconds[SensorKind.ENTRANCE]),
        window_completeness=_ratio(window_covered, expected_seconds[SensorKind.WINDOW]),
    )


def kpis_compute(
    *, store_ids: Sequence[int] | None, first: dt.date, last: dt.date, capture_formula: str = "entries_per_passerby"
) -> Kpis:
    """KPIs of ``first`` .. ``last`` (store-local days) for the stores, or
    the network when ``store_ids`` is None, with the comparison periods.
    Tickets and revenue include collected click-and-collect orders, and so
    does conversion (tickets / visitors): a pickup shopper is counted coming
    in through the entrance, so the ticket belongs with the visit."""
    periods = [Period("current", first, last)] + [
        Period(label, first - dt.timedelta(days=shift), last - dt.timedelta(days=shift)) for label, shift in COMPARISONS
    ]
    traffic = _traffic(store_ids, periods)
    sales = _sales(store_ids, periods)
    sensors_by_zone = {kind: _sensors_by_zone(store_ids, kind) for kind in (SensorKind.ENTRANCE, SensorKind.WINDOW)}
    one_store = store_ids is not None and len(store_ids) == 1
    figures = {
        period.label: _period_kpis(
            period,
            traffic,
            sales[period.label],
            capture_formula,
            {kind: _expected_seconds(by_zone, period) for kind, by_zone in sensors_by_zone.items()},
            one_store=one_store,
        )
        for period in periods
    }
    return Kpis(
        capture_formula=capture_formula,
        current=figures["current"],
        same_period_last_week=figures["same_period_last_week"],
        same_period_last_year=figures["same_period_last_year"],
    )
