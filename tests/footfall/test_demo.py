"""The demo data: sensors, counts and sales ending now, one anomaly, KPIs
to show; loading it again changes nothing."""

import datetime as dt
import io

from django.core.management.base import OutputWrapper
from django.utils import timezone

from footfall import demo
from footfall.models import Anomaly, CountInterval, ReportRecipient, SalesInterval, Sensor
from footfall.selectors.kpis import kpis_compute
from inventory import local_time
from tests.factories import LocationFactory
from tests.footfall.conftest import OPENING_HOURS


def test_the_demo_shows_kpis_and_an_anomaly(db):
    stores = [LocationFactory.create(code=code, opening_hours=OPENING_HOURS) for code in ("PAR01", "PAR02", "LYO01")]
    out = io.StringIO()
    demo.load(stdout=OutputWrapper(out), options={"base_url": "http://127.0.0.1:8000", "data_dir": ""})
    assert Sensor.objects.count() == 4
    rows = CountInterval.objects.count()
    assert rows > 3 * 40 * 96
    assert SalesInterval.objects.filter(store=stores[0]).exists()
    # the faulty door is an anomaly
    assert Anomaly.objects.filter(sensor__code="PAR02-E1", kind="zero_counts").count() == 1
    anomalies = Anomaly.objects.count()
    assert ReportRecipient.objects.filter(store=stores[0]).exists()
    # KPIs of the last week have figures
    today = local_time.local_date(timezone.now(), local_time.zone("Europe/Paris"))
    kpis = kpis_compute(store_ids=[stores[0].pk], first=today - dt.timedelta(days=7), last=today - dt.timedelta(days=1))
    assert kpis.current.visitors > 1000
    assert kpis.current.conversion_rate is not None
    assert 0.2 < kpis.current.conversion_rate < 0.4
    assert kpis.current.capture_rate is not None
    assert f"anomalies opened: {anomalies}" in out.getvalue()
    # loading it again adds nothing
    demo.load(stdout=OutputWrapper(io.StringIO()), options={"base_url": "", "data_dir": ""})
    assert CountInterval.objects.count() == rows
    assert Anomaly.objects.count() == anomalies
