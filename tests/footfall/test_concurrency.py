"""Concurrent ingest over real HTTP (granian, two worker processes): batches
of the same sensor and day sent at once must all land, and the daily totals
rebuilt by each batch must include the others' rows (the per-sensor ingest
lock); the same batch sent twice at once is stored once."""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from footfall.models import CountDay, CountInterval, Sensor, SensorKind
from partners.models import CallerKind
from tests.factories import LocationFactory, make_client, token_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]

DAY_START = dt.datetime(2026, 3, 10, 23, 0, tzinfo=dt.UTC)  # 11 March 00:00 in Paris


def batch(sensor: str, first_quarter: int, quarters: int) -> dict:
    rows = []
    for q in range(first_quarter, first_quarter + quarters):
        start = DAY_START + dt.timedelta(minutes=15 * q)
        end = start + dt.timedelta(minutes=15)
        rows.append({"sensor": sensor, "start": start.isoformat(), "end": end.isoformat(), "in": q % 7 + 1, "out": 1})
    return {"intervals": rows}


def test_concurrent_batches_of_one_sensor_day_all_count(gateway_server):
    # given a sensor and 8 batches, each 12 different quarter-hours of the same day
    store = LocationFactory.create(code="PAR01")
    sensor = Sensor.objects.create(store=store, code="PAR01-E1", name="Door", kind=SensorKind.ENTRANCE)
    token = token_for(make_client(CallerKind.OPERATOR))
    batches = [batch("PAR01-E1", 12 * i, 12) for i in range(8)]

    def send(body: dict) -> int:
        response = requests.post(
            f"{gateway_server.url}/api/v1/footfall/counts",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return int(response.json()["created"])

    # when they are sent at the same time (and the first one twice)
    with ThreadPoolExecutor(8) as pool:
        created = list(pool.map(send, [*batches, batches[0]]))
    # then every quarter-hour is stored once, and the day total holds them all
    assert sum(created) == 96
    intervals = CountInterval.objects.filter(sensor=sensor)
    assert intervals.count() == 96
    expected_in = sum(q % 7 + 1 for q in range(96))
    day = CountDay.objects.get(sensor=sensor)
    assert (day.day, day.in_total, day.out_total, day.intervals) == (dt.date(2026, 3, 11), expected_in, 96, 96)
