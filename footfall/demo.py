"""Demo footfall: sensors at the demo stores, seven weeks of quarter-hour
counts and hourly till sales ending now (synthetic, deterministic for a
given day, see footfall.simulation), one fault (PAR02's door counted
nothing on the last open day) that the notifier turns into an anomaly, and
a report recipient for PAR01; the demo's collected click-and-collect order
(commerce.demo) is counted as a sale. With ``--data-dir`` holding
calit2_door_counts.csv, the real CalIt2 door counts are replayed into a
second door of LYO01, shifted by whole weeks to end yesterday."""

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import OutputWrapper
from django.utils import timezone

from footfall import simulation
from footfall.holidays import is_public_holiday
from footfall.models import ReportRecipient, Sensor, SensorKind
from footfall.services.adapters import MAX_BATCH_RECORDS, CountRecord
from footfall.services.anomalies import anomalies_detect
from footfall.services.click_and_collect import collected_orders_fold
from footfall.services.ingest import count_intervals_ingest
from footfall.services.sales import sales_intervals_ingest
from inventory import local_time
from inventory.models import Location

# store, sensor code, name, kind, device serial, channel, daily visitors (passers-by for a window)
DEMO_SENSORS = [
    ("PAR01", "PAR01-E1", "Main door", SensorKind.ENTRANCE, "00:6E:02:01:A2:3F", "1000", 1200),
    ("PAR01", "PAR01-W1", "Shop window, rue de la Roquette", SensorKind.WINDOW, "", "", 9000),
    ("PAR02", "PAR02-E1", "Main door", SensorKind.ENTRANCE, "", "", 800),
    ("LYO01", "LYO01-E1", "Main door", SensorKind.ENTRANCE, "", "", 1000),
]
DAYS = 49  # six weeks of baseline before the judged days, and the judged days
FAULTY_SENSOR = "PAR02-E1"
CALIT2_SENSOR = ("LYO01", "LYO01-E2", "North door (CalIt2 replay)")


def load(*, stdout: OutputWrapper, options: dict[str, Any]) -> None:
    now = timezone.now()
    sensors = _sensors()
    if not sensors:
        stdout.write("  footfall: no demo store found, skipped")
        return
    for index, sensor in enumerate(sensors):
        _counts_and_sales(sensor, seed=index + 1, now=now, stdout=stdout)
    _calit2(options, now, stdout)
    ReportRecipient.objects.get_or_create(store=sensors[0].store, email="manager.par01@example.com")
    opened = sum(len(anomalies_detect(store=s.store, now=now, window=dt.timedelta(hours=72))) for s in sensors)
    stdout.write(f"  footfall: {len(sensors)} sensors, {DAYS} days of counts and sales, anomalies opened: {opened}")
    # The beat task does this every 30 s; done here so the KPIs show the demo's collected order at once.
    stdout.write(f"  footfall: collected click-and-collect orders counted as sales: {collected_orders_fold()}")
    today = local_time.local_date(now, local_time.zone("Europe/Paris"))
    stdout.write(
        f"  try: GET /api/v1/footfall/kpis?store=PAR01&from={today - dt.timedelta(days=7)}&to={today}"
        "  |  GET /api/v1/footfall/anomalies  |  manage.py footfall_report --store PAR01 --to you@example.com"
    )


def _sensors() -> list[Sensor]:
    out = []
    for code, sensor_code, name, kind, serial, channel, _ in DEMO_SENSORS:
        store = Location.objects.filter(code=code).first()
        if store is None:
            continue
        sensor, _ = Sensor.objects.update_or_create(
            code=sensor_code,
            defaults={"store": store, "name": name, "kind": kind, "device_serial": serial, "channel": channel},
        )
        out.append(sensor)
    return out


def _profile(sensor: Sensor) -> simulation.StoreProfile:
    visitors = next(spec[6] for spec in DEMO_SENSORS if spec[1] == sensor.code)
    return simulation.StoreProfile(daily_visitors=visitors, tz=local_time.zone(sensor.store.time_zone))


def _last_open_day(today: dt.date) -> dt.date:
    day = today - dt.timedelta(days=1)
    while day.weekday() == 6 or is_public_holiday("FR", day):
        day -= dt.timedelta(days=1)
    return day


def _counts_and_sales(sensor: Sensor, *, seed: int, now: dt.datetime, stdout: OutputWrapper) -> None:
    profile = _profile(sensor)
    today = local_time.local_date(now, profile.tz)
    rows = simulation.clean_series(today - dt.timedelta(days=DAYS), DAYS + 1, seed=seed, profile=profile)
    if sensor.code == FAULTY_SENSOR:
        simulation.inject_dead_day(rows, _last_open_day(today), profile)
    rows = {start: row for start, row in rows.items() if start + dt.timedelta(hours=1) <= now}
    if sensor.kind == SensorKind.ENTRANCE:
        quarters = simulation.quarter_hours(rows, seed=seed)
        spans = [(start, start + dt.timedelta(minutes=15), a, b) for start, a, b in quarters]
        _sales(sensor, rows)
    else:
        spans = [(r.start, r.start + dt.timedelta(hours=1), r.in_count, r.out_count) for r in rows.values()]
    records = [
        CountRecord(
            locator="", sensor_code=sensor.code, start=s, end=e, in_value=a, out_value=b, samples=1, samples_expected=1
        )
        for s, e, a, b in spans
    ]
    for chunk in range(0, len(records), MAX_BATCH_RECORDS):
        count_intervals_ingest(caller=None, records=records[chunk : chunk + MAX_BATCH_RECORDS], now=now)


def _sales(sensor: Sensor, rows: dict[dt.datetime, simulation.HourRow]) -> None:
    intervals = [
        {
            "store": sensor.store.code,
            "register": "T1",
            "start": row.start.isoformat(),
            "end": (row.start + dt.timedelta(hours=1)).isoformat(),
            "tickets": row.tickets,
            "revenue": {"amount": str(row.revenue.quantize(Decimal("0.01"))), "currency": "EUR"},
        }
        for row in rows.values()
        if row.tickets
    ]
    for chunk in range(0, len(intervals), MAX_BATCH_RECORDS):
        sales_intervals_ingest(caller=None, payload={"intervals": intervals[chunk : chunk + MAX_BATCH_RECORDS]})


def _calit2(options: dict[str, Any], now: dt.datetime, stdout: OutputWrapper) -> None:
    source = Path(options.get("data_dir") or "") / "calit2_door_counts.csv"
    store = Location.objects.filter(code=CALIT2_SENSOR[0]).first()
    if not options.get("data_dir") or not source.is_file() or store is None:
        return
    Sensor.objects.update_or_create(
        code=CALIT2_SENSOR[1], defaults={"store": store, "name": CALIT2_SENSOR[2], "kind": SensorKind.ENTRANCE}
    )
    yesterday = local_time.local_date(now, local_time.zone(store.time_zone)) - dt.timedelta(days=1)
    stdout.write(f"  footfall: replaying {source.name} into {CALIT2_SENSOR[1]}")
    call_command(
        "footfall_import_csv",
        str(source),
        "--sensor",
        CALIT2_SENSOR[1],
        "--preset",
        "calit2",
        "--end-on",
        yesterday.isoformat(),
        stdout=stdout,
    )
