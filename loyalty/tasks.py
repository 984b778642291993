"""Loyalty's periodic work (thin: the work is in services and selectors)."""

import dataclasses
import logging
from typing import Any

from celery import shared_task

from loyalty.selectors.ledger import points_ledger_report
from loyalty.services.catalog import codes_generate
from loyalty.services.nightly import programs_nightly_due
from loyalty.services.redemptions import redemptions_release_due
from loyalty.services.slow_movers import slow_mover_campaigns_propose

log = logging.getLogger("loyalty")


@shared_task(acks_late=True)
def run_nightly() -> list[dict[str, Any]]:
    """Beat runs it every 15 minutes; each program's job runs once per local
    day from 03:00 in its zone (and at once after a missed day). Idempotent."""
    outcomes = [dataclasses.asdict(outcome) for outcome in programs_nightly_due()]
    for outcome in outcomes:
        log.info("loyalty nightly done", extra={**outcome, "local_day": str(outcome["local_day"])})
    return outcomes


@shared_task(acks_late=True)
def release_expired_reservations() -> int:
    """Reservations past their TTL give their budget back within minutes, not
    only at night (the nightly job does it too)."""
    return redemptions_release_due()


@shared_task(acks_late=True)
def check_points_ledger() -> int:
    """Read-only, so safe to run twice. Logs an error listing the mismatched
    members and buckets; returns how many there are."""
    report = points_ledger_report(limit=100)
    if report.ok:
        log.info("points ledger reconciles", extra={"members_checked": report.members_checked})
    else:
        log.error(
            "points ledger mismatch",
            extra={
                "members_checked": report.members_checked,
                "mismatched_members": [m.member_id for m in report.members],
                "mismatched_buckets": [b.bucket_id for b in report.buckets],
            },
        )
    return len(report.members) + len(report.buckets)


@shared_task(acks_late=True)
def generate_codes(job_id: int) -> int:
    """Generate a job's unique codes; run again (a lost worker), it goes on
    from the codes already there. Returns how many the job holds."""
    return codes_generate(job_id=job_id).generated


@shared_task(acks_late=True)
def propose_slow_mover_campaigns() -> list[int]:
    """Beat runs it on Mondays: a draft per store with slow movers per active
    program, once per ISO week (a re-run adds nothing). Returns the new drafts' ids."""
    drafted = slow_mover_campaigns_propose()
    log.info("slow-mover campaigns proposed", extra={"drafted": drafted})
    return drafted
