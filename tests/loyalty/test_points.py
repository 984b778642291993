"""The points ledger: earning (pending), activation and expiry by the
nightly job, FIFO burn by expiry, giving a spending back, returns under each
policy, and the ledger check that proves balances equal their movements."""

import datetime as dt
import zoneinfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from loyalty.errors import InsufficientPoints, PointsSourceReused
from loyalty.models import BucketState, Member, MovementKind, PointsBucket, PointsMovement, Program, ReturnPolicy
from loyalty.selectors.ledger import points_ledger_report
from loyalty.services.nightly import nightly_is_due, program_nightly
from loyalty.services.points import points_earn, points_refund, points_reverse, points_run_due, points_spend
from loyalty.tasks import check_points_ledger
from partners.models import Event
from tests.loyalty.factories import MemberFactory, ProgramFactory

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def paris(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=PARIS)  # type: ignore[misc, arg-type]  # year, month, day, ...


def counters(member: Member) -> tuple[int, int, int]:
    member.refresh_from_db()
    return member.points_pending, member.points_active, member.points_debt


def earn(program: Program, member: Member, points: int, source: str, when: dt.datetime) -> None:
    points_earn(program=program, member_id=member.pk, points=points, source=source, earned_at=when)


@pytest.fixture
def program() -> Program:
    return ProgramFactory.create(pending_days=14, expiry_months=1)


@pytest.fixture
def member(program: Program) -> Member:
    return MemberFactory.create(program=program)


def test_points_earned_are_pending_until_the_window_ends_then_active(program, member) -> None:
    # given 120 points earned on 20 March 2027 in Paris (the window crosses the spring DST change)
    earn(program, member, 120, "order:1", paris(2027, 3, 20, 10, 0))
    assert counters(member) == (120, 0, 0)

    # when the nightly job runs just before the local midnight that ends the window, then just after
    before = points_run_due(program=program, now=paris(2027, 4, 3, 23, 59))
    after = points_run_due(program=program, now=paris(2027, 4, 4, 0, 0))

    # then nothing activates before, everything after
    assert (before.activated, after.activated) == (0, 1)
    assert counters(member) == (0, 120, 0)
    assert points_ledger_report().ok


def test_the_same_source_earns_once_and_other_figures_are_refused(program, member) -> None:
    first = points_earn(
        program=program, member_id=member.pk, points=50, source="ticket:PAR01:T1", earned_at=paris(2027, 1, 5, 10, 0)
    )
    again = points_earn(
        program=program, member_id=member.pk, points=50, source="ticket:PAR01:T1", earned_at=paris(2027, 1, 5, 11, 0)
    )
    assert again == first  # the bucket and dates of the first time
    assert first.bucket_id is not None
    assert first.activates_at is not None
    assert counters(member) == (50, 0, 0)
    assert PointsMovement.objects.filter(member=member).count() == 1

    # points_earn takes no savepoint (a refusal fails the caller's transaction): the test makes its own
    with pytest.raises(PointsSourceReused), transaction.atomic():
        earn(program, member, 60, "ticket:PAR01:T1", paris(2027, 1, 5, 10, 0))
    with pytest.raises(PointsSourceReused), transaction.atomic():
        earn(program, member, 0, "ticket:PAR01:T1", paris(2027, 1, 5, 10, 0))
    nothing = points_earn(
        program=program, member_id=member.pk, points=0, source="ticket:PAR01:T2", earned_at=paris(2027, 1, 5, 10, 0)
    )
    assert (nothing.bucket_id, nothing.points, nothing.activates_at, nothing.expires_at) == (None, 0, None, None)
    assert counters(member) == (50, 0, 0)


def test_points_expire_at_the_end_of_the_month_after_and_the_job_is_idempotent(program, member) -> None:
    # given points earned on 31 January 2027 (one month of life: they expire as February ends)
    earn(program, member, 30, "order:jan31", paris(2027, 1, 31, 18, 0))
    points_run_due(program=program, now=paris(2027, 2, 20, 3, 0))
    assert counters(member) == (0, 30, 0)

    # when the job runs on the last evening of February, then on 1 March, then again
    points_run_due(program=program, now=paris(2027, 2, 28, 23, 59))
    assert counters(member) == (0, 30, 0)
    first = points_run_due(program=program, now=paris(2027, 3, 1, 0, 0))
    again = points_run_due(program=program, now=paris(2027, 3, 1, 3, 0))

    # then they expired once, told once to the feed
    assert (first.expired, again.expired) == (1, 0)
    assert counters(member) == (0, 0, 0)
    assert PointsBucket.objects.get(member=member).state == BucketState.EXPIRED
    assert points_ledger_report().ok
    (expired,) = Event.objects.filter(type="points.expired", subject=f"member:{member.pk}")
    assert expired.partner_id is None
    assert (expired.payload["points"], expired.payload["program"]) == (30, program.code)
    assert expired.payload["sources"] == [{"source": "order:jan31", "points": 30}]


def test_a_run_after_downtime_catches_up_activation_and_expiry(program, member) -> None:
    earn(program, member, 10, "order:a", paris(2027, 1, 2, 12, 0))
    earn(program, member, 20, "order:b", paris(2027, 2, 20, 12, 0))

    # the workers were down from January to the end of March: one run does everything due
    outcome = program_nightly(program=program, now=paris(2027, 3, 31, 3, 0))

    assert (outcome.activated, outcome.expired) == (2, 1)
    assert counters(member) == (0, 20, 0)
    program.refresh_from_db()
    assert program.nightly_done_on == dt.date(2027, 3, 31)
    assert not nightly_is_due(program, paris(2027, 3, 31, 23, 0))
    assert not nightly_is_due(program, paris(2027, 4, 1, 2, 59))
    assert nightly_is_due(program, paris(2027, 4, 1, 3, 0))
    assert nightly_is_due(program, paris(2027, 4, 5, 1, 0))  # days missed: at once


def active_points(program: Program, member: Member, *earnings: tuple[int, str, dt.datetime]) -> None:
    for points, source, when in earnings:
        earn(program, member, points, source, when)
    points_run_due(program=program, now=paris(2027, 3, 25, 3, 0))


def test_spending_burns_the_buckets_that_expire_first(member) -> None:
    program = ProgramFactory.create(pending_days=0, expiry_months=3)
    member = MemberFactory.create(program=program)
    # given three buckets, earned in March, January and February (so expiring in June, April, May)
    active_points(
        program,
        member,
        (100, "march", paris(2027, 3, 1, 12, 0)),
        (40, "january", paris(2027, 1, 15, 12, 0)),
        (50, "february", paris(2027, 2, 15, 12, 0)),
    )
    assert counters(member) == (0, 190, 0)

    # when 70 points are spent
    points_spend(member_id=member.pk, points=70, reference="order:pay", now=paris(2027, 3, 25, 12, 0))

    # then January's bucket is used up, February's gave 30, March's is untouched
    remaining = dict(PointsBucket.objects.filter(member=member).values_list("source", "remaining"))
    assert remaining == {"january": 0, "february": 20, "march": 100}
    assert PointsBucket.objects.get(member=member, source="january").state == BucketState.SPENT
    assert counters(member) == (0, 120, 0)
    # the same spending again spends nothing more
    assert points_spend(member_id=member.pk, points=70, reference="order:pay") == 70
    assert counters(member) == (0, 120, 0)
    # and giving it back refills the buckets it came from
    assert points_refund(member_id=member.pk, reference="order:pay") == 70
    assert points_refund(member_id=member.pk, reference="order:pay") == 0
    remaining = dict(PointsBucket.objects.filter(member=member).values_list("source", "remaining"))
    assert remaining == {"january": 40, "february": 50, "march": 100}
    assert points_ledger_report().ok


def test_points_past_expiry_are_not_spendable_before_the_job_sweeps_them() -> None:
    program = ProgramFactory.create(pending_days=0, expiry_months=1)
    member = MemberFactory.create(program=program)
    earn(program, member, 40, "jan", paris(2027, 1, 15, 12, 0))
    earn(program, member, 10, "feb", paris(2027, 2, 20, 12, 0))
    points_run_due(program=program, now=paris(2027, 2, 22, 3, 0))
    # January's expired on 1 March, but no job has swept it yet: still counted
    assert counters(member) == (0, 50, 0)

    with pytest.raises(InsufficientPoints) as refused:
        points_spend(member_id=member.pk, points=20, reference="order:x", now=paris(2027, 3, 26, 12, 0))

    assert refused.value.extra == {"points_spendable": 10, "points_requested": 20}
    assert counters(member) == (0, 50, 0)


@pytest.mark.parametrize(
    ("policy", "expected", "outcome"),
    [
        # 30 active from an earlier order, 25 pending from the returned one, the return takes back 40
        (ReturnPolicy.ONLY_PENDING, (0, 30, 0), (25, 0, 0, 15)),
        (ReturnPolicy.WITHIN_BALANCE, (0, 15, 0), (25, 15, 0, 0)),
        (ReturnPolicy.ALLOW_NEGATIVE, (0, 15, 0), (25, 15, 0, 0)),
    ],
)
def test_a_return_takes_points_back_per_the_policy(policy, expected, outcome) -> None:
    program = ProgramFactory.create(pending_days=14, expiry_months=12, return_policy=policy)
    member = MemberFactory.create(program=program)
    earn(program, member, 30, "order:old", paris(2027, 1, 2, 12, 0))
    points_run_due(program=program, now=paris(2027, 2, 1, 3, 0))
    earn(program, member, 25, "order:returned", paris(2027, 2, 2, 12, 0))

    result = points_reverse(program=program, member_id=member.pk, source="order:returned", points=40, reference="r1")

    assert (result.from_pending, result.from_active, result.debt, result.kept) == outcome
    assert counters(member) == expected
    # the same return again changes nothing
    points_reverse(program=program, member_id=member.pk, source="order:returned", points=40, reference="r1")
    assert counters(member) == expected
    assert points_ledger_report().ok


def test_allow_negative_leaves_a_debt_that_the_next_points_pay_off_first() -> None:
    program = ProgramFactory.create(pending_days=0, expiry_months=12, return_policy=ReturnPolicy.ALLOW_NEGATIVE)
    member = MemberFactory.create(program=program)
    earn(program, member, 20, "order:1", paris(2027, 1, 2, 12, 0))
    points_run_due(program=program, now=paris(2027, 1, 3, 3, 0))
    points_spend(member_id=member.pk, points=15, reference="pay:1", now=paris(2027, 1, 3, 12, 0))

    # the whole order is returned: 20 points to take back, 5 left to take
    result = points_reverse(program=program, member_id=member.pk, source="order:1", points=20, reference="ret:1")
    assert (result.from_active, result.debt) == (5, 15)
    assert counters(member) == (0, 0, 15)
    member.refresh_from_db()
    assert member.points_balance == -15

    # the next 40 points pay the debt first
    earn(program, member, 40, "order:2", paris(2027, 1, 10, 12, 0))
    points_run_due(program=program, now=paris(2027, 1, 11, 3, 0))
    assert counters(member) == (0, 25, 0)
    kinds = list(member.movements.order_by("id").values_list("kind", flat=True))
    assert kinds[-2:] == [MovementKind.ACTIVATE, MovementKind.SETTLE]
    assert points_ledger_report().ok


def test_a_balance_changed_behind_the_ledger_fails_the_check_and_is_named(program, member, capsys) -> None:
    earn(program, member, 70, "order:1", paris(2027, 1, 2, 12, 0))
    call_command("check_points_ledger")
    assert "points ledger OK" in capsys.readouterr().out
    assert check_points_ledger() == 0

    # when a balance is changed behind the services' back, as a bug or a manual UPDATE would
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Member._meta.db_table} SET points_active = 500 WHERE id = %s", [member.pk])  # noqa: S608

    # then the command fails naming the member, and the task counts it
    with pytest.raises(CommandError, match="1 of 1 members"):
        call_command("check_points_ledger")
    err = capsys.readouterr().err
    assert f"member {member.pk} card {member.card_number}: pending=70 active=500 debt=0" in err
    assert check_points_ledger() == 1


def test_a_bucket_changed_behind_the_ledger_fails_the_check() -> None:
    program = ProgramFactory.create()
    member = MemberFactory.create(program=program)
    earn(program, member, 70, "order:1", paris(2027, 1, 2, 12, 0))
    PointsBucket.objects.filter(member=member).update(remaining=60)

    report = points_ledger_report()

    assert [b.bucket_id for b in report.buckets] == [PointsBucket.objects.get(member=member).pk]
    assert [m.member_id for m in report.members] == [member.pk]  # pending 70 against open buckets 60
