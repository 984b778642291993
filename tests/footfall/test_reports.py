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
from django.utils import translation

from footfall import simulation
from footfall.models import ReportDispatch, ReportRecipient, Sensor
from footfall.selectors.kpis import kpis_compute
from footfall.services.adapters import CountRecord
from footfall.services.anomalies import anomalies_detect
from footfall.services.ingest import count_intervals_ingest
from footfall.services.report_locale import ReportLocale
from footfall.services.report_render import Cell, KpiLine, kpi_lines, store_report_render
from footfall.services.reports import (
    last_complete_period,
    period_containing,
    report_recipients,
    reports_due,
    store_report_build,
    store_report_send,
)
from footfall.services.sales import sales_intervals_ingest
from footfall.tasks import send_due_reports, send_store_report
from gateway.api.money import money_round
from gateway.celery import app
from inventory.models import Location
from tests.factories import LocationFactory

WEEK = period_containing("weekly", dt.date(2026, 5, 4))  # Monday 4 to Sunday 10 May 2026


def load_weeks(
    store: Location,
    sensor: Sensor,
    first: dt.date,
    days: int,
    door_from: dt.datetime | None = None,
    dead_day: dt.date | None = dt.date(2026, 5, 5),
) -> None:
    """Door counts and till sales of ``days`` days from ``first`` (the door
    counter silent before ``door_from``), with a dead door on ``dead_day``."""
    rows = simulation.clean_series(first, days)
    if dead_day is not None:
        simulation.inject_dead_day(rows, dead_day)
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
        if door_from is None or r.start >= door_from
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
    # when the weekly report of 4-10 May is sent to the Paris store's recipient (no language chosen)
    dispatch = store_report_send(store=store_with_data, period=WEEK)
    # then one email went to them, in French (the store is in France)
    assert dispatch is not None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["manager.par01@example.com"]
    assert message.subject == f"Rapport de fréquentation PAR01 {store_with_data.name}, semaine 19, 4–10 mai 2026"
    assert message.extra_headers["Content-Language"] == "fr"
    # with an HTML body showing the three charts inline and the figures
    assert isinstance(message, EmailMultiAlternatives)
    html, mimetype = message.alternatives[0]
    assert isinstance(html, str)
    assert mimetype == "text/html"
    assert '<html lang="fr">' in html
    images = [part for part in message.attachments if isinstance(part, MIMEImage)]
    assert sorted(part["Content-ID"] for part in images) == [
        "<conversion_by_day>",
        "<traffic_by_day>",
        "<traffic_by_hour>",
    ]
    for cid in ("traffic_by_day", "traffic_by_hour", "conversion_by_day"):
        assert f'src="cid:{cid}"' in html
    assert all(bytes(part.get_payload(decode=True)).startswith(b"\x89PNG") for part in images)
    assert "Conversion (tickets / visiteurs)" in html
    # and the anomaly of the week (the dead Tuesday) in plain words, local times
    assert "mar. 5 mai 09:00–20:00" in html
    assert "Le compteur de la porte n’a compté personne alors que le magasin était ouvert" in html
    # and the same report as a PDF attachment
    pdfs = [a for a in message.attachments if not isinstance(a, MIMEImage)]
    assert [(name, mimetype) for name, _content, mimetype in pdfs] == [
        ("footfall-PAR01-weekly-2026-05-04-fr.pdf", "application/pdf")
    ]
    assert pdfs[0][1].startswith(b"%PDF")


def test_the_report_figures_are_the_kpis_of_the_week_written_the_french_way(store_with_data):
    store_report_send(store=store_with_data, period=WEEK)
    text = mail.outbox[0].body
    kpis = kpis_compute(store_ids=[store_with_data.pk], first=WEEK.first, last=WEEK.last).current
    assert kpis.conversion_rate is not None
    assert kpis.revenue is not None
    # French grouping (a narrow no-break space), decimal comma, the euro sign after the amount
    visitors = f"{kpis.visitors:,}".replace(",", "\u202f")
    assert f"- Visiteurs\u00a0: {visitors} |" in text
    conversion = f"{kpis.conversion_rate * 100:.1f}".replace(".", ",")
    assert f"{conversion}\u00a0%" in text
    revenue = f"{money_round(kpis.revenue, 'EUR'):,}".replace(",", "\u202f").replace(".", ",")
    assert f"{revenue}\u00a0€" in text


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
    assert sorted(m.subject.split(", ", 1)[-1] for m in mail.outbox) == ["avril 2026", "semaine 19, 4–10 mai 2026"]
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


# ------------------------------------------------------------------ languages


def test_each_recipient_gets_the_report_in_their_language_rendered_once_per_language(store_with_data):
    # given two more recipients: one who reads English, one who chose French explicitly
    ReportRecipient.objects.create(store=store_with_data, email="analyst@example.com", language="en")
    ReportRecipient.objects.create(store=store_with_data, email="dg@example.com", language="fr")
    # when the week is sent
    dispatch = store_report_send(store=store_with_data, period=WEEK)
    # then one message per language, each to its readers
    assert dispatch is not None
    assert sorted(dispatch.recipients) == ["analyst@example.com", "dg@example.com", "manager.par01@example.com"]
    by_language = {m.extra_headers["Content-Language"]: m for m in mail.outbox}
    assert sorted(by_language) == ["en", "fr"]
    assert by_language["fr"].to == ["dg@example.com", "manager.par01@example.com"]
    assert by_language["en"].to == ["analyst@example.com"]
    english = by_language["en"]
    assert english.subject == f"Footfall report PAR01 {store_with_data.name}, week 19, 4–10 May 2026"
    assert "- Visitors: " in english.body
    assert "Tue 5 May 09:00–20:00: the door counter counted nobody while the store was open" in english.body
    assert "n’a compté personne" in by_language["fr"].body


def test_the_default_language_follows_the_store_country(db):
    paris = LocationFactory.create(code="PAR09", country="FR")
    london = LocationFactory.create(code="LON01", country="GB", time_zone="Europe/London")
    for store in (paris, london):
        ReportRecipient.objects.create(store=store, email=f"boss@{store.code.lower()}.example.com")
    ReportRecipient.objects.create(store=london, email="visitor@example.com", language="fr")
    assert report_recipients(store=paris, frequency="weekly") == {"fr": ["boss@par09.example.com"]}
    assert report_recipients(store=london, frequency="weekly") == {
        "en": ["boss@lon01.example.com"],
        "fr": ["visitor@example.com"],
    }


# ------------------------------------------------------------------ comparisons


def test_a_month_is_compared_weekday_to_weekday():
    # March 2026 (31 days, from Sunday 1st) against the 31 days from Sunday 25 January: 5 weeks before
    march = period_containing("monthly", dt.date(2026, 3, 10))
    assert (march.comparison.first, march.comparison.last) == (dt.date(2026, 1, 25), dt.date(2026, 2, 24))
    # February 2026 (28 days) against the 28 days 4 weeks before
    february = period_containing("monthly", dt.date(2026, 2, 10))
    assert (february.comparison.first, february.comparison.last) == (dt.date(2026, 1, 4), dt.date(2026, 1, 31))
    # every day meets the same weekday, last year too (52 weeks before)
    for period in (march, february, WEEK):
        for span in (period.comparison, period.last_year):
            assert span.days == period.span.days
            assert span.first.weekday() == period.first.weekday()
            assert span.first < period.first


def test_the_monthly_report_says_what_it_compares(store_with_data):
    april = period_containing("monthly", dt.date(2026, 4, 1))
    report = store_report_build(store=store_with_data, period=april)
    rendered = store_report_render(report, language="en")
    # April 2026 (30 days from Wednesday 1st) against the 30 days from Wednesday 25 February
    assert (report.previous_kpis.first, report.previous_kpis.last) == (dt.date(2026, 2, 25), dt.date(2026, 3, 26))
    assert (
        "Compared weekday to weekday: the previous period is Wed 25 Feb 2026 – Thu 26 Mar 2026, the same 30 days "
        "starting on the same weekday 5 weeks earlier; last year is Wed 2 Apr 2025 – Thu 1 May 2025, "
        "52 weeks earlier."
    ) in rendered.text


def _line(report, label: str, language: str = "en") -> KpiLine:
    with translation.override(language):
        lines = kpi_lines(report, ReportLocale.of(language, "FR"))
    return next(line for line in lines if line.label == label)


@pytest.fixture
def half_empty_previous_week(store, entrance) -> Location:
    """Door and tills of 27 April to 10 May, but the door counter of the week
    of 27 April sent only from Thursday 10:00 (86 of its 168 hours: 51.2 %)."""
    load_weeks(store, entrance, dt.date(2026, 4, 27), 14, door_from=simulation.local_hour(dt.date(2026, 4, 30), 10))
    return store


def test_an_incomplete_previous_period_is_flagged_instead_of_compared(half_empty_previous_week):
    report = store_report_build(store=half_empty_previous_week, period=WEEK)
    assert report.previous_kpis.entrance_completeness is not None
    assert report.previous_kpis.entrance_completeness == round(86 / 168, 4)
    visitors = _line(report, "Visitors")
    # the previous figure is shown, flagged, and the change is a warning, not a +59 %
    assert visitors.previous.warn
    assert visitors.change == Cell("previous period only 51% complete: no comparison", True)
    conversion = _line(report, "Conversion (tickets / visitors)")
    assert conversion.change.warn
    assert "no comparison" in conversion.change.text
    assert _line(report, "Door data received").previous == Cell(
        "51,2%", True
    )  # English words, numbers as written in France (en_FR)
    # sales do not depend on the door counter: still compared
    tickets = _line(report, "Tickets (tills and click-and-collect pickups)")
    assert not tickets.change.warn
    assert tickets.change.text.endswith("%")
    # and in French
    assert _line(report, "Visiteurs", "fr").change.text == (
        "période précédente complète à seulement 51\u00a0%\u00a0: pas de comparaison"
    )


def test_passersby_of_a_half_empty_window_counter_are_not_compared(store, entrance, window):
    # given a complete door counter, and a window counter silent until Thursday 10:00 of the previous week
    load_weeks(store, entrance, dt.date(2026, 4, 27), 14)
    silent_until = simulation.local_hour(dt.date(2026, 4, 30), 10)
    street = simulation.clean_series(dt.date(2026, 4, 27), 14, seed=7)
    records = [
        CountRecord(
            locator="",
            sensor_code=window.code,
            start=r.start,
            end=r.start + dt.timedelta(hours=1),
            in_value=5 * r.in_count,
            out_value=5 * r.out_count,
        )
        for r in street.values()
        if r.start >= silent_until
    ]
    count_intervals_ingest(caller=None, records=records, now=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    report = store_report_build(store=store, period=WEEK)
    # then passers-by and the capture rate are flagged, not compared; visitors are
    for label in ("Passers-by", "Capture rate (visitors / passers-by)"):
        line = _line(report, label)
        assert line.previous.warn, label
        assert line.change == Cell("previous period only 51% complete: no comparison", True), label
    assert not _line(report, "Visitors").change.warn


def test_no_data_last_year_is_no_data_not_zero(store_with_data):
    report = store_report_build(store=store_with_data, period=WEEK)
    for label in ("Visitors", "Tickets (tills and click-and-collect pickups)", "Revenue", "Door data received"):
        line = _line(report, label)
        assert line.last_year.text == "no data", label
        assert line.last_year_change.text == "–", label


def test_a_store_without_tills_shows_no_conversion(store, entrance):
    # given a week of door counts and no till at all
    rows = simulation.clean_series(WEEK.first, 7)
    records = [
        CountRecord(
            locator="",
            sensor_code=entrance.code,
            start=r.start,
            end=r.start + dt.timedelta(hours=1),
            in_value=r.in_count,
            out_value=r.out_count,
        )
        for r in rows.values()
    ]
    count_intervals_ingest(caller=None, records=records, now=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    report = store_report_build(store=store, period=WEEK)
    assert report.kpis.conversion_rate is None
    assert _line(report, "Visitors").current.text != "no data"
    for label in ("Conversion (tickets / visitors)", "Tickets (tills and click-and-collect pickups)", "Revenue"):
        assert _line(report, label).current.text == "no data", label
    assert "0.0%" not in store_report_render(report, language="en").text
