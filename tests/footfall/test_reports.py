"""Weekly and monthly reports: an HTML email with inline charts and the PDF
attached, sent once per period by the scheduled task, on demand by the
command."""

import datetime as dt
from collections.abc import Iterator
from email.mime.image import MIMEImage
from pathlib import Path

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command

from footfall import simulation
from footfall.models import ReportDispatch, ReportRecipient, Sensor
from footfall.selectors.kpis import kpis_compute
from footfall.services.adapters import CountRecord
from footfall.services.anomalies import anomalies_detect
from footfall.services.ingest import count_intervals_ingest
from footfall.services.reports import last_complete_period, period_containing, reports_due, store_report_send
from footfall.services.sales import sales_intervals_ingest
from footfall.tasks import send_due_reports, send_store_report
from gateway.celery import app
from inventory.models import Location

WEEK = period_containing("weekly", dt.date(2026, 5, 4))  # Monday 4 to Sunday 10 May 2026


def load_weeks(store: Location, sensor: Sensor, first: dt.date, days: int) -> None:
    rows = simulation.clean_series(first, days)
    simulation.inject_dead_day(rows, dt.date(2026, 5, 5))
    records = [
        CountRecord(
            locator="",
            sensor_code=sensor.code,
            start=r.start,
            end=r.start + dt.timedelta(hours=1),
            in_value=r.in_count,
            out_value=r.out_count,
        )
        for r in rows.values()
    ]
    count_intervals_ingest(caller=None, records=records, now=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    sales = [
        {
            "store": store.code,
            "register": "T1",
            "start": r.start.isoformat(),
            "end": (r.start + dt.timedelta(hours=1)).isoformat(),
            "tickets": r.tickets,
            "revenue": {"amount": str(r.revenue), "currency": "EUR"},
        }
        for r in rows.values()
        if r.tickets
    ]
    results = sales_intervals_ingest(
        caller=None, payload={"intervals": sales}, now=dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    )
    assert {r.status for r in results} == {"created"}


@pytest.fixture
def store_with_data(store, entrance) -> Location:
    load_weeks(store, entrance, dt.date(2026, 3, 23), 50)
    anomalies_detect(store=store, now=simulation.local_hour(dt.date(2026, 5, 6), 7))
    ReportRecipient.objects.create(store=store, email="manager.par01@example.com")
    return store


@pytest.fixture
def eager_celery() -> Iterator[None]:
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


def test_a_weekly_report_is_an_html_email_with_charts_and_a_pdf(store_with_data):
    # when the weekly report of 4-10 May is sent
    dispatch = store_report_send(store=store_with_data, period=WEEK)
    # then one email went to the store's recipient
    assert dispatch is not None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["manager.par01@example.com"]
    assert "PAR01" in message.subject
    assert "week 2026-W19" in message.subject
    # with an HTML body showing the three charts inline and the figures
    assert isinstance(message, EmailMultiAlternatives)
    html, mimetype = message.alternatives[0]
    assert isinstance(html, str)
    assert mimetype == "text/html"
    images = [part for part in message.attachments if isinstance(part, MIMEImage)]
    assert sorted(part["Content-ID"] for part in images) == [
        "<conversion_by_day>",
        "<traffic_by_day>",
        "<traffic_by_hour>",
    ]
    for cid in ("traffic_by_day", "traffic_by_hour", "conversion_by_day"):
        assert f'src="cid:{cid}"' in html
    assert all(bytes(part.get_payload(decode=True)).startswith(b"\x89PNG") for part in images)
    assert "Conversion (tickets / visitors)" in html
    # and the anomaly of the week (the dead Tuesday) named with what was expected
    assert "Zero counts during opening hours" in html
    assert "Tue 05 May 09:00" in html
    # and the same report as a PDF attachment
    pdfs = [a for a in message.attachments if not isinstance(a, MIMEImage)]
    assert [(name, mimetype) for name, _content, mimetype in pdfs] == [
        ("footfall-PAR01-weekly-2026-05-04.pdf", "application/pdf")
    ]
    assert pdfs[0][1].startswith(b"%PDF")
    assert len(pdfs[0][1]) > 20_000  # five pages with three charts, not an empty shell


def test_the_report_figures_are_the_kpis_of_the_week(store_with_data):
    store_report_send(store=store_with_data, period=WEEK)
    text = mail.outbox[0].body
    kpis = kpis_compute(store_ids=[store_with_data.pk], first=WEEK.first, last=WEEK.last).current
    shown = f"{kpis.visitors:,}".replace(",", " ")
    assert f"- Visitors: {shown} |" in text
    assert f"{(kpis.conversion_rate or 0) * 100:.1f} %" in text


def test_a_report_is_sent_once_per_period(store_with_data):
    assert store_report_send(store=store_with_data, period=WEEK) is not None
    assert store_report_send(store=store_with_data, period=WEEK) is None
    assert len(mail.outbox) == 1
    assert ReportDispatch.objects.filter(store=store_with_data, frequency="weekly").count() == 1


def test_the_scheduled_task_sends_what_is_due_once(store_with_data):
    # given the store's recipient and reports due on Monday 11 May (week 19, April)
    now = dt.datetime(2026, 5, 11, 6, tzinfo=dt.UTC)
    due = reports_due(now=now)
    assert [(p.frequency, p.first) for _, p in due] == [
        ("weekly", dt.date(2026, 5, 4)),
        ("monthly", dt.date(2026, 4, 1)),
    ]
    # when the beat task runs (twice)
    for _ in range(2):
        for store_id, period in reports_due(now=now):
            send_store_report.apply(
                args=(store_id, period.frequency, period.first.isoformat(), period.last.isoformat())
            )
    # then the two reports went out once each
    assert sorted(m.subject.split(", ")[-1] for m in mail.outbox) == [
        "April 2026",
        "week 2026-W19 (04 May - 10 May 2026)",
    ]
    assert reports_due(now=now) == []


def test_the_beat_task_fans_out_one_task_per_report(store_with_data, eager_celery):
    ReportRecipient.objects.update(monthly=False)
    assert send_due_reports() == 1  # last week's report, relative to today
    assert len(mail.outbox) == 1
    assert send_due_reports() == 0


def test_no_recipient_no_email(store, entrance):
    assert store_report_send(store=store, period=WEEK) is None
    assert mail.outbox == []


def test_the_command_sends_on_demand_and_saves_the_pdf(store_with_data, tmp_path: Path):
    pdf = tmp_path / "report.pdf"
    call_command(
        "footfall_report",
        "--store",
        "PAR01",
        "--frequency",
        "weekly",
        "--period-start",
        "2026-05-06",
        "--to",
        "analyst@example.com",
        "--save-pdf",
        str(pdf),
    )
    assert pdf.read_bytes().startswith(b"%PDF")
    assert mail.outbox[0].to == ["analyst@example.com"]
    # on demand means again, even when the period was sent already
    call_command("footfall_report", "--store", "PAR01", "--period-start", "2026-05-06")
    assert len(mail.outbox) == 2


def test_periods():
    assert last_complete_period("weekly", dt.date(2026, 5, 11)) == period_containing("weekly", dt.date(2026, 5, 10))
    assert last_complete_period("weekly", dt.date(2026, 5, 10)).first == dt.date(2026, 4, 27)
    month = last_complete_period("monthly", dt.date(2026, 3, 1))
    assert (month.first, month.last) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
