"""The report looked at as a person would: the email's HTML in headless
Chromium at a phone's width (390 px) and a desktop's, the PDF read back with
poppler (pdftotext, pdfinfo) and turned into page images (pdftoppm). The
images are kept in the test's tmp directory for whoever wants to look.

Chromium and poppler-utils are Debian packages that ``bin/lib.sh``
(``ensure_system_packages``) installs; without them these tests skip on a
developer's machine and fail in CI (CI=true), where they must run."""

import datetime as dt
import html
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from django.utils import translation

from footfall import simulation
from footfall.models import Anomaly, AnomalyStatus, Sensor
from footfall.services.report_locale import ReportLocale
from footfall.services.report_render import anomaly_lines, store_report_preview, store_report_render
from footfall.services.reports import ReportPeriod, period_containing, store_report_build
from inventory.models import Location
from tests.footfall.test_reports import load_weeks

# Monday 23 to Sunday 29 March 2026: the clocks go forward on the Sunday.
DST_WEEK = period_containing("weekly", dt.date(2026, 3, 23))
PHONE, DESKTOP = 390, 1280


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is missing: bin/lib.sh ensure_system_packages installs it")
        pytest.skip(f"{name} is not installed (Debian: chromium, poppler-utils)")
    return path


def run(*args: str | Path) -> str:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=True, timeout=120).stdout


def chromium(tmp_path: Path, *args: str | Path) -> str:
    profile = tmp_path / "chromium-profile"
    return run(
        tool("chromium"),
        "--headless",
        "--no-sandbox",  # tests run as root in CI
        "--disable-gpu",
        "--disable-dev-shm-usage",  # a container's /dev/shm is small
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    )


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n"), path
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def pdf_text(pdf: Path) -> str:
    """The PDF's text in content order, every run of blanks one space."""
    text = run(tool("pdftotext"), "-raw", "-enc", "UTF-8", pdf, "-")
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\xa0", " "))


def pdf_pages(pdf: Path) -> int:
    match = re.search(r"^Pages:\s+(\d+)$", run(tool("pdfinfo"), pdf), re.MULTILINE)
    assert match is not None
    return int(match.group(1))


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\xa0", " "))


def paris(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return simulation.local_hour(day, hour) + dt.timedelta(minutes=minute)


def add_anomalies(sensor: Sensor, count: int) -> None:
    """``count`` resolved anomalies of the DST week, one per hour from
    Monday 10:00, of every kind in turn."""
    kinds = ["zero_counts", "spike", "drop", "missing_data", "closed_hours_counts"]
    start = paris(DST_WEEK.first, 10)
    Anomaly.objects.bulk_create(
        Anomaly(
            sensor=sensor,
            kind=kinds[n % len(kinds)],
            status=AnomalyStatus.RESOLVED,
            period_start=start + dt.timedelta(hours=n),
            period_end=start + dt.timedelta(hours=n + 1),
            metric="covered_seconds" if kinds[n % len(kinds)] == "missing_data" else "traffic",
            actual=[0.0, 3.0 * (180 + n), (180 + n) / 5, 900.0, 40.0][n % len(kinds)],
            expected=3600.0 if kinds[n % len(kinds)] == "missing_data" else 180.0 + n,
            expected_low=60.0,
            expected_high=320.0,
            method="median + 4 x spread of the same weekday and hour (1.4826 x MAD)",
        )
        for n in range(count)
    )


@pytest.fixture
def dst_week(store: Location, entrance: Sensor) -> Location:
    """Three weeks of door counts and sales up to Sunday 29 March 2026, and
    the anomalies a manager would see that week, one of them across the
    night the clocks went forward."""
    load_weeks(store, entrance, dt.date(2026, 3, 9), 21, dead_day=None)
    sunday = DST_WEEK.last
    Anomaly.objects.bulk_create(
        [
            Anomaly(
                sensor=entrance,
                kind="zero_counts",
                status=AnomalyStatus.RESOLVED,
                period_start=paris(dt.date(2026, 3, 24), 14),
                period_end=paris(dt.date(2026, 3, 24), 17),
                metric="traffic",
                actual=0.0,
                expected=234.0,
                expected_low=120.0,
                expected_high=350.0,
                method="zero counts in open hours",
            ),
            Anomaly(
                sensor=entrance,
                kind="missing_data",
                status=AnomalyStatus.RESOLVED,
                period_start=paris(dt.date(2026, 3, 26), 10),
                period_end=paris(dt.date(2026, 3, 26), 13),
                metric="covered_seconds",
                actual=2700.0,
                expected=10800.0,
                method="completeness below 0.5",
            ),
            Anomaly(
                sensor=entrance,
                kind="closed_hours_counts",
                status=AnomalyStatus.RESOLVED,
                period_start=paris(sunday, 1),
                period_end=paris(sunday, 4),
                metric="in",
                actual=95.0,
                expected=2.0,
                method="at least 10 entries while closed",
            ),
        ]
    )
    return store


def test_the_phone_and_desktop_views_of_the_email(dst_week, tmp_path: Path):
    # given the French weekly report of the week the clocks went forward
    report = store_report_build(store=dst_week, period=DST_WEEK)
    page = tmp_path / "report-fr.html"
    page.write_text(store_report_preview(report, language="fr"), encoding="utf-8")
    # when Chromium shows it on a phone and on a desktop
    for width, name in ((PHONE, "phone"), (DESKTOP, "desktop")):
        shot = tmp_path / f"report-fr-{name}.png"
        chromium(tmp_path, f"--window-size={width},3000", f"--screenshot={shot}", page.as_uri())
        # then it draws a page of that width
        assert png_size(shot) == (width, 3000)
        assert shot.stat().st_size > 50_000  # text, tables and three charts, not a blank page
    # and on the phone nothing is wider than the screen (no sideways scrolling)
    assert phone_scroll_width(tmp_path, page) <= PHONE


def phone_scroll_width(tmp_path: Path, page: Path) -> int:
    """The page's scroll width in a frame of a phone's width. (Headless
    Chromium lays a window out at 500 px at least, so the page is framed.)"""
    frame = tmp_path / "phone-frame.html"
    frame.write_text(
        f'<!DOCTYPE html><html><body style="margin:0"><iframe id="phone" style="width:{PHONE}px;height:800px;'
        f'border:0" srcdoc="{html.escape(page.read_text(encoding="utf-8"), quote=True)}"></iframe><script>'
        'document.getElementById("phone").addEventListener("load", function () {'
        'document.body.setAttribute("data-scroll-width", this.contentDocument.documentElement.scrollWidth);'
        'document.body.setAttribute("data-inner-width", this.contentWindow.innerWidth); });'
        "</script></body></html>",
        encoding="utf-8",
    )
    dom = chromium(tmp_path, "--window-size=800,800", "--dump-dom", frame.as_uri())
    widths = re.search(r'data-scroll-width="(\d+)" data-inner-width="(\d+)"', dom)
    assert widths is not None, "the frame never loaded"
    assert int(widths.group(2)) == PHONE
    return int(widths.group(1))


def test_a_wide_table_would_be_caught(tmp_path: Path):
    # the overflow check itself: a page with a 600 px table is wider than the phone
    page = tmp_path / "wide.html"
    page.write_text('<table style="width:600px"><tr><td>x</td></tr></table>', encoding="utf-8")
    assert phone_scroll_width(tmp_path, page) > PHONE


def test_the_pdf_is_the_email_printed_with_whole_labels(dst_week, tmp_path: Path):
    report = store_report_build(store=dst_week, period=DST_WEEK)
    rendered = store_report_render(report, language="fr")
    pdf = tmp_path / rendered.pdf_name
    pdf.write_bytes(rendered.pdf)
    text = pdf_text(pdf)
    # the whole labels, never cut at a cell's edge
    for label in ("Tickets (caisses et retraits click-and-collect)", "Taux d’attractivité (visiteurs / passants)"):
        assert label in text
    # the same words as the email: the title, the headings, the comparison, every anomaly
    email = rendered.html
    for words in ("Chiffres clés", "Fréquentation et conversion", "Problèmes de compteurs"):
        assert words in email
        assert words in text
    assert flat(rendered.subject) in text
    assert "Comparaison jour de semaine à jour de semaine : la période précédente est la semaine d’avant" in text
    # with the anomalies in plain words and local times, offsets on the night the clocks changed
    assert "dim. 29 mars 01:00 (UTC+01:00)–04:00 (UTC+02:00) " in text
    assert "jeu. 26 mars 10:00–13:00 " in text
    assert "n’a envoyé aucune donnée pendant 2 h 15 min alors que le magasin était ouvert" in text
    assert "n’a compté personne alors que le magasin était ouvert (habituellement environ 230 personnes)" in text
    for statistics in ("MAD", "1.4826", "médiane", "median", "covered_seconds", "8100"):
        assert statistics not in text
    # and its pages as images, to look at
    run(tool("pdftoppm"), "-r", "50", "-png", pdf, tmp_path / "report-fr-page")
    pages = sorted(tmp_path.glob("report-fr-page-*.png"))
    assert len(pages) == pdf_pages(pdf)
    assert all(png_size(image)[0] > 300 for image in pages)


def test_sixty_anomalies_flow_over_more_pages_and_none_is_lost(store, entrance, tmp_path: Path):
    # given the same week with 3 anomalies, then with 60
    period = ReportPeriod("weekly", DST_WEEK.first, DST_WEEK.last)
    counts = {}
    for many in (3, 60):
        Anomaly.objects.all().delete()
        add_anomalies(entrance, many)
        report = store_report_build(store=store, period=period)
        rendered = store_report_render(report, language="en")
        pdf = tmp_path / f"anomalies-{many}.pdf"
        pdf.write_bytes(rendered.pdf)
        counts[many] = pdf_pages(pdf)
        text = pdf_text(pdf)
        # then every anomaly is in the PDF, word for word
        with translation.override("en"):
            lines = anomaly_lines(report, ReportLocale.of("en", store.country))
        assert len(lines) == many
        for line in lines:
            assert flat(f"{line.when} {line.counter} ({line.code}) {line.what[0].upper()}{line.what[1:]}") in text
        # and the table's header is repeated on every page it runs over: the pages after the two of
        # key figures and charts (the anomalies start on a page of their own)
        assert text.count("When Counter What happened") == counts[many] - 2
    assert counts[60] > counts[3]
