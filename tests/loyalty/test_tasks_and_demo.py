"""The beat tasks run each program's nightly job once per local day and end
campaigns past their end; the demo loads twice without adding rows."""

import datetime as dt
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from loyalty.models import Campaign, CampaignOrigin, CampaignState, CouponCode, Member, Program
from loyalty.services.nightly import programs_nightly_due
from tests.loyalty.factories import ProgramFactory, campaign

pytestmark = pytest.mark.django_db


def test_the_nightly_job_ends_campaigns_past_their_end_once_per_local_day() -> None:
    # given a program in Los Angeles and a campaign that ended an hour ago
    program = ProgramFactory.create(time_zone="America/Los_Angeles")
    now = timezone.now()
    over = campaign(program, starts_at=now - dt.timedelta(days=3), ends_at=now - dt.timedelta(hours=1))
    running = campaign(program)

    # when beat runs the task twice
    first = programs_nightly_due(now=now)
    second = programs_nightly_due(now=now)

    # then the job ran once (a program never run catches up at once), ending only the campaign past its end
    assert [(o.program, o.campaigns_ended) for o in first] == [(program.code, 1)]
    assert second == []
    assert Campaign.objects.get(pk=over.pk).state == CampaignState.ENDED
    assert Campaign.objects.get(pk=running.pk).state == CampaignState.ACTIVE


def test_the_demo_loads_twice_without_adding_rows() -> None:
    call_command("load_demo", stdout=io.StringIO())
    counts = (Program.objects.count(), Member.objects.count(), Campaign.objects.count(), CouponCode.objects.count())
    call_command("load_demo", stdout=io.StringIO())

    # the welcome and fruit campaigns, and the clearance drafted from PAR01's slow movers
    assert counts == (1, 2, 3, 101)
    clearance = Campaign.objects.get(origin=CampaignOrigin.SLOW_MOVERS)
    assert clearance.state == CampaignState.DRAFT
    assert list(clearance.stores.values_list("code", flat=True)) == ["PAR01"]
    assert clearance.eligible_skus
    assert (
        Program.objects.count(),
        Member.objects.count(),
        Campaign.objects.count(),
        CouponCode.objects.count(),
    ) == counts
    shopper = Member.objects.get(card_number="2900000000018")
    assert shopper.user is not None
    assert shopper.user.username == "shopper"


def test_the_weekly_task_is_on_the_beat_schedule_on_mondays_at_four() -> None:
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["loyalty-propose-slow-mover-campaigns"]
    assert entry["task"] == "loyalty.tasks.propose_slow_mover_campaigns"
    schedule: Any = entry["schedule"]
    assert (schedule.day_of_week, schedule.hour, schedule.minute) == ({1}, {4}, {0})
