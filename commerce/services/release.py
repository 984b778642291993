"""Releasing pickup slots: the rows of day D are written from the weekly
template and the exceptions, and open for booking at D's release instant
(``release_time`` store-local, ``days_ahead`` days before D).

- The clock is the database's (``SELECT now()``), never the worker's.
- Rows are written up to ``PRECREATE_AHEAD`` before the release instant, so
  the midnight rush never waits for a beat tick: they carry ``release_at``
  and the booking statement refuses them until the database clock passes it.
- Idempotent: slot rows are inserted with ``ON CONFLICT DO NOTHING`` on the
  unique (store, start); the released day is a row unique on (store, date)
  inserted the same way, and only the run that inserted it writes the
  ``slots.released`` event, so two overlapping runs emit it once.
- Catches up: every day from today (store-local) up to the newest one whose
  release instant has passed is handled, however long the task was down."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction

from commerce.clock import db_now
from commerce.models import PickupSlot, SlotRelease, SlotSchedule
from commerce.slot_layout import SlotTimes, Window, day_slots, release_instant
from commerce.sql.slots import RELEASE_RECORD, SLOTS_INSERT
from gateway.api import readcache
from gateway.api.instants import instant_text
from inventory.local_time import zone
from inventory.models import LocationKind
from partners.services import event_record

# Slot rows of a day are written this long before they open: a beat tick
# (every minute) always falls inside, and rows that exist are still refused
# by the booking statement until release_at.
PRECREATE_AHEAD = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class DayRelease:
    store_id: int
    day: dt.date
    slots_created: int
    released: bool


def slots_release_due(*, now: dt.datetime | None = None, store_ids: Iterable[int] | None = None) -> list[DayRelease]:
    """Release, for every active schedule (or those of ``store_ids``), the days
    whose release instant has passed; pre-create those opening soon."""
    now = now or db_now()
    schedules = (
        SlotSchedule.objects.filter(
            is_active=True, store__is_active=True, store__click_and_collect=True, store__kind=LocationKind.STORE
        )
        .select_related("store")
        .prefetch_related("windows", "exceptions")
        .order_by("pk")
    )
    if store_ids is not None:
        schedules = schedules.filter(store_id__in=list(store_ids))
    done: list[DayRelease] = []
    for schedule in schedules:
        done.extend(schedule_release_due(schedule=schedule, now=now))
    return done


def schedule_release_due(*, schedule: SlotSchedule, now: dt.datetime) -> list[DayRelease]:
    tz = zone(schedule.store.time_zone)
    today = now.astimezone(tz).date()
    released = set(
        SlotRelease.objects.filter(store_id=schedule.store_id, local_date__gte=today).values_list(
            "local_date", flat=True
        )
    )
    done = []
    for offset in range(schedule.days_ahead + 2):
        day = today + dt.timedelta(days=offset)
        opens = release_instant(day, days_ahead=schedule.days_ahead, release_time=schedule.release_time, tz=tz)
        if day in released or opens > now + PRECREATE_AHEAD:
            continue
        done.append(day_release(schedule=schedule, day=day, release_at=opens, now=now))
    return done


def day_release(*, schedule: SlotSchedule, day: dt.date, release_at: dt.datetime, now: dt.datetime) -> DayRelease:
    """Write the slots of one day (if missing) and, once ``release_at`` has
    passed, record the release and its event, all in one transaction."""
    slots = planned_slots(schedule=schedule, day=day)
    with transaction.atomic():
        created = _insert_slots(store_id=schedule.store_id, day=day, release_at=release_at, slots=slots)
        released = release_at <= now and _record_release(schedule=schedule, day=day, release_at=release_at)
        if created:
            readcache.bump_on_commit([readcache.slot_day_key(schedule.store_id, day)])
    return DayRelease(store_id=schedule.store_id, day=day, slots_created=created, released=released)


def planned_slots(*, schedule: SlotSchedule, day: dt.date) -> list[SlotTimes]:
    """The slots of ``day`` from the template, minus closed ones, with capacity overrides."""
    tz = zone(schedule.store.time_zone)
    exceptions = [e for e in schedule.exceptions.all() if e.date == day]
    whole_day = next((e for e in exceptions if e.slot_start is None), None)
    if whole_day is not None and whole_day.closed:
        return []
    per_slot = {e.slot_start: e for e in exceptions if e.slot_start is not None}
    windows = [
        Window(opens=w.opens, closes=w.closes, slot_minutes=w.slot_minutes, capacity=w.capacity)
        for w in schedule.windows.all()
        if w.weekday == day.isoweekday()
    ]
    planned = []
    for slot in day_slots(day, windows, tz):
        override = per_slot.get(slot.local_start, whole_day)
        if override is not None and override.closed:
            continue
        capacity = override.capacity if override is not None and override.capacity is not None else slot.capacity
        planned.append(SlotTimes(slot.starts_at, slot.ends_at, slot.local_start, capacity))
    return planned


def _insert_slots(*, store_id: int, day: dt.date, release_at: dt.datetime, slots: list[SlotTimes]) -> int:
    """Insert the slots that do not exist yet (one statement); returns how many were new."""
    if not slots:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            SLOTS_INSERT,
            [
                store_id,
                day,
                release_at,
                [slot.starts_at for slot in slots],
                [slot.ends_at for slot in slots],
                [slot.capacity for slot in slots],
            ],
        )
        return cursor.rowcount


def _record_release(*, schedule: SlotSchedule, day: dt.date, release_at: dt.datetime) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(RELEASE_RECORD, [schedule.store_id, day, release_at, schedule.store_id, day])
        row = cursor.fetchone()
    if row is None:
        return False  # another run released this day first and wrote the event
    store = schedule.store
    event_record(
        type="slots.released",
        partner_id=None,
        subject=f"slots:{store.code}:{day.isoformat()}",
        payload={
            "store_id": store.pk,
            "store": store.code,
            "date": day.isoformat(),
            "release_at": instant_text(release_at),
            "slot_count": row[0],
        },
    )
    return True


def day_has_slots(*, store_id: int, day: dt.date) -> bool:
    """True once slot rows of ``day`` exist (pre-created or released)."""
    return (
        SlotRelease.objects.filter(store_id=store_id, local_date=day).exists()
        or PickupSlot.objects.filter(store_id=store_id, local_date=day).exists()
    )
