"""The nightly job of a program, in the program's time zone, in this order:
activate pending points, expire points, end campaigns past their end,
release expired reservations. Every step does what is due as of the instant
it runs, so running twice changes nothing the second time, and a run after
days of downtime catches up on all of them at once."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import F
from django.utils import timezone

from loyalty.dates import local_date, zone_of
from loyalty.models import Campaign, CampaignState, Program
from loyalty.services.points import points_run_due
from loyalty.services.redemptions import redemptions_release_due

# The local hour the nightly job runs at: after midnight (points activate and
# expire at local midnights), early enough to finish before the stores open.
NIGHTLY_LOCAL_HOUR = 3


@dataclass(frozen=True)
class NightlyOutcome:
    program: str
    local_day: dt.date
    activated: int
    expired: int
    campaigns_ended: int
    reservations_released: int


def campaigns_end_due(*, program: Program, now: dt.datetime) -> int:
    """Active and paused campaigns whose end has passed become ended."""
    return Campaign.objects.filter(
        program=program, state__in=[CampaignState.ACTIVE, CampaignState.PAUSED], ends_at__lte=now
    ).update(state=CampaignState.ENDED, ended_at=now, version=F("version") + 1, updated_at=now)


def program_nightly(*, program: Program, now: dt.datetime | None = None) -> NightlyOutcome:
    """Run the four steps for ``program`` as of ``now`` and record the local day done."""
    now = now or timezone.now()
    points = points_run_due(program=program, now=now)
    ended = campaigns_end_due(program=program, now=now)
    released = redemptions_release_due(program=program, now=now)
    day = local_date(now, program.time_zone)
    Program.objects.filter(pk=program.pk).update(nightly_done_on=day)
    return NightlyOutcome(program.code, day, points.activated, points.expired, ended, released)


def nightly_is_due(program: Program, now: dt.datetime) -> bool:
    """Due once per local day, from NIGHTLY_LOCAL_HOUR on; a day missed (the
    workers were down) is caught up by the next run, whatever the hour."""
    local = now.astimezone(zone_of(program.time_zone))
    done = program.nightly_done_on
    if done is None or done < local.date() - dt.timedelta(days=1):
        return True
    return done < local.date() and local.hour >= NIGHTLY_LOCAL_HOUR


def programs_nightly_due(*, now: dt.datetime | None = None) -> list[NightlyOutcome]:
    now = now or timezone.now()
    return [
        program_nightly(program=program, now=now)
        for program in Program.objects.filter(is_active=True).order_by("pk")
        if nightly_is_due(program, now)
    ]
