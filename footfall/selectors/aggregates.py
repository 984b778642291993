"""Counts of a store per sensor kind by hour, day, week or month, in the
store's zone, with completeness so a gap never looks like a quiet period.

Hours come from the intervals, bucketed by the local hour in SQL (``AT TIME
ZONE``) but keyed by the UTC instant the local hour starts, so the repeated
hour of a fall-back night stays two buckets (25 on that day, 23 on a
spring-forward day). Days, weeks and months come from the daily totals,
which are already per store-local day."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count

from footfall.models import Sensor
from footfall.sql import reads as reads_sql
from inventory import local_time
from inventory.models import Location

GRANULARITIES = ("hour", "day", "week", "month")
# Longest range per request, in days: at most about 750 hourly buckets per kind.
MAX_RANGE_DAYS = {"hour": 31, "day": 366, "week": 731, "month": 1827}


@dataclass(frozen=True)
class AggregateRow:
    kind: str
    bucket: local_time.Bucket
    in_total: int | None
    out_total: int | None
    completeness: float
    intervals: int
    sensors: int


def active_sensors_by_kind(*, store: Location) -> dict[str, int]:
    rows = Sensor.objects.filter(store=store, is_active=True).values("kind").annotate(n=Count("id"))
    return {row["kind"]: row["n"] for row in rows}


def footfall_aggregates(
    *, store: Location, granularity: str, first: dt.date, last: dt.date, kind: str | None = None
) -> list[AggregateRow]:
    """Every bucket of ``first`` .. ``last`` for every kind of sensor the
    store has (or ``kind``), in time order. A bucket without data has null
    counts and completeness 0."""
    tz = local_time.zone(store.time_zone)
    params: dict[str, Any]
    if granularity == "hour":
        buckets = local_time.hour_buckets(first, last, tz)
        lo, hi = buckets[0].start, buckets[-1].end
        sql, params = reads_sql.HOURLY_BY_KIND, {"tz": store.time_zone, "lo": lo, "hi": hi, "store": store.pk}
    else:
        buckets = local_time.calendar_buckets(first, last, granularity, tz)
        end = local_time.next_calendar_start(buckets[-1].label or last, granularity)
        sql, params = (
            reads_sql.CALENDAR_BY_KIND,
            {"unit": granularity, "lo": buckets[0].label, "hi": end, "store": store.pk},
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = {(row[0], row[1]): row[2:] for row in cursor.fetchall()}
    sensors = active_sensors_by_kind(store=store)
    kinds = sorted({k for k, _ in found} | set(sensors))
    rows = []
    for sensor_kind in kinds if kind is None else [k for k in kinds if k == kind]:
        expected = max(sensors.get(sensor_kind, 0), 1)
        for bucket in buckets:
            key = bucket.start if granularity == "hour" else bucket.label
            data = found.get((sensor_kind, key))
            rows.append(_row(sensor_kind, bucket, data, expected))
    return rows


def _row(kind: str, bucket: local_time.Bucket, data: tuple[Any, ...] | None, sensors: int) -> AggregateRow:
    if data is None:
        return AggregateRow(kind, bucket, None, None, 0.0, 0, sensors)
    in_total, out_total, covered, intervals = data
    completeness = min(float(covered or 0) / (sensors * bucket.seconds), 1.0)
    return AggregateRow(kind, bucket, int(in_total), int(out_total), round(completeness, 4), int(intervals), sensors)
