"""The anomaly notifier's statement (``footfall.services.anomalies``)."""

from footfall.models import CountInterval
from gateway.sql import statement

# Hourly figures per sensor over several UTC ranges, bucketed by the local
# hour (``AT TIME ZONE``) but keyed by the UTC instant it starts, so the
# repeated hour of a fall-back night stays two buckets.
HOURLY_BY_SENSOR = statement(
    """
    SELECT c.{c.sensor},
           c.{c.start} - ((c.{c.start} AT TIME ZONE %(tz)s)
                          - date_trunc('hour', c.{c.start} AT TIME ZONE %(tz)s)) AS bucket,
           sum(c.{c.in_count}), sum(c.{c.out_count}),
           sum(extract(epoch FROM c."{c.end}" - c.{c.start})
               * coalesce(c.{c.samples}::float8 / nullif(c.{c.samples_expected}, 0), 1))
    FROM unnest(%(lo)s::timestamptz[], %(hi)s::timestamptz[]) AS r(lo, hi)
    JOIN {c} c ON c.{c.start} >= r.lo AND c.{c.start} < r.hi
    WHERE c.{c.sensor} = ANY(%(sensors)s)
    GROUP BY 1, 2
    """,
    c=CountInterval,
)
