"""Charts and the PDF of a store report, drawn with matplotlib's object API
(``Figure``, no pyplot state, so it is safe in any worker thread)."""

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from footfall.services.reports import StoreReport

CURRENT, PREVIOUS = "#1f5fa8", "#b0b7c3"
A4_LANDSCAPE = (11.69, 8.27)


def _figure() -> Figure:
    return Figure(figsize=(8, 3.6), dpi=100, layout="constrained")


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def traffic_by_day(report: "StoreReport") -> Figure:
    figure = _figure()
    axes = figure.add_subplot()
    labels = [d.day.strftime("%a %d") if len(report.days) <= 7 else d.day.strftime("%d") for d in report.days]
    axes.bar(range(len(report.days)), [d.visitors for d in report.days], color=CURRENT, label="this period")
    previous = [d.visitors for d in report.previous_days][: len(report.days)]
    axes.plot(range(len(previous)), previous, color=PREVIOUS, marker="o", label="previous period")
    axes.set_xticks(range(len(labels)), labels, fontsize=8)
    axes.set_title("Visitors per day")
    axes.legend(fontsize=8)
    return figure


def traffic_by_hour(report: "StoreReport") -> Figure:
    figure = _figure()
    axes = figure.add_subplot()
    hours = list(range(24))
    axes.bar(hours, report.hourly, color=CURRENT, label="this period")
    axes.plot(hours, report.previous_hourly, color=PREVIOUS, marker=".", label="previous period")
    axes.set_xticks(hours, [f"{h:02d}" for h in hours], fontsize=7)
    axes.set_title("Visitors per hour of an average day (store-local time)")
    axes.legend(fontsize=8)
    return figure


def _percent(values: Sequence[float | None]) -> list[float]:
    return [v * 100 if v is not None else float("nan") for v in values]


def conversion_by_day(report: "StoreReport") -> Figure:
    figure = _figure()
    axes = figure.add_subplot()
    axes.plot(_percent([d.conversion for d in report.days]), color=CURRENT, marker="o", label="this period")
    previous = _percent([d.conversion for d in report.previous_days])[: len(report.days)]
    axes.plot(previous, color=PREVIOUS, linestyle="--", label="previous period")
    axes.set_xticks(range(len(report.days)), [d.day.strftime("%d") for d in report.days], fontsize=8)
    axes.set_ylabel("%")
    axes.set_title("Conversion (tickets / visitors) per day")
    axes.legend(fontsize=8)
    return figure


CHARTS = {"traffic_by_day": traffic_by_day, "traffic_by_hour": traffic_by_hour, "conversion_by_day": conversion_by_day}


def chart_images(report: "StoreReport") -> dict[str, bytes]:
    return {name: _png(draw(report)) for name, draw in CHARTS.items()}


def _table_page(title: str, header: list[str], rows: list[list[str]]) -> Figure:
    figure = Figure(figsize=A4_LANDSCAPE)
    figure.text(0.05, 0.93, title, fontsize=16, weight="bold")
    axes = figure.add_axes((0.05, 0.05, 0.9, 0.8))
    axes.axis("off")
    if rows:
        table = axes.table(cellText=rows, colLabels=header, loc="upper left", cellLoc="left")
        table.auto_set_font_size(False)
        table.set_fontsize(9)
        table.scale(1, 1.4)
    else:
        axes.text(0, 0.95, "None.", fontsize=11)
    return figure


def report_pdf(report: "StoreReport", kpi_rows: list[list[str]], anomaly_rows: list[list[str]]) -> bytes:
    """The report as a PDF: KPIs, the three charts, the anomalies."""
    buffer = io.BytesIO()
    metadata: dict[str, Any] = {"Title": report.title, "Creator": "Omnichannel Commerce Gateway"}
    with PdfPages(buffer, metadata=metadata) as pdf:
        pdf.savefig(_table_page(report.title, ["", "this period", "previous period", "change", "last year"], kpi_rows))
        for draw in CHARTS.values():
            figure = draw(report)
            figure.set_size_inches(*A4_LANDSCAPE)
            pdf.savefig(figure)
        pdf.savefig(
            _table_page(
                "Anomalies of the period",
                ["sensor", "kind", "from", "to", "actual", "expected", "how judged"],
                anomaly_rows,
            )
        )
    return buffer.getvalue()
