"""The anomaly notifier: judge a store's recent hours and days
(``footfall.detection``) and keep the stored anomalies in step.

Alert hygiene (reference B.6, item 13): a fault that goes on extends its
open anomaly (one open anomaly per sensor and kind, a partial unique index)
and raises no new event; a period judged clean afterwards resolves it; a
period already covered by an anomaly, open or resolved, never raises another
one, so re-running over the same hours changes nothing. A new anomaly writes
a ``footfall.anomaly`` event (operator audience) in the same transaction."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from footfall import detection
from footfall.locks import try_lock_store_for_anomaly_check
from footfall.models import Anomaly, AnomalyStatus, Sensor
from footfall.sql import anomalies as anomalies_sql
from inventory import local_time
from inventory.models import Location
from partners.services import NewEvent, events_record

# Hours judged on each run; runs overlap, which is harmless (see module doc).
DEFAULT_WINDOW = dt.timedelta(hours=48)


def grace() -> dt.timedelta:
    """Devices push every 15 minutes; hours younger than this are not judged
    yet, so late data is not mistaken for missing data."""
    return dt.timedelta(minutes=getattr(settings, "FOOTFALL_ANOMALY_GRACE_MINUTES", 120))


def _merged(ranges: list[tuple[dt.datetime, dt.datetime]]) -> list[tuple[dt.datetime, dt.datetime]]:
    out: list[tuple[dt.datetime, dt.datetime]] = []
    for low, high in sorted(ranges):
        if out and low <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], high))
        else:
            out.append((low, high))
    return out


def _load_series(
    store: Location, sensors: list[Sensor], start: dt.datetime, end: dt.datetime
) -> list[detection.SensorSeries]:
    """Hourly figures of the judged window and of the same hours in each of
    the baseline weeks (an hour wider either side for DST shifts)."""
    hour = dt.timedelta(hours=1)
    ranges = _merged(
        [
            (start - dt.timedelta(weeks=k) - hour, end - dt.timedelta(weeks=k) + hour)
            for k in range(detection.BASELINE_WEEKS + 1)
        ]
    )
    params: dict[str, Any] = {
        "tz": store.time_zone,
        "lo": [low for low, _ in ranges],
        "hi": [high for _, high in ranges],
        "sensors": [s.pk for s in sensors],
    }
    hours: dict[int, dict[dt.datetime, detection.HourStat]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(anomalies_sql.HOURLY_BY_SENSOR, params)
        for sensor_id, bucket, in_count, out_count, covered in cursor.fetchall():
            hours[sensor_id][bucket] = detection.HourStat(
                int(in_count), int(out_count), min(float(covered) / 3600, 1.0)
            )
    return [detection.SensorSeries(s.pk, s.kind, hours[s.pk]) for s in sensors]


def _judged_window(
    store: Location, now: dt.datetime, window: dt.timedelta
) -> tuple[list[local_time.Bucket], list[local_time.Bucket]]:
    """Local hours ending by ``now - grace`` within ``window``, and the local
    days that ended in that span."""
    tz = local_time.zone(store.time_zone)
    end = now - grace()
    start = end - window
    hours = [
        b
        for b in local_time.hour_buckets(local_time.local_date(start, tz), local_time.local_date(end, tz), tz)
        if b.start >= start and b.end <= end
    ]
    days = [
        b
        for b in local_time.calendar_buckets(
            local_time.local_date(start, tz) - dt.timedelta(days=1), local_time.local_date(end, tz), "day", tz
        )
        if start < b.end <= end
    ]
    return hours, days


def anomalies_detect(
    *, store: Location, now: dt.datetime | None = None, window: dt.timedelta = DEFAULT_WINDOW
) -> list[Anomaly]:
    """Judge the store's recent periods and update its anomalies; returns the
    anomalies opened by this run. Does nothing when another run holds the
    store (the next run catches up)."""
    now = now or timezone.now()
    sensors = list(Sensor.objects.filter(store=store, is_active=True).order_by("pk"))
    hours, days = _judged_window(store, now, window)
    if not sensors or not hours:
        return []
    start, end = hours[0].start, hours[-1].end
    calendar = detection.StoreCalendar(local_time.zone(store.time_zone), store.opening_hours or {}, store.country)
    verdicts: dict[tuple[int, str], list[detection.Verdict]] = {}
    for series in _load_series(store, sensors, min(start, days[0].start) if days else start, end):
        judged = detection.judge_hours(series, calendar, hours) | detection.judge_days(series, calendar, days)
        for kind, items in judged.items():
            verdicts[(series.sensor_id, kind)] = items
    with transaction.atomic():
        if not try_lock_store_for_anomaly_check(store_id=store.pk):
            return []
        return _reconcile(store, {s.pk: s for s in sensors}, verdicts, now)


# ------------------------------------------------------------------ reconcile


@dataclass
class _Track:
    """The state of one (sensor, kind) while walking its verdicts."""

    open: Anomaly | None
    covered: list[tuple[dt.datetime, dt.datetime]]
    pending: list[detection.Verdict]


def _reconcile(
    store: Location,
    sensors: dict[int, Sensor],
    verdicts: dict[tuple[int, str], list[detection.Verdict]],
    now: dt.datetime,
) -> list[Anomaly]:
    earliest = min((v.start for items in verdicts.values() for v in items), default=now)
    stored = Anomaly.objects.filter(sensor_id__in=list(sensors)).filter(
        Q(status=AnomalyStatus.OPEN) | Q(period_end__gt=earliest)
    )
    tracks: dict[tuple[int, str], _Track] = defaultdict(lambda: _Track(None, [], []))
    for anomaly in stored.order_by("period_start"):
        track = tracks[(anomaly.sensor_id, anomaly.kind)]
        track.covered.append((anomaly.period_start, anomaly.period_end))
        if anomaly.status == AnomalyStatus.OPEN:
            track.open = anomaly
    opened: list[Anomaly] = []
    for key, items in verdicts.items():
        opened.extend(_walk(sensors[key[0]], key[1], items, tracks[key], now))
    events_record(events=[_event(store, sensors[a.sensor_id], a) for a in opened])
    return opened


def _walk(sensor: Sensor, kind: str, items: list[detection.Verdict], track: _Track, now: dt.datetime) -> list[Anomaly]:
    opened = []
    for verdict in sorted(items, key=lambda v: v.start):
        if not verdict.fault:
            track.pending = []
            if track.open is not None and verdict.start >= track.open.period_end:
                _resolve(track.open, verdict.start)
                track.open = None
            continue
        if any(low < verdict.end and verdict.start < high for low, high in track.covered):
            continue
        if track.open is not None:
            _extend(track.open, verdict)
            track.covered.append((verdict.start, verdict.end))
            continue
        track.pending.append(verdict)
        if len(track.pending) >= detection.MIN_RUN.get(kind, 1):
            track.open = _open(sensor, kind, track.pending)
            track.covered.append((track.open.period_start, track.open.period_end))
            track.pending = []
            opened.append(track.open)
    return opened


def _open(sensor: Sensor, kind: str, run: list[detection.Verdict]) -> Anomaly:
    anomaly = Anomaly(
        sensor=sensor,
        kind=kind,
        period_start=run[0].start,
        period_end=run[0].end,
        metric=run[0].metric,
        actual=run[0].actual,
        expected=run[0].expected,
        expected_low=run[0].low,
        expected_high=run[0].high,
        method=detection.METHODS[kind],
        details={"periods": 1, "first": run[0].detail},
    )
    for verdict in run[1:]:
        _accumulate(anomaly, verdict)
    anomaly.save()
    return anomaly


def _accumulate(anomaly: Anomaly, verdict: detection.Verdict) -> None:
    anomaly.period_end = max(anomaly.period_end, verdict.end)
    anomaly.details["periods"] = anomaly.details.get("periods", 1) + 1
    if anomaly.kind in detection.WORST_OF:
        anomaly.actual = min(anomaly.actual, verdict.actual)
        return
    anomaly.actual += verdict.actual
    anomaly.expected = _add(anomaly.expected, verdict.expected)
    anomaly.expected_low = _add(anomaly.expected_low, verdict.low)
    anomaly.expected_high = _add(anomaly.expected_high, verdict.high)


def _add(total: float | None, value: float | None) -> float | None:
    return None if total is None or value is None else total + value


def _extend(anomaly: Anomaly, verdict: detection.Verdict) -> None:
    _accumulate(anomaly, verdict)
    anomaly.save(
        update_fields=["period_end", "actual", "expected", "expected_low", "expected_high", "details", "updated_at"]
    )


def _resolve(anomaly: Anomaly, at: dt.datetime) -> None:
    anomaly.status = AnomalyStatus.RESOLVED
    anomaly.resolved_at = at
    anomaly.save(update_fields=["status", "resolved_at", "updated_at"])


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
