"""The anomaly notifier: judge a store's recent hours and days
(``footfall.detection``), live every 15 minutes or over a past window, and
keep the stored anomalies in step.

Alert hygiene (reference B.6, item 13): a fault that goes on in consecutive
open periods extends its open anomaly (one open anomaly per sensor and kind,
a partial unique index) and raises no new event; a period judged clean
afterwards resolves it; a fault after a break is a new anomaly; a period
already covered by an anomaly, open or resolved, never raises another one
and an anomaly never grows backwards, so re-running over the same hours
changes nothing (``footfall.detection.tracking``). A new anomaly writes a
``footfall.anomaly`` event (operator audience) in the same transaction."""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from footfall import detection
from footfall.locks import try_lock_store_for_anomaly_check
from footfall.models import Anomaly, AnomalyStatus, CountInterval, Sensor, StoreCalendarDay
from footfall.sql import anomalies as anomalies_sql
from inventory import local_time
from inventory.models import Location
from partners.services import NewEvent, events_record

# Hours judged on each run; runs overlap, which is harmless (see module doc).
DEFAULT_WINDOW = dt.timedelta(hours=48)
# History loaded before the judged window: the baseline weeks, and the days
# a level shift's run is followed back over.
HISTORY = dt.timedelta(weeks=detection.BASELINE_LOOKBACK_WEEKS, days=16)


def grace() -> dt.timedelta:
    """Devices push every 15 minutes; hours younger than this are not judged
    yet, so late data is not mistaken for missing data."""
    return dt.timedelta(minutes=getattr(settings, "FOOTFALL_ANOMALY_GRACE_MINUTES", 120))


def anomalies_detect(
    *, store: Location, now: dt.datetime | None = None, window: dt.timedelta = DEFAULT_WINDOW
) -> list[Anomaly]:
    """Judge the store's recent periods and update its anomalies; returns the
    anomalies opened by this run. Does nothing when another run holds the
    store (the next run catches up)."""
    end = (now or timezone.now()) - grace()
    return _judge(store, end - window, end)


def anomalies_judge_period(
    *, store: Location, first: dt.date, last: dt.date, on_day: Callable[[dt.date], None] | None = None
) -> list[Anomaly]:
    """Judge the store-local days ``first`` .. ``last`` as the live runs
    would have: a week after the other (``detection.PAST_CHUNK_DAYS``; a
    baseline looks a week back or more, so the faults found in one chunk are
    left out of the next ones' baselines, as live), nothing before ``first``.
    Judging the same days again changes nothing. Returns the anomalies
    opened; ``on_day`` is told each day judged."""
    tz = local_time.zone(store.time_zone)
    floor = local_time.day_start(first, tz)
    opened: list[Anomaly] = []
    for chunk_first, chunk_last in detection.past_chunks(first, last):
        start, end = local_time.days_span(chunk_first, chunk_last, tz)
        opened += _judge(store, start, end, not_before=floor)
        if on_day is not None:
            for offset in range((chunk_last - chunk_first).days + 1):
                on_day(chunk_first + dt.timedelta(days=offset))
    return opened


def _judge(
    store: Location, start: dt.datetime, end: dt.datetime, not_before: dt.datetime | None = None
) -> list[Anomaly]:
    first_count = CountInterval.objects.filter(sensor_id=OuterRef("pk")).order_by("start").values("start")[:1]
    sensors = list(
        Sensor.objects.filter(store=store, is_active=True).annotate(first_count=Subquery(first_count)).order_by("pk")
    )
    if not sensors:
        return []
    with transaction.atomic():
        if not try_lock_store_for_anomaly_check(store_id=store.pk):
            return []
        stored = _stored(sensors, start - HISTORY)
        start = detection.catch_up(start, end, [a for items in stored.values() for a in items], not_before)
        tz = local_time.zone(store.time_zone)
        hours, days = detection.window_periods(tz, start, end, not_before)
        if not hours and not days:
            return []
        load_from = min([start] + [d.start for d in days]) - HISTORY
        calendar = store_calendar(store, load_from, end)
        opened: list[Anomaly] = []
        for series in _load_series(store, sensors, load_from, end):
            changes = detection.judge_sensor(
                series=series, calendar=calendar, stored=stored[series.sensor_id], hours=hours, days=days
            )
            _save(changes)
            opened += changes.opened
        sensor_of = {s.pk: s for s in sensors}
        events_record(events=[_event(store, sensor_of[a.sensor_id], a) for a in opened])
        return opened


def _stored(sensors: Sequence[Sensor], since: dt.datetime) -> dict[int, list[Anomaly]]:
    """The sensors' anomalies a run needs: the open ones and those ending
    after ``since`` (the baselines leave them out)."""
    stored: dict[int, list[Anomaly]] = {s.pk: [] for s in sensors}
    rows = Anomaly.objects.filter(sensor_id__in=list(stored)).filter(
        Q(status=AnomalyStatus.OPEN) | Q(period_end__gt=since)
    )
    for anomaly in rows.order_by("period_start", "pk"):
        stored[anomaly.sensor_id].append(anomaly)
    return stored


def store_calendar(store: Location, first: dt.datetime, last: dt.datetime) -> detection.StoreCalendar:
    """The store's opening hours, country and region, and its own calendar
    days between ``first`` and ``last``."""
    tz = local_time.zone(store.time_zone)
    days = StoreCalendarDay.objects.filter(
        store=store, day__gte=local_time.local_date(first, tz), day__lte=local_time.local_date(last, tz)
    )
    return detection.StoreCalendar(
        tz, store.opening_hours or {}, store.country, store.subdivision, {d.day: d.kind for d in days}
    )


def _load_series(
    store: Location, sensors: Sequence[Sensor], start: dt.datetime, end: dt.datetime
) -> list[detection.SensorSeries]:
    """Hourly figures from ``start`` (the history) to ``end`` and an hour
    beyond (a stuck counter's next hour)."""
    params: dict[str, Any] = {
        "tz": store.time_zone,
        "lo": [start],
        "hi": [end + dt.timedelta(hours=1)],
        "sensors": [s.pk for s in sensors],
    }
    hours: dict[int, dict[dt.datetime, detection.HourStat]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(anomalies_sql.HOURLY_BY_SENSOR, params)
        for sensor_id, bucket, in_count, out_count, covered in cursor.fetchall():
            hours[sensor_id][bucket] = detection.HourStat(
                int(in_count), int(out_count), min(float(covered) / 3600, 1.0)
            )
    return [detection.SensorSeries(s.pk, s.kind, hours[s.pk], _counting_since(s)) for s in sensors]


def _counting_since(sensor: Sensor) -> dt.datetime:
    """The sensor's first interval, or its creation if it never sent one
    (a sensor set up that stays silent is missing data from then on)."""
    first: dt.datetime | None = getattr(sensor, "first_count", None)
    return sensor.created_at if first is None else min(first, sensor.created_at)


_FIGURES = ["period_end", "actual", "expected", "expected_low", "expected_high", "details"]


def _save(changes: detection.Changes) -> None:
    """Stored anomalies first (one resolved may make way for a new open one
    of its kind: one open anomaly per sensor and kind), then the new ones."""
    for anomaly in changes.changed:
        anomaly.save(update_fields=[*_FIGURES, "status", "resolved_at", "updated_at"])
    for anomaly in changes.opened:
        anomaly.save()


def anomaly_payload(anomaly: Anomaly, store: Location, sensor: Sensor) -> dict[str, Any]:
    tz = local_time.zone(store.time_zone)
    return {
        "id": anomaly.pk,
        "store": store.code,
        "sensor": sensor.code,
        "kind": anomaly.kind,
        "status": anomaly.status,
        "period_start": local_time.rfc3339(anomaly.period_start, tz),
        "period_end": local_time.rfc3339(anomaly.period_end, tz),
        "metric": anomaly.metric,
        "actual": anomaly.actual,
        "expected": anomaly.expected,
        "expected_low": anomaly.expected_low,
        "expected_high": anomaly.expected_high,
        "method": anomaly.method,
    }


def _event(store: Location, sensor: Sensor, anomaly: Anomaly) -> NewEvent:
    return NewEvent(
        type="footfall.anomaly",
        payload=anomaly_payload(anomaly, store, sensor),
        partner_id=None,
        subject=f"footfall:{store.code}:{sensor.code}",
    )
