"""The points ledger's writes: earning, activation, expiry, spending (FIFO by
expiry), giving a spending back, and taking points back on a return.

Every change takes the member's row lock first (``loyalty.locks``), then
moves the member's counters and writes the movement in one statement
(``loyalty.sql.MEMBER_MOVE``), so the counters never differ from the ledger;
``check_points_ledger`` proves it. Each write is idempotent by its
reference (the earning's source, the spending's or the return's reference):
a retried task or a resent ticket changes nothing the second time."""

import datetime as dt
from dataclasses import dataclass, replace

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from loyalty.dates import points_dates
from loyalty.errors import InsufficientPoints, LoyaltyObjectNotFound, PointsSourceReused
from loyalty.events import points_event
from loyalty.locks import LockedBucket, LockedMember, lock_due_buckets, lock_member, lock_member_buckets
from loyalty.models import BucketState, MovementKind, PointsBucket, PointsMovement, Program, ReturnPolicy
from loyalty.sql import BUCKET_EARN, BUCKET_OF_SOURCE, MEMBER_MOVE, MEMBERS_WITH_DUE_BUCKETS
from partners.services import events_record

_OPEN = (BucketState.PENDING, BucketState.ACTIVE)


@dataclass
class _Counters:
    pending: int
    active: int
    debt: int


def _move(
    *, member_id: int, kind: str, reference: str, bucket_id: int | None = None, pending: int = 0, active: int = 0,
    debt: int = 0,
) -> _Counters:  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            MEMBER_MOVE,
            {"member": member_id, "bucket": bucket_id, "kind": kind, "reference": reference[:160],
             "pending": pending, "active": active, "debt": debt},
        )  # fmt: skip
        row = cursor.fetchone()
    if row is None:  # the member's lock is held, so only a caller's arithmetic error gets here
        raise InsufficientPoints(_("The member's points cannot go below zero."))
    return _Counters(*row)


def _locked(member_id: int) -> LockedMember:
    member = lock_member(member_id=member_id)
    if member is None:
        raise LoyaltyObjectNotFound()
    return member


def _set_bucket(bucket_id: int, *, remaining: int, state: str) -> None:
    PointsBucket.objects.filter(pk=bucket_id).update(remaining=remaining, state=state, updated_at=timezone.now())


@dataclass(frozen=True)
class Earned:
    bucket_id: int | None
    points: int
    activates_at: dt.datetime | None
    expires_at: dt.datetime | None


def points_earn(
    *, program: Program, member_id: int, points: int, source: str, earned_at: dt.datetime,
    locked: LockedMember | None = None,
) -> Earned:  # fmt: skip
    """Points earned by ``source`` (an order, a ticket), pending until the
    return window ends. The same source earns once; sent again with another
    number of points it is refused (409 ``points_source_reused``).

    ``locked``: the member's lock when the caller's transaction took it
    already and has not moved the member's points since (a till ticket);
    otherwise this takes it. No savepoint: an error here fails the caller's
    whole transaction, which no caller goes on with."""
    with transaction.atomic(savepoint=False):
        member = locked if locked is not None and locked.id == member_id else _locked(member_id)
        bucket_id = None
        if points > 0:  # the bucket, unless this source has one already (one statement: most earnings are new)
            activates_at, expires_at = points_dates(
                earned_at, program.time_zone, pending_days=program.pending_days, months=program.expiry_months
            )
            with connection.cursor() as cursor:
                cursor.execute(
                    BUCKET_EARN,
                    {"member": member_id, "amount": points, "state": BucketState.PENDING, "earned_at": earned_at,
                     "activates_at": activates_at, "expires_at": expires_at, "source": source,
                     "now": timezone.now()},
                )  # fmt: skip
                row = cursor.fetchone()
            bucket_id = row[0] if row else None
        if bucket_id is None:
            with connection.cursor() as cursor:
                cursor.execute(BUCKET_OF_SOURCE, {"member": member_id, "source": source})
                existing = cursor.fetchone()
            if existing is None:
                return Earned(None, 0, None, None)
            existing_id, amount, existing_activates_at, existing_expires_at = existing
            if amount != points:
                raise PointsSourceReused(
                    _("%(source)s already earned %(points)d points.") % {"source": source, "points": amount}
                )
            return Earned(existing_id, amount, existing_activates_at, existing_expires_at)
        _move(member_id=member_id, kind=MovementKind.EARN, reference=source, bucket_id=bucket_id, pending=points)
        # Earned late (a till ticket from an offline store): whatever is already due happens now.
        _run_due(member, timezone.now(), program.code)
        return Earned(bucket_id, points, activates_at, expires_at)


def _activate(bucket: LockedBucket, debt: int) -> tuple[int, LockedBucket]:
    """Activate a pending bucket; a debt is paid off from it first. Returns
    the debt left and the bucket as it now is."""
    remaining = bucket.remaining
    _move(member_id=bucket.member_id, kind=MovementKind.ACTIVATE, reference=bucket.source, bucket_id=bucket.id,
          pending=-remaining, active=remaining)  # fmt: skip
    settled = min(debt, remaining)
    if settled:
        _move(member_id=bucket.member_id, kind=MovementKind.SETTLE, reference=bucket.source, bucket_id=bucket.id,
              active=-settled, debt=-settled)  # fmt: skip
    left = remaining - settled
    state = BucketState.ACTIVE if left else BucketState.SPENT
    _set_bucket(bucket.id, remaining=left, state=state)
    return debt - settled, replace(bucket, remaining=left, state=state)


def _lock_buckets(member_id: int, states: tuple[str, ...]) -> list[LockedBucket]:
    return lock_member_buckets(member_id=member_id, states=states)


def _expire(bucket: LockedBucket, *, was_pending: bool) -> None:
    if bucket.remaining:
        _move(member_id=bucket.member_id, kind=MovementKind.EXPIRE, reference=bucket.source, bucket_id=bucket.id,
              pending=-bucket.remaining if was_pending else 0,
              active=0 if was_pending else -bucket.remaining)  # fmt: skip
    _set_bucket(bucket.id, remaining=0, state=BucketState.EXPIRED)


@dataclass
class DueOutcome:
    activated: int = 0
    expired: int = 0


def _run_due(member: LockedMember, now: dt.datetime, program_code: str) -> DueOutcome:
    """Activate, then expire, what is due for one member whose lock is held;
    the points that expired are one ``points.expired`` event (in the same
    transaction), naming the earnings they came from."""
    outcome = DueOutcome()
    expired: list[tuple[str, int]] = []
    debt = member.debt
    due = lock_due_buckets(member_id=member.id, now=now)  # one statement: most members have nothing due
    for index, bucket in enumerate(due):
        if bucket.state == BucketState.PENDING and bucket.activates_at <= now:
            debt, due[index] = _activate(bucket, debt)
            outcome.activated += 1
    for bucket in due:  # then the expiries, of what the activations left open too
        if bucket.state in _OPEN and bucket.expires_at <= now:
            _expire(bucket, was_pending=bucket.state == BucketState.PENDING)
            outcome.expired += 1
            if bucket.remaining:
                expired.append((bucket.source, bucket.remaining))
    if expired:
        events_record(
            events=[
                points_event(
                    type="points.expired", member_id=member.id, program_code=program_code,
                    points=sum(points for _source, points in expired),
                    reference=f"expiry:{now.date().isoformat()}", at=now,
                    sources=[{"source": source, "points": points} for source, points in expired],
                )
            ]
        )  # fmt: skip
    return outcome


def points_run_due(*, program: Program, now: dt.datetime) -> DueOutcome:
    """The nightly points steps for a program: activate the pending points
    whose return window is over, then expire those past their expiry. One
    transaction per member (a long run never holds many locks); safe to run
    again or late: it does what is due as of ``now`` and nothing twice."""
    with connection.cursor() as cursor:
        cursor.execute(MEMBERS_WITH_DUE_BUCKETS, {"program": program.pk, "now": now})
        member_ids = [row[0] for row in cursor.fetchall()]
    total = DueOutcome()
    for member_id in member_ids:
        with transaction.atomic():
            outcome = _run_due(_locked(member_id), now, program.code)
        total.activated += outcome.activated
        total.expired += outcome.expired
    return total


def points_spend(*, member_id: int, points: int, reference: str, now: dt.datetime | None = None) -> int:
    """Spend ``points`` for ``reference`` (an order paying with points),
    burning the active buckets that expire first. Points past their expiry
    that the nightly job has not swept yet are not spendable. Spending the
    same reference again returns what it spent the first time."""
    now = now or timezone.now()
    with transaction.atomic():
        _locked(member_id)
        spent = PointsMovement.objects.filter(member_id=member_id, kind=MovementKind.SPEND, reference=reference)
        already = spent.aggregate(total=Sum("delta_active"))["total"]
        if already is not None:
            return -int(already)
        buckets = [b for b in _lock_buckets(member_id, (BucketState.ACTIVE,)) if b.expires_at > now]
        spendable = sum(b.remaining for b in buckets)
        if points <= 0 or spendable < points:
            raise InsufficientPoints(
                _("%(wanted)d points asked, %(spendable)d spendable.") % {"wanted": points, "spendable": spendable},
                extra={"points_spendable": spendable, "points_requested": points},
            )
        left = points
        for bucket in buckets:
            burned = min(left, bucket.remaining)
            _move(member_id=member_id, kind=MovementKind.SPEND, reference=reference, bucket_id=bucket.id,
                  active=-burned)  # fmt: skip
            rest = bucket.remaining - burned
            _set_bucket(bucket.id, remaining=rest, state=BucketState.ACTIVE if rest else BucketState.SPENT)
            left -= burned
            if not left:
                break
        return points


def points_refund(*, member_id: int, reference: str) -> int:
    """Give back what ``reference`` spent (its order was cancelled), into the
    buckets it came from; a bucket past its expiry is then expired by the
    nightly job as it would have been. Idempotent."""
    with transaction.atomic():
        _locked(member_id)
        if PointsMovement.objects.filter(member_id=member_id, kind=MovementKind.REFUND, reference=reference).exists():
            return 0
        spent = list(
            PointsMovement.objects.filter(member_id=member_id, kind=MovementKind.SPEND, reference=reference)
            .values_list("bucket_id", "delta_active")
            .order_by("id")
        )
        by_bucket = {b.id: b for b in _lock_buckets(member_id, tuple(BucketState.values))}
        total = 0
        for bucket_id, delta in spent:
            bucket = by_bucket[bucket_id]
            _move(member_id=member_id, kind=MovementKind.REFUND, reference=reference, bucket_id=bucket_id,
                  active=-delta)  # fmt: skip
            _set_bucket(bucket_id, remaining=bucket.remaining - delta, state=BucketState.ACTIVE)
            by_bucket[bucket_id] = LockedBucket(**{**bucket.__dict__, "remaining": bucket.remaining - delta})
            total -= delta
        return total


@dataclass(frozen=True)
class Reversed:
    from_pending: int
    from_active: int
    debt: int
    kept: int


def points_reverse(*, program: Program, member_id: int, source: str, points: int, reference: str) -> Reversed:
    """Take back ``points`` earned by ``source`` after a return (``reference``
    names the return; idempotent), per the program's policy: pending points
    of that earning always; under ``within_balance`` then active points
    (that earning's first, then FIFO) down to zero; under ``allow_negative``
    the rest becomes a debt. What the policy does not allow is ``kept``."""
    with transaction.atomic():
        member = _locked(member_id)
        done = PointsMovement.objects.filter(
            member_id=member_id, reference=reference, kind__in=[MovementKind.REVERSE, MovementKind.DEBT]
        )
        if done.exists():
            sums = done.aggregate(p=Sum("delta_pending"), a=Sum("delta_active"), d=Sum("delta_debt"))
            taken = -(sums["p"] or 0) - (sums["a"] or 0) + (sums["d"] or 0)
            return Reversed(-(sums["p"] or 0), -(sums["a"] or 0), sums["d"] or 0, max(points - taken, 0))
        buckets = _lock_buckets(member_id, tuple(BucketState.values))
        own = next((b for b in buckets if b.source == source), None)
        left = points
        from_pending = from_active = 0
        if own is not None and own.state == BucketState.PENDING:
            from_pending = _take(own, left, reference, pending=True)
            left -= from_pending
        if left and program.return_policy != ReturnPolicy.ONLY_PENDING:
            active = sorted(
                (b for b in buckets if b.state == BucketState.ACTIVE), key=lambda b: (b.source != source, b.expires_at)
            )
            for bucket in active:
                taken = _take(bucket, left, reference, pending=False)
                from_active += taken
                left -= taken
                if not left:
                    break
        debt = 0
        if left and program.return_policy == ReturnPolicy.ALLOW_NEGATIVE:
            _move(member_id=member.id, kind=MovementKind.DEBT, reference=reference, debt=left)
            debt, left = left, 0
        return Reversed(from_pending, from_active, debt, left)


def _take(bucket: LockedBucket, wanted: int, reference: str, *, pending: bool) -> int:
    taken = min(wanted, bucket.remaining)
    if not taken:
        return 0
    _move(member_id=bucket.member_id, kind=MovementKind.REVERSE, reference=reference, bucket_id=bucket.id,
          pending=-taken if pending else 0, active=0 if pending else -taken)  # fmt: skip
    rest = bucket.remaining - taken
    closed = BucketState.REVERSED if pending else BucketState.SPENT
    _set_bucket(bucket.id, remaining=rest, state=bucket.state if rest else closed)
    return taken
