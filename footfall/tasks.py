"""Periodic footfall work, thin: the beat tasks fan out one task per store,
each loads its store by id and calls a service. All are idempotent (the
notifier never repeats an anomaly, a report is sent once per period), so a
retried or duplicated task changes nothing."""

import datetime as dt

from celery import shared_task
from django.utils import timezone

from footfall.models import Sensor
from footfall.services.anomalies import anomalies_detect
from footfall.services.click_and_collect import collected_orders_fold
from footfall.services.reports import ReportPeriod, reports_due, store_report_send
from inventory.models import Location


@shared_task(acks_late=True)
def check_anomalies() -> int:
    """Beat: judge every store with active sensors (one task each)."""
    store_ids = sorted(set(Sensor.objects.filter(is_active=True).values_list("store_id", flat=True)))
    for store_id in store_ids:
        check_store_anomalies.delay(store_id)
    return len(store_ids)


@shared_task(acks_late=True)
def check_store_anomalies(store_id: int) -> int:
    store = Location.objects.filter(pk=store_id).first()
    if store is None:
        return 0
    return len(anomalies_detect(store=store))


@shared_task(acks_late=True)
def send_due_reports() -> int:
    """Beat: the weekly and monthly reports whose period ended and that were not sent yet."""
    due = reports_due(now=timezone.now())
    for store_id, period in due:
        send_store_report.delay(store_id, period.frequency, period.first.isoformat(), period.last.isoformat())
    return len(due)


@shared_task(acks_late=True)
def send_store_report(store_id: int, frequency: str, first: str, last: str) -> bool:
    store = Location.objects.filter(pk=store_id).first()
    if store is None:
        return False
    period = ReportPeriod(frequency, dt.date.fromisoformat(first), dt.date.fromisoformat(last))
    return store_report_send(store=store, period=period) is not None


@shared_task(acks_late=True)
def fold_collected_orders() -> int:
    """Beat: collected click-and-collect orders into the daily sales (reads
    the events feed after footfall's position; re-reading changes nothing)."""
    return collected_orders_fold()
