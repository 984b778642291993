"""Weekly and monthly store reports: an HTML email with charts inline
(traffic by day and by hour, conversion, the previous period beside this
one, the anomalies of the period) and the same as a PDF attachment, sent
through Django's email backend.

Each store's report for a period is sent once: a ``ReportDispatch`` row,
written in the same transaction as the sending, makes the scheduled task
idempotent (a failed send rolls it back, so the next run retries)."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from email.mime.image import MIMEImage

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from footfall.models import Anomaly, ReportDispatch, ReportFrequency, ReportRecipient
from footfall.selectors.kpis import PeriodKpis, kpis_compute
from footfall.selectors.reports import DayFigures, anomalies_of_period, daily_figures, hourly_profile
from footfall.services import report_charts
from gateway.api.money import money_round
from inventory import local_time
from inventory.models import Location


@dataclass(frozen=True)
class ReportPeriod:
    frequency: str
    first: dt.date
    last: dt.date

    @property
    def previous(self) -> "ReportPeriod":
        return period_containing(self.frequency, self.first - dt.timedelta(days=1))

    @property
    def label(self) -> str:
        if self.frequency == ReportFrequency.WEEKLY:
            year, week, _ = self.first.isocalendar()
            return f"week {year}-W{week:02d} ({self.first:%d %b} - {self.last:%d %b %Y})"
        return self.first.strftime("%B %Y")


def period_containing(frequency: str, day: dt.date) -> ReportPeriod:
    if frequency == ReportFrequency.WEEKLY:
        first = day - dt.timedelta(days=day.weekday())
        return ReportPeriod(frequency, first, first + dt.timedelta(days=6))
    first = day.replace(day=1)
    return ReportPeriod(frequency, first, local_time.next_calendar_start(first, "month") - dt.timedelta(days=1))


def last_complete_period(frequency: str, today: dt.date) -> ReportPeriod:
    """The latest week (Monday to Sunday) or month that ended before ``today``."""
    return period_containing(frequency, today).previous


@dataclass
class StoreReport:
    store: Location
    period: ReportPeriod
    kpis: PeriodKpis
    previous_kpis: PeriodKpis
    last_year_kpis: PeriodKpis
    days: list[DayFigures]
    previous_days: list[DayFigures]
    hourly: list[float]
    previous_hourly: list[float]
    anomalies: list[Anomaly]

    @property
    def title(self) -> str:
        return f"Footfall report {self.store.code} {self.store.name}, {self.period.label}"


def store_report_build(*, store: Location, period: ReportPeriod) -> StoreReport:
    previous = period.previous
    current = kpis_compute(store_ids=[store.pk], first=period.first, last=period.last)
    before = kpis_compute(store_ids=[store.pk], first=previous.first, last=previous.last)
    return StoreReport(
        store=store,
        period=period,
        kpis=current.current,
        previous_kpis=before.current,
        last_year_kpis=current.same_period_last_year,
        days=daily_figures(store=store, first=period.first, last=period.last),
        previous_days=daily_figures(store=store, first=previous.first, last=previous.last),
        hourly=hourly_profile(store=store, first=period.first, last=period.last),
        previous_hourly=hourly_profile(store=store, first=previous.first, last=previous.last),
        anomalies=anomalies_of_period(store=store, first=period.first, last=period.last),
    )


# ------------------------------------------------------------------ rendering

_KPI_LINES = [
    ("Visitors", "visitors", "count"),
    ("Passers-by", "passersby", "count"),
    ("Tickets (tills and click-and-collect pickups)", "tickets", "count"),
    ("Revenue", "revenue", "money"),
    ("Conversion (tickets / visitors)", "conversion_rate", "percent"),
    ("Capture rate (entries / passers-by)", "capture_rate", "percent"),
    ("Sales per visitor", "sales_per_visitor", "money"),
    ("Average ticket", "average_ticket", "money"),
    ("Entrance data completeness", "entrance_completeness", "percent"),
]


def _value(kpis: PeriodKpis, key: str, kind: str) -> float | int | Decimal | None:
    """The figure as shown: money rounded to its currency's minor unit."""
    value: float | int | Decimal | None = getattr(kpis, key)
    if kind == "money" and isinstance(value, Decimal) and kpis.currency is not None:
        return money_round(value, kpis.currency)
    return value


def _number(kpis: PeriodKpis, key: str, kind: str) -> float | None:
    value = _value(kpis, key, kind)
    return None if value is None else float(value)


def _shown(kpis: PeriodKpis, key: str, kind: str) -> str:
    value = _value(kpis, key, kind)
    if value is None:
        return "-"
    if kind == "money":
        return f"{value} {kpis.currency}"
    if kind == "percent":
        return f"{float(value) * 100:.1f} %"
    return f"{int(value):,}".replace(",", " ")


def _change(now: PeriodKpis, before: PeriodKpis, key: str, kind: str) -> str:
    a, b = _number(now, key, kind), _number(before, key, kind)
    if a is None or b is None or b == 0:
        return "-"
    if kind == "percent":
        return f"{(a - b) * 100:+.1f} pts"
    return f"{(a - b) / b * 100:+.1f} %"


def kpi_rows(report: StoreReport) -> list[list[str]]:
    return [
        [
            label,
            _shown(report.kpis, key, kind),
            _shown(report.previous_kpis, key, kind),
            _change(report.kpis, report.previous_kpis, key, kind),
            _shown(report.last_year_kpis, key, kind),
        ]
        for label, key, kind in _KPI_LINES
    ]


def anomaly_rows(report: StoreReport) -> list[list[str]]:
    tz = local_time.zone(report.store.time_zone)
    rows = []
    for anomaly in report.anomalies:
        expected = "-" if anomaly.expected is None else f"{anomaly.expected:.0f}"
        if anomaly.expected_low is not None and anomaly.expected_high is not None:
            expected += f" ({anomaly.expected_low:.0f} to {anomaly.expected_high:.0f})"
        rows.append(
            [
                anomaly.sensor.code,
                anomaly.get_kind_display(),
                f"{anomaly.period_start.astimezone(tz):%a %d %b %H:%M}",
                f"{anomaly.period_end.astimezone(tz):%a %d %b %H:%M}",
                f"{anomaly.actual:.2f}".rstrip("0").rstrip("."),
                expected,
                anomaly.method,
            ]
        )
    return rows


@dataclass(frozen=True)
class RenderedReport:
    subject: str
    text: str
    html: str
    images: dict[str, bytes]
    pdf: bytes
    pdf_name: str


def store_report_render(report: StoreReport) -> RenderedReport:
    kpis, anomalies = kpi_rows(report), anomaly_rows(report)
    context = {"report": report, "kpi_rows": kpis, "anomaly_rows": anomalies, "charts": list(report_charts.CHARTS)}
    name = f"footfall-{report.store.code}-{report.period.frequency}-{report.period.first:%Y-%m-%d}.pdf"
    return RenderedReport(
        subject=report.title,
        text=render_to_string("footfall/report_email.txt", context),
        html=render_to_string("footfall/report_email.html", context),
        images=report_charts.chart_images(report),
        pdf=report_charts.report_pdf(report, kpis, anomalies),
        pdf_name=name,
    )


def _message(rendered: RenderedReport, recipients: list[str]) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(rendered.subject, rendered.text, settings.DEFAULT_FROM_EMAIL, recipients)
    message.attach_alternative(rendered.html, "text/html")
    for cid, png in rendered.images.items():
        image = MIMEImage(png, "png")
        image.add_header("Content-ID", f"<{cid}>")
        image.add_header("Content-Disposition", "inline", filename=f"{cid}.png")
        message.attach(image)
    message.attach(rendered.pdf_name, rendered.pdf, "application/pdf")
    return message


# ------------------------------------------------------------------ sending


def report_recipients(*, store: Location, frequency: str) -> list[str]:
    flag = "weekly" if frequency == ReportFrequency.WEEKLY else "monthly"
    return sorted(ReportRecipient.objects.filter(store=store, **{flag: True}).values_list("email", flat=True))


def store_report_send(
    *,
    store: Location,
    period: ReportPeriod,
    recipients: list[str] | None = None,
    force: bool = False,
    rendered: RenderedReport | None = None,
) -> ReportDispatch | None:
    """Build and email the report (or send ``rendered``, already built);
    None when it was already sent (unless ``force``) or nobody is to receive it."""
    recipients = recipients if recipients is not None else report_recipients(store=store, frequency=period.frequency)
    if not recipients:
        return None
    try:
        with transaction.atomic():
            dispatch = _claim(store, period, recipients, force)
            if dispatch is None:
                return None
            rendered = rendered or store_report_render(store_report_build(store=store, period=period))
            _message(rendered, recipients).send()
            return dispatch
    except IntegrityError:  # a concurrent run claimed the same report first
        return None


def _claim(store: Location, period: ReportPeriod, recipients: list[str], force: bool) -> ReportDispatch | None:
    existing = ReportDispatch.objects.filter(store=store, frequency=period.frequency, period_start=period.first).first()
    if existing is not None:
        if not force:
            return None
        existing.recipients = recipients
        existing.sent_at = timezone.now()
        existing.save(update_fields=["recipients", "sent_at"])
        return existing
    return ReportDispatch.objects.create(
        store=store,
        frequency=period.frequency,
        period_start=period.first,
        period_end=period.last,
        recipients=recipients,
    )


def reports_due(*, now: dt.datetime) -> list[tuple[int, ReportPeriod]]:
    """(store id, period) of every report whose period ended in the store's
    zone, that someone is to receive and that was not sent yet."""
    wanted: dict[int, set[str]] = {}
    for store_id, weekly, monthly in ReportRecipient.objects.values_list("store_id", "weekly", "monthly"):
        flags = wanted.setdefault(store_id, set())
        flags.update({ReportFrequency.WEEKLY} if weekly else set())
        flags.update({ReportFrequency.MONTHLY} if monthly else set())
    sent = set(ReportDispatch.objects.values_list("store_id", "frequency", "period_start"))
    due = []
    for store_id, zone_name in Location.objects.filter(pk__in=wanted).values_list("pk", "time_zone"):
        today = local_time.local_date(now, local_time.zone(zone_name))
        for frequency in sorted(wanted[store_id], reverse=True):  # weekly first
            period = last_complete_period(frequency, today)
            if (store_id, frequency, period.first) not in sent:
                due.append((store_id, period))
    return due
