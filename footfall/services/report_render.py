"""A store report as its reader sees it, in one language: the figures as
shown (numbers and money the locale's way, "no data" where nothing was
received, a warning instead of a change where a period is incomplete), the
anomalies in plain words, and one HTML template (``footfall/report.html``)
rendered twice: for the email (charts as inline PNG parts) and for the PDF
(charts as SVG, printed by WeasyPrint with the template's print stylesheet:
A4 pages, table headers repeated on every page, rows never cut)."""

import base64
from dataclasses import dataclass
from decimal import Decimal
from email.mime.image import MIMEImage
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from footfall.models import ReportFrequency
from footfall.selectors.kpis import PeriodKpis
from footfall.services import report_charts
from footfall.services.anomaly_words import AnomalyWords, anomaly_words
from footfall.services.report_locale import ReportLocale
from inventory import local_time

if TYPE_CHECKING:
    from footfall.services.reports import ReportPeriod, Span, StoreReport

# Door data below this share of the period is not compared: a missing tenth
# of a week moves visitors by more than the ordinary week-to-week swing of
# 5-10 % (the notifier's RELATIVE_FLOOR), so a change would mostly measure
# the gap. The notifier trusts an hour from the same 90 % up.
COMPLETE_ENOUGH = 0.9


@dataclass(frozen=True)
class Cell:
    text: str
    warn: bool = False


@dataclass(frozen=True)
class KpiLine:
    label: str
    current: Cell
    previous: Cell
    change: Cell
    last_year: Cell
    last_year_change: Cell


@dataclass(frozen=True)
class _Kpi:
    key: str
    kind: str  # count, money, percent
    door: bool  # needs the entrance counters' data
    sales: bool  # needs the tills' data
    window: bool = False  # needs the window counters' data

    def shares(self, kpis: PeriodKpis) -> list[float]:
        """How complete the counter data the figure needs is (tills report
        no completeness: a figure of sales alone is never flagged)."""
        door = self.door or self.key == "entrance_completeness"
        return [share for needed, share in ((door, _door_share(kpis)), (self.window, _window_share(kpis))) if needed]

    def label(self) -> str:
        return {
            "visitors": _("Visitors"),
            "passersby": _("Passers-by"),
            "tickets": _("Tickets (tills and click-and-collect pickups)"),
            "revenue": _("Revenue"),
            "conversion_rate": _("Conversion (tickets / visitors)"),
            "capture_rate": _("Capture rate (visitors / passers-by)"),
            "sales_per_visitor": _("Sales per visitor"),
            "average_ticket": _("Average ticket"),
            "entrance_completeness": _("Door data received"),
        }[self.key]


KPIS = [
    _Kpi("visitors", "count", door=True, sales=False),
    _Kpi("passersby", "count", door=False, sales=False, window=True),
    _Kpi("tickets", "count", door=False, sales=True),
    _Kpi("revenue", "money", door=False, sales=True),
    _Kpi("conversion_rate", "percent", door=True, sales=True),
    _Kpi("capture_rate", "percent", door=True, sales=False, window=True),
    _Kpi("sales_per_visitor", "money", door=True, sales=True),
    _Kpi("average_ticket", "money", door=False, sales=True),
    _Kpi("entrance_completeness", "percent", door=False, sales=False),
]


def _door_share(kpis: PeriodKpis) -> float:
    return kpis.entrance_completeness or 0.0


def _window_share(kpis: PeriodKpis) -> float:
    return kpis.window_completeness or 0.0


def _known(kpis: PeriodKpis, kpi: _Kpi) -> float | int | Decimal | None:
    """The figure, or None where nothing was received: no door data, no
    sales at all (a store without tills), no window counter."""
    value: float | int | Decimal | None = getattr(kpis, kpi.key)
    if kpi.door and _door_share(kpis) == 0:
        return None
    if kpi.sales and kpis.currency is None:
        return None
    if kpi.window and _window_share(kpis) == 0:
        return None
    if kpi.key == "entrance_completeness" and not value:
        return None
    return value


def _shown(kpis: PeriodKpis, kpi: _Kpi, fmt: ReportLocale) -> Cell:
    value = _known(kpis, kpi)
    if value is None:
        return Cell(_("no data"))
    incomplete = any(share < COMPLETE_ENOUGH for share in kpi.shares(kpis))
    if kpi.kind == "money" and isinstance(value, Decimal) and kpis.currency is not None:
        return Cell(fmt.money(value, kpis.currency), incomplete)
    if kpi.kind == "percent":
        return Cell(fmt.percent(float(value)), incomplete)
    return Cell(fmt.count(float(value)), incomplete)


def _incomplete(now: PeriodKpis, before: PeriodKpis, kpi: _Kpi, before_name: str, fmt: ReportLocale) -> Cell | None:
    for kpis, name in ((now, _("this period")), (before, before_name)):
        share = min(kpi.shares(kpis), default=1.0)
        if share < COMPLETE_ENOUGH:
            words = _("%(period)s only %(share)s complete: no comparison")
            return Cell(words % {"period": name, "share": fmt.whole_percent(share)}, True)
    return None


def _change(now: PeriodKpis, before: PeriodKpis, kpi: _Kpi, before_name: str, fmt: ReportLocale) -> Cell:
    a, b = _known(now, kpi), _known(before, kpi)
    if a is None or b is None or kpi.key == "entrance_completeness":
        return Cell("–")
    warning = _incomplete(now, before, kpi, before_name, fmt)
    if warning is not None:
        return warning
    if kpi.kind == "percent":
        return Cell(fmt.points(float(a) - float(b)))
    if not b:
        return Cell("–")
    return Cell(fmt.change((float(a) - float(b)) / float(b)))


def kpi_lines(report: "StoreReport", fmt: ReportLocale) -> list[KpiLine]:
    now, before, last_year = report.kpis, report.previous_kpis, report.last_year_kpis
    return [
        KpiLine(
            label=kpi.label(),
            current=_shown(now, kpi, fmt),
            previous=_shown(before, kpi, fmt),
            change=_change(now, before, kpi, _("previous period"), fmt),
            last_year=_shown(last_year, kpi, fmt),
            last_year_change=_change(now, last_year, kpi, _("last year's period"), fmt),
        )
        for kpi in KPIS
    ]


def anomaly_lines(report: "StoreReport", fmt: ReportLocale) -> list[AnomalyWords]:
    tz = local_time.zone(report.store.time_zone)
    return [anomaly_words(anomaly, tz, fmt) for anomaly in report.anomalies]


# ------------------------------------------------------------------ words of the period


def period_label(period: "ReportPeriod", fmt: ReportLocale) -> str:
    if period.frequency == ReportFrequency.WEEKLY:
        _year, week, _day = period.first.isocalendar()
        return _("week %(week)s, %(days)s") % {"week": week, "days": fmt.days(period.first, period.last)}
    return fmt.month(period.first)


def _span_words(span: "Span", fmt: ReportLocale) -> str:
    return _("%(first)s – %(last)s") % {"first": fmt.day_with_year(span.first), "last": fmt.day_with_year(span.last)}


def comparison_note(period: "ReportPeriod", fmt: ReportLocale) -> str:
    """Which days each column compares with, and why."""
    words = {
        "previous": _span_words(period.comparison, fmt),
        "days": period.span.days,
        "weeks": period.comparison_shift // 7,
        "last_year": _span_words(period.last_year, fmt),
    }
    if period.frequency == ReportFrequency.WEEKLY:
        return (
            _(
                "Compared weekday to weekday: the previous period is the week before (%(previous)s); last year is "
                "%(last_year)s, 52 weeks earlier."
            )
            % words
        )
    return (
        _(
            "Compared weekday to weekday: the previous period is %(previous)s, the same %(days)s days starting on "
            "the same weekday %(weeks)s weeks earlier; last year is %(last_year)s, 52 weeks earlier."
        )
        % words
    )


def title(report: "StoreReport", fmt: ReportLocale) -> str:
    return _("Footfall report %(code)s %(name)s, %(period)s") % {
        "code": report.store.code,
        "name": report.store.name,
        "period": period_label(report.period, fmt),
    }


# ------------------------------------------------------------------ rendering


@dataclass(frozen=True)
class RenderedReport:
    language: str
    subject: str
    text: str
    html: str
    images: dict[str, bytes]  # content id -> PNG
    pdf: bytes
    pdf_name: str


def _context(report: "StoreReport", fmt: ReportLocale) -> dict[str, Any]:
    current_share = _door_share(report.kpis)
    return {
        "language": fmt.language,
        "title": title(report, fmt),
        "store": report.store,
        "comparison_note": comparison_note(report.period, fmt),
        "incomplete_note": (
            _("Door data of this period is only %(share)s complete: visitors and the ratios that use them are low.")
            % {"share": fmt.percent(current_share)}
            if 0 < current_share < COMPLETE_ENOUGH
            else ""
        ),
        "kpi_lines": kpi_lines(report, fmt),
        "anomalies": anomaly_lines(report, fmt),
    }


def _data_uri(content: bytes, mimetype: str) -> str:
    return f"data:{mimetype};base64,{base64.b64encode(content).decode('ascii')}"


def report_html(context: dict[str, Any], charts: dict[str, str], *, medium: str) -> str:
    """The template for ``medium`` ("email" or "pdf"); ``charts``: chart
    name -> image source (a cid: reference or a data: URI)."""
    titles = report_charts.chart_titles()
    images = [{"src": src, "alt": titles[name]} for name, src in charts.items()]
    return render_to_string("footfall/report.html", context | {"charts": images, "medium": medium})


def report_pdf(html: str) -> bytes:
    # WeasyPrint loads pango through cffi at import: imported where used, so
    # a process that never prints a report never loads it.
    import weasyprint

    pdf: bytes = weasyprint.HTML(string=html).write_pdf()
    return pdf


def store_report_render(report: "StoreReport", *, language: str) -> RenderedReport:
    """The email (subject, text, HTML, chart images) and the PDF of the
    report in ``language``."""
    with translation.override(language):
        fmt = ReportLocale.of(language, report.store.country)
        context = _context(report, fmt)
        drawn = report_charts.chart_images(report, fmt)
        email_html = report_html(context, {name: f"cid:{name}" for name in drawn}, medium="email")
        pdf_html = report_html(
            context, {name: _data_uri(svg, "image/svg+xml") for name, (_png, svg) in drawn.items()}, medium="pdf"
        )
        name = f"footfall-{report.store.code}-{report.period.frequency}-{report.period.first:%Y-%m-%d}-{language}.pdf"
        return RenderedReport(
            language=language,
            subject=context["title"],
            text=render_to_string("footfall/report_email.txt", context),
            html=email_html,
            images={name: png for name, (png, _svg) in drawn.items()},
            pdf=report_pdf(pdf_html),
            pdf_name=name,
        )


def store_report_preview(report: "StoreReport", *, language: str) -> str:
    """The email's HTML with its charts as data: URIs, as a browser shows it
    on its own (checks of the layout, ``footfall_report --save-html``)."""
    with translation.override(language):
        fmt = ReportLocale.of(language, report.store.country)
        drawn = report_charts.chart_images(report, fmt)
        charts = {name: _data_uri(png, "image/png") for name, (png, _svg) in drawn.items()}
        return report_html(_context(report, fmt), charts, medium="email")


def report_message(rendered: RenderedReport, recipients: list[str]) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(rendered.subject, rendered.text, settings.DEFAULT_FROM_EMAIL, recipients)
    message.attach_alternative(rendered.html, "text/html")
    message.extra_headers["Content-Language"] = rendered.language
    for cid, png in rendered.images.items():
        image = MIMEImage(png, "png")
        image.add_header("Content-ID", f"<{cid}>")
        image.add_header("Content-Disposition", "inline", filename=f"{cid}.png")
        message.attach(image)
    message.attach(rendered.pdf_name, rendered.pdf, "application/pdf")
    return message
