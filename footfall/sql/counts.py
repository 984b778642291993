"""Statements of count ingest (``footfall.services.ingest`` and
``footfall.services.cumulative``)."""

from footfall.models import CountDay, CountInterval
from gateway.sql import fragment, statement

# The session's staging table of large batches (``gateway.sql.staged_fetch``):
# a temporary table, not a model, emptied at every commit.
STAGE = "footfall_ingest_stage"
STAGE_COLUMNS = "sensor_id,start,stop,in_count,out_count,samples,samples_expected,in_cumulative,out_cumulative"
STAGE_TYPES = ["int8", "timestamptz", "timestamptz", "int4", "int4", "int2", "int2", "int8", "int8"]

_UPSERT_HEAD = """
INSERT INTO {c} AS c
    ({c.sensor}, {c.start}, "{c.end}", {c.in_count}, {c.out_count}, {c.samples}, {c.samples_expected},
     {c.in_cumulative}, {c.out_cumulative}, {c.received_at})
SELECT sensor_id, start, stop, in_count, out_count, samples, samples_expected, in_cumulative, out_cumulative, now()
FROM """
_UPSERT_TAIL = """
ON CONFLICT ({c.sensor}, {c.start}) DO UPDATE SET
    "{c.end}" = EXCLUDED."{c.end}", {c.in_count} = EXCLUDED.{c.in_count}, {c.out_count} = EXCLUDED.{c.out_count},
    {c.samples} = EXCLUDED.{c.samples}, {c.samples_expected} = EXCLUDED.{c.samples_expected},
    {c.in_cumulative} = EXCLUDED.{c.in_cumulative}, {c.out_cumulative} = EXCLUDED.{c.out_cumulative},
    {c.received_at} = EXCLUDED.{c.received_at}
WHERE (c."{c.end}", c.{c.in_count}, c.{c.out_count}, c.{c.samples}, c.{c.samples_expected}, c.{c.in_cumulative},
       c.{c.out_cumulative})
      IS DISTINCT FROM (EXCLUDED."{c.end}", EXCLUDED.{c.in_count}, EXCLUDED.{c.out_count}, EXCLUDED.{c.samples},
                        EXCLUDED.{c.samples_expected}, EXCLUDED.{c.in_cumulative}, EXCLUDED.{c.out_cumulative})
RETURNING c.{c.sensor}, c.{c.start}, (c.xmax = 0) AS inserted
"""

# The batch's rows as nine binary array parameters (one per STAGE_COLUMNS
# column, in that order): one round trip, the cheaper way up to about 1,500
# rows (see footfall.services.ingest.STAGE_FROM).
UPSERT_FROM_ARRAYS = statement(
    _UPSERT_HEAD
    + """unnest(%b::bigint[], %b::timestamptz[], %b::timestamptz[], %b::int[], %b::int[], %b::smallint[],
              %b::smallint[], %b::bigint[], %b::bigint[])
    AS w(sensor_id, start, stop, in_count, out_count, samples, samples_expected, in_cumulative, out_cumulative)"""
    + _UPSERT_TAIL,
    c=CountInterval,
)

# The same upsert reading the rows staged by binary COPY into STAGE. Not
# registered: the temporary table exists only in a session that staged rows,
# so PREPARE could not resolve it; every other name of the text is the one
# UPSERT_FROM_ARRAYS parses (same head and tail).
UPSERT_FROM_STAGE = fragment(_UPSERT_HEAD + STAGE + _UPSERT_TAIL, c=CountInterval)

# Stored spans that may overlap a batch: per sensor, from the last interval
# starting before the batch's first start to the batch's last end.
STORED_SPANS = statement(
    """
    SELECT c.{c.sensor}, c.{c.start}, c."{c.end}"
    FROM unnest(%b::bigint[], %b::timestamptz[], %b::timestamptz[]) AS w(sensor_id, lo, hi)
    CROSS JOIN LATERAL (
        SELECT coalesce(max(p.{c.start}), w.lo) AS first_start
        FROM {c} p WHERE p.{c.sensor} = w.sensor_id AND p.{c.start} < w.lo
    ) f
    JOIN {c} c ON c.{c.sensor} = w.sensor_id AND c.{c.start} >= f.first_start AND c.{c.start} < w.hi
    ORDER BY c.{c.sensor}, c.{c.start}
    """,
    c=CountInterval,
)

# Stored running totals from the last one before each sensor's batch to the
# first one after it.
STORED_READINGS = statement(
    """
    SELECT c.{c.sensor}, c.{c.start}, c."{c.end}", c.{c.in_count}, c.{c.out_count}, c.{c.samples},
           c.{c.samples_expected}, c.{c.in_cumulative}, c.{c.out_cumulative}
    FROM unnest(%b::bigint[], %b::timestamptz[], %b::timestamptz[]) AS w(sensor_id, lo, hi)
    JOIN {c} c ON c.{c.sensor} = w.sensor_id AND c.{c.in_cumulative} IS NOT NULL
     AND c.{c.start} >= coalesce((SELECT max(p.{c.start}) FROM {c} p WHERE p.{c.sensor} = w.sensor_id
                                  AND p.{c.start} < w.lo AND p.{c.in_cumulative} IS NOT NULL), w.lo)
     AND c.{c.start} <= coalesce((SELECT min(n.{c.start}) FROM {c} n WHERE n.{c.sensor} = w.sensor_id
                                  AND n.{c.start} > w.hi AND n.{c.in_cumulative} IS NOT NULL), w.hi)
    """,
    c=CountInterval,
)

# Daily totals of (sensor, store-local day) pairs, each day given as its UTC
# span, recomputed from the intervals.
REBUILD_DAYS = statement(
    """
    INSERT INTO {d} ({d.sensor}, {d.day}, {d.in_total}, {d.out_total}, {d.covered_seconds}, {d.intervals})
    SELECT w.sensor_id, w.day, coalesce(sum(c.{c.in_count}), 0), coalesce(sum(c.{c.out_count}), 0),
           coalesce(sum(extract(epoch FROM c."{c.end}" - c.{c.start})
                        * coalesce(c.{c.samples}::float8 / nullif(c.{c.samples_expected}, 0), 1)), 0),
           count(c.{c.start})
    FROM unnest(%b::bigint[], %b::date[], %b::timestamptz[], %b::timestamptz[]) AS w(sensor_id, day, lo, hi)
    LEFT JOIN {c} c ON c.{c.sensor} = w.sensor_id AND c.{c.start} >= w.lo AND c.{c.start} < w.hi
    GROUP BY w.sensor_id, w.day
    ON CONFLICT ({d.sensor}, {d.day}) DO UPDATE SET
        {d.in_total} = EXCLUDED.{d.in_total}, {d.out_total} = EXCLUDED.{d.out_total},
        {d.covered_seconds} = EXCLUDED.{d.covered_seconds}, {d.intervals} = EXCLUDED.{d.intervals}
    """,
    c=CountInterval,
    d=CountDay,
)
