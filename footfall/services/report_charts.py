"""Charts of a store report, drawn with matplotlib's object API (``Figure``,
no pyplot state, so it is safe in any worker thread), in the active
language: PNG for the email (mail clients show PNG, few show SVG), SVG for
the PDF (vector, sharp at any zoom, its text searchable)."""

import io
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from matplotlib.figure import Figure

from footfall.services.report_locale import ReportLocale

if TYPE_CHECKING:
    from footfall.services.reports import StoreReport

CURRENT, PREVIOUS = "#1f5fa8", "#8a94a6"
# Saved at 8 x 3.6 inches and 100 dpi: 800 px wide, the email's column
# (shown at up to 640 px, so sharp on a phone's denser screen too).
SIZE, DPI = (8, 3.6), 100


def _figure() -> Figure:
    return Figure(figsize=SIZE, dpi=DPI, layout="constrained")


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _svg(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})  # same report, same bytes
    return buffer.getvalue()


def _day_labels(report: "StoreReport", fmt: ReportLocale) -> list[str]:
    if len(report.days) <= 7:
        return [fmt.short_day(d.day) for d in report.days]
    return [str(d.day.day) for d in report.days]


def traffic_by_day(report: "StoreReport", fmt: ReportLocale) -> Figure:
    figure = _figure()
    axes = figure.add_subplot()
    axes.bar(range(len(report.days)), [d.visitors for d in report.days], color=CURRENT, label=_("this period"))
    previous = [d.visitors for d in report.previous_days][: len(report.days)]
    axes.plot(range(len(previous)), previous, color=PREVIOUS, marker="o", label=_("comparison period"))
    axes.set_xticks(range(len(report.days)), _day_labels(report, fmt), fontsize=8)
    axes.set_title(_("Visitors per day"))
    axes.legend(fontsize=8)
    return figure


def traffic_by_hour(report: "StoreReport", fmt: ReportLocale) -> Figure:
    figure = _figure()
    axes = figure.add_subplot()
    hours = list(range(24))
    axes.bar(hours, report.hourly, color=CURRENT, label=_("this period"))
    axes.plot(hours, report.previous_hourly, color=PREVIOUS, marker=".", label=_("comparison period"))
    axes.set_xticks(hours, [f"{h:02d}" for h in hours], fontsize=7)
    axes.set_title(_("Visitors per hour of an average day (store-local time)"))
    axes.legend(fontsize=8)
    return figure


def _percent(values: Sequence[float | None]) -> list[float]:
    return [v * 100 if v is not None else float("nan") for v in values]


def conversion_by_day(report: "StoreReport", fmt: ReportLocale) -> Figure:
    figure = _figure()
    axes = figure.add_subplot()
    axes.plot(_percent([d.conversion for d in report.days]), color=CURRENT, marker="o", label=_("this period"))
    previous = _percent([d.conversion for d in report.previous_days])[: len(report.days)]
    axes.plot(previous, color=PREVIOUS, linestyle="--", label=_("comparison period"))
    axes.set_xticks(range(len(report.days)), _day_labels(report, fmt), fontsize=8)
    axes.set_ylabel("%")
    axes.set_title(_("Conversion (tickets / visitors) per day"))
    axes.legend(fontsize=8)
    return figure


CHARTS: dict[str, Callable[["StoreReport", ReportLocale], Figure]] = {
    "traffic_by_day": traffic_by_day,
    "traffic_by_hour": traffic_by_hour,
    "conversion_by_day": conversion_by_day,
}


def chart_titles() -> dict[str, str]:
    """Each chart's alternative text, in the active language."""
    return {
        "traffic_by_day": _("Visitors per day"),
        "traffic_by_hour": _("Visitors per hour of an average day (store-local time)"),
        "conversion_by_day": _("Conversion (tickets / visitors) per day"),
    }


def chart_images(report: "StoreReport", fmt: ReportLocale) -> dict[str, tuple[bytes, bytes]]:
    """Each chart as (PNG, SVG), drawn once."""
    out = {}
    for name, draw in CHARTS.items():
        figure = draw(report, fmt)
        out[name] = (_png(figure), _svg(figure))
    return out
