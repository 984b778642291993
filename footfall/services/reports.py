"""Weekly and monthly store reports: an HTML email with charts inline
(traffic by day and by hour, conversion, a comparison period beside this
one, the anomalies of the period in plain words) and the same HTML as a PDF
attachment, sent through Django's email backend in each recipient's
language (``footfall.services.report_render`` draws them).

Comparisons are weekday to weekday, as retail compares a Saturday with a
Saturday: a week with the week before; a month with the same number of days
starting on the same weekday 4 weeks earlier (28 days, February of a common
year) or 5 weeks earlier (35 days: the longer months, which 28 days would
overlap); "last year" is the same days 52 weeks (364 days) earlier.

Each store's report for a period is sent once: a ``ReportDispatch`` row,
written in the same transaction as the sending, makes the scheduled task
idempotent (a failed send rolls it back, so the next run retries)."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from footfall.models import Anomaly, ReportDispatch, ReportFrequency, ReportRecipient
from footfall.selectors.kpis import COMPARISONS, PeriodKpis, kpis_compute
from footfall.selectors.reports import DayFigures, anomalies_of_period, daily_figures, hourly_profile
from footfall.services.report_render import RenderedReport, report_message, store_report_render
from inventory import local_time
from inventory.models import Location

LAST_YEAR_DAYS = dict(COMPARISONS)["same_period_last_year"]  # 364: 52 weeks, weekdays match
# A report language for stores of these countries; English elsewhere.
COUNTRY_LANGUAGES = {"FR": "fr"}


@dataclass(frozen=True)
class Span:
    """Store-local days ``first`` .. ``last``."""

    first: dt.date
    last: dt.date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def shifted(self, days: int) -> "Span":
        return Span(self.first - dt.timedelta(days=days), self.last - dt.timedelta(days=days))


@dataclass(frozen=True)
class ReportPeriod:
    frequency: str
    first: dt.date
    last: dt.date

    @property
    def span(self) -> Span:
        return Span(self.first, self.last)

    @property
    def comparison_shift(self) -> int:
        """Days back to the comparison period: a whole number of weeks, so
        every day meets the same weekday (see the module's docstring)."""
        if self.frequency == ReportFrequency.WEEKLY:
            return 7
        return 28 if self.span.days <= 28 else 35

    @property
    def comparison(self) -> Span:
        return self.span.shifted(self.comparison_shift)

    @property
    def last_year(self) -> Span:
        return self.span.shifted(LAST_YEAR_DAYS)


def period_containing(frequency: str, day: dt.date) -> ReportPeriod:
    if frequency == ReportFrequency.WEEKLY:
        first = day - dt.timedelta(days=day.weekday())
        return ReportPeriod(frequency, first, first + dt.timedelta(days=6))
    first = day.replace(day=1)
    return ReportPeriod(frequency, first, local_time.next_calendar_start(first, "month") - dt.timedelta(days=1))


def last_complete_period(frequency: str, today: dt.date) -> ReportPeriod:
    """The latest week (Monday to Sunday) or month that ended before ``today``."""
    return period_containing(frequency, period_containing(frequency, today).first - dt.timedelta(days=1))


@dataclass
class StoreReport:
    """A store's figures of a period, beside its comparison period and the
    same days last year; independent of the language it is shown in."""

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


def store_report_build(*, store: Location, period: ReportPeriod) -> StoreReport:
    comparison = period.comparison
    current = kpis_compute(store_ids=[store.pk], first=period.first, last=period.last)
    before = kpis_compute(store_ids=[store.pk], first=comparison.first, last=comparison.last)
    return StoreReport(
        store=store,
        period=period,
        kpis=current.current,
        previous_kpis=before.current,
        last_year_kpis=current.same_period_last_year,
        days=daily_figures(store=store, first=period.first, last=period.last),
        previous_days=daily_figures(store=store, first=comparison.first, last=comparison.last),
        hourly=hourly_profile(store=store, first=period.first, last=period.last),
        previous_hourly=hourly_profile(store=store, first=comparison.first, last=comparison.last),
        anomalies=anomalies_of_period(store=store, first=period.first, last=period.last),
    )


# ------------------------------------------------------------------ sending


def store_language(store: Location) -> str:
    """The report language of a store's recipients who chose none."""
    return COUNTRY_LANGUAGES.get(store.country.upper(), "en")


def recipient_language(recipient: ReportRecipient, store: Location) -> str:
    known = {code for code, _name in settings.LANGUAGES}
    return recipient.language if recipient.language in known else store_language(store)


def report_recipients(*, store: Location, frequency: str) -> dict[str, list[str]]:
    """The store's recipients of a weekly or monthly report by language
    (language -> sorted addresses)."""
    flag = "weekly" if frequency == ReportFrequency.WEEKLY else "monthly"
    by_language: dict[str, list[str]] = defaultdict(list)
    for recipient in ReportRecipient.objects.filter(store=store, **{flag: True}).order_by("email"):
        by_language[recipient_language(recipient, store)].append(recipient.email)
    return dict(by_language)


def store_report_send(
    *,
    store: Location,
    period: ReportPeriod,
    recipients: dict[str, list[str]] | None = None,
    force: bool = False,
    report: StoreReport | None = None,
    rendered: dict[str, RenderedReport] | None = None,
) -> ReportDispatch | None:
    """Build the report once, render it once per language (or use
    ``rendered``, language -> already rendered) and email each recipient
    theirs (``recipients``: language -> addresses, default the store's);
    None when it was already sent (unless ``force``) or nobody is to receive it."""
    recipients = recipients if recipients is not None else report_recipients(store=store, frequency=period.frequency)
    recipients = {language: emails for language, emails in recipients.items() if emails}
    if not recipients:
        return None
    everyone = sorted(email for emails in recipients.values() for email in emails)
    try:
        with transaction.atomic():
            dispatch = _claim(store, period, everyone, force)
            if dispatch is None:
                return None
            report = report or store_report_build(store=store, period=period)
            done = rendered or {}
            messages = [
                report_message(done.get(language) or store_report_render(report, language=language), emails)
                for language, emails in sorted(recipients.items())
            ]
            mail.get_connection().send_messages(messages)
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
