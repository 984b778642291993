"""Statements of sales: till sales intervals, collected click-and-collect
orders and the daily sales both rebuild (``footfall.services.sales`` and
``footfall.services.click_and_collect``)."""

from footfall.models import CollectedOrderSale, SalesDay, SalesInterval
from gateway.sql import statement

# A batch of till intervals as binary arrays (with each row's index in the
# batch); returns the index of every row that changed the table and whether
# it was inserted.
UPSERT_INTERVALS = statement(
    """
    WITH input AS (
        SELECT * FROM unnest(%b::int[], %b::bigint[], %b::text[], %b::timestamptz[], %b::timestamptz[], %b::int[],
                             %b::numeric[], %b::text[])
            AS t(idx, store_id, register, start, stop, tickets, revenue_amount, revenue_currency)
    ),
    written AS (
        INSERT INTO {s} AS s
            ({s.store}, {s.register}, {s.start}, "{s.end}", {s.tickets}, {s.revenue_amount}, {s.revenue_currency},
             {s.received_at})
        SELECT store_id, register, start, stop, tickets, revenue_amount, revenue_currency, now() FROM input
        ON CONFLICT ({s.store}, {s.register}, {s.start}) DO UPDATE SET
            "{s.end}" = EXCLUDED."{s.end}", {s.tickets} = EXCLUDED.{s.tickets},
            {s.revenue_amount} = EXCLUDED.{s.revenue_amount}, {s.revenue_currency} = EXCLUDED.{s.revenue_currency},
            {s.received_at} = EXCLUDED.{s.received_at}
        WHERE (s."{s.end}", s.{s.tickets}, s.{s.revenue_amount}, s.{s.revenue_currency})
              IS DISTINCT FROM (EXCLUDED."{s.end}", EXCLUDED.{s.tickets}, EXCLUDED.{s.revenue_amount},
                                EXCLUDED.{s.revenue_currency})
        RETURNING s.{s.store}, s.{s.register}, s.{s.start}, (s.xmax = 0) AS inserted
    )
    SELECT i.idx, w.inserted FROM written w
    JOIN input i ON i.store_id = w.{s.store} AND i.register = w.{s.register} AND i.start = w.{s.start}
    """,
    s=SalesInterval,
)

# The daily sales of (store, store-local day) pairs, dropped before they are
# rebuilt (a currency that no longer sells that day leaves no row).
DROP_DAYS = statement(
    """
    DELETE FROM {d} d
    USING unnest(%b::bigint[], %b::date[]) AS t(store_id, day)
    WHERE d.{d.store} = t.store_id AND d.{d.day} = t.day
    """,
    d=SalesDay,
)

# A day's sales: its till intervals (by start) and its collected
# click-and-collect orders (one ticket each, by the instant of collection);
# each day is given with its UTC span.
INSERT_DAYS = statement(
    """
    WITH t AS (
        SELECT * FROM unnest(%b::bigint[], %b::date[], %b::timestamptz[], %b::timestamptz[])
            AS t(store_id, day, lo, hi)
    )
    INSERT INTO {d} ({d.store}, {d.day}, {d.revenue_currency}, {d.tickets}, {d.revenue_amount})
    SELECT store_id, day, currency, sum(tickets), sum(amount)
    FROM (
        SELECT t.store_id, t.day, s.{s.revenue_currency} AS currency, s.{s.tickets} AS tickets,
               s.{s.revenue_amount} AS amount
        FROM t JOIN {s} s ON s.{s.store} = t.store_id AND s.{s.start} >= t.lo AND s.{s.start} < t.hi
        UNION ALL
        SELECT t.store_id, t.day, c.{c.revenue_currency}, 1, c.{c.revenue_amount}
        FROM t JOIN {c} c
            ON c.{c.store} = t.store_id AND c.{c.collected_at} >= t.lo AND c.{c.collected_at} < t.hi
    ) AS sales
    GROUP BY 1, 2, 3
    """,
    d=SalesDay,
    s=SalesInterval,
    c=CollectedOrderSale,
)

# Collected orders copied as sales (an order already there is left alone);
# returns the store and instant of each new one.
RECORD_COLLECTED = statement(
    """
    INSERT INTO {c} ({c.order_id}, {c.store}, {c.collected_at}, {c.revenue_amount}, {c.revenue_currency})
    SELECT * FROM unnest(%b::bigint[], %b::bigint[], %b::timestamptz[], %b::numeric[], %b::text[])
    ON CONFLICT ({c.order_id}) DO NOTHING
    RETURNING {c.store}, {c.collected_at}
    """,
    c=CollectedOrderSale,
)
