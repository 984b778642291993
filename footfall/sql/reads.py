"""Statements of the reads: aggregates (``footfall.selectors.aggregates``),
KPIs (``footfall.selectors.kpis``) and the figures of the emailed reports
(``footfall.selectors.reports``)."""

from footfall.models import CountDay, CountInterval, SalesDay, Sensor
from gateway.sql import statement

# ------------------------------------------------------------------ aggregates

# A store's counts per sensor kind and local hour, keyed by the UTC instant
# the local hour starts (the repeated hour of a fall-back night stays two).
HOURLY_BY_KIND = statement(
    """
    SELECT s.{s.kind},
           c.{c.start} - ((c.{c.start} AT TIME ZONE %(tz)s)
                          - date_trunc('hour', c.{c.start} AT TIME ZONE %(tz)s)) AS bucket,
           sum(c.{c.in_count}), sum(c.{c.out_count}),
           sum(extract(epoch FROM c."{c.end}" - c.{c.start})
               * coalesce(c.{c.samples}::float8 / nullif(c.{c.samples_expected}, 0), 1)),
           count(*)
    FROM {s} s
    JOIN {c} c ON c.{c.sensor} = s.{s.id} AND c.{c.start} >= %(lo)s AND c.{c.start} < %(hi)s
    WHERE s.{s.store} = %(store)s
    GROUP BY 1, 2
    """,
    s=Sensor,
    c=CountInterval,
)

# A store's counts per sensor kind and day, week or month (``unit``) from the
# daily totals.
CALENDAR_BY_KIND = statement(
    """
    SELECT s.{s.kind}, date_trunc(%(unit)s, d.{d.day})::date AS bucket,
           sum(d.{d.in_total}), sum(d.{d.out_total}), sum(d.{d.covered_seconds}), sum(d.{d.intervals})
    FROM {s} s
    JOIN {d} d ON d.{d.sensor} = s.{s.id} AND d.{d.day} >= %(lo)s AND d.{d.day} < %(hi)s
    WHERE s.{s.store} = %(store)s
    GROUP BY 1, 2
    """,
    s=Sensor,
    d=CountDay,
)

# ------------------------------------------------------------------ KPIs
# Periods travel as three arrays: label, first day, last day (included).

_SALES_OF_PERIODS = """
    SELECT p.label, d.{d.revenue_currency}, sum(d.{d.tickets}), sum(d.{d.revenue_amount})
    FROM unnest(%s::text[], %s::date[], %s::date[]) AS p(label, lo, hi)
    JOIN {d} d ON d.{d.day} >= p.lo AND d.{d.day} <= p.hi
    """

# Tickets and revenue per period and currency, of the whole network ...
NETWORK_SALES = statement(_SALES_OF_PERIODS + "GROUP BY 1, 2", d=SalesDay)
# ... and of some stores (a fourth parameter: their ids).
STORES_SALES = statement(_SALES_OF_PERIODS + "WHERE d.{d.store} = ANY(%s) GROUP BY 1, 2", d=SalesDay)

# Counts per period and sensor kind, of the whole network ...
NETWORK_TRAFFIC = statement(
    """
    SELECT p.label, s.{s.kind}, sum(d.{d.in_total}), sum(d.{d.out_total}), sum(d.{d.covered_seconds})
    FROM unnest(%s::text[], %s::date[], %s::date[]) AS p(label, lo, hi)
    JOIN {d} d ON d.{d.day} >= p.lo AND d.{d.day} <= p.hi
    JOIN {s} s ON s.{s.id} = d.{d.sensor}
    GROUP BY 1, 2
    """,
    s=Sensor,
    d=CountDay,
)
# ... and of some stores (a fourth parameter: their ids), read from their
# sensors first.
STORES_TRAFFIC = statement(
    """
    SELECT p.label, s.{s.kind}, sum(d.{d.in_total}), sum(d.{d.out_total}), sum(d.{d.covered_seconds})
    FROM {s} s
    CROSS JOIN unnest(%s::text[], %s::date[], %s::date[]) AS p(label, lo, hi)
    JOIN {d} d ON d.{d.sensor} = s.{s.id} AND d.{d.day} >= p.lo AND d.{d.day} <= p.hi
    WHERE s.{s.store} = ANY(%s)
    GROUP BY 1, 2
    """,
    s=Sensor,
    d=CountDay,
)

# ------------------------------------------------------------------ reports

# Entries of a store's sensors of one kind per day (first day, last day,
# store, kind).
VISITORS_PER_DAY = statement(
    """
    SELECT d.{d.day}, sum(d.{d.in_total})
    FROM {s} s JOIN {d} d ON d.{d.sensor} = s.{s.id} AND d.{d.day} >= %s AND d.{d.day} <= %s
    WHERE s.{s.store} = %s AND s.{s.kind} = %s
    GROUP BY 1
    """,
    s=Sensor,
    d=CountDay,
)

# A store's daily sales (store, first day, last day).
SALES_PER_DAY = statement(
    """
    SELECT d.{d.day}, d.{d.revenue_currency}, d.{d.tickets}, d.{d.revenue_amount}
    FROM {d} d
    WHERE d.{d.store} = %s AND d.{d.day} >= %s AND d.{d.day} <= %s
    """,
    d=SalesDay,
)

# Entries of a store's sensors of one kind per local hour of the day (zone,
# UTC low, UTC high, store, kind).
ENTRIES_PER_HOUR = statement(
    """
    SELECT extract(hour FROM c.{c.start} AT TIME ZONE %s)::int, sum(c.{c.in_count})
    FROM {s} s JOIN {c} c ON c.{c.sensor} = s.{s.id} AND c.{c.start} >= %s AND c.{c.start} < %s
    WHERE s.{s.store} = %s AND s.{s.kind} = %s
    GROUP BY 1
    """,
    s=Sensor,
    c=CountInterval,
)
