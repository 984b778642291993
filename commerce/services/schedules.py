"""Writes on slot schedules (weekly template, exceptions) and on released
slots (capacity, closing). Schedules change what future releases create;
slots that already exist change only through ``pickup_slot_update``."""

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Now
from django.utils.translation import gettext as _

from commerce.errors import CapacityBelowBookings, DayAlreadyReleased, ObjectNotFound, WindowsOverlap
from commerce.models import PickupSlot, SlotException, SlotSchedule, SlotWindow
from commerce.services.release import day_has_slots
from commerce.sql.slots import SLOT_UPDATE
from gateway.api import readcache
from gateway.api.problems import FieldInvalid, PreconditionFailed, PreconditionRequired
from inventory.models import Location


@dataclass(frozen=True)
class ScheduleSettings:
    days_ahead: int
    release_time: dt.time
    hold_minutes: int
    cancel_cutoff_minutes: int
    no_show_grace_minutes: int
    is_active: bool


@dataclass(frozen=True)
class WindowSpec:
    weekday: int
    opens: dt.time
    closes: dt.time
    slot_minutes: int
    capacity: int


_SETTINGS_FIELDS = [
    "days_ahead",
    "release_time",
    "hold_minutes",
    "cancel_cutoff_minutes",
    "no_show_grace_minutes",
    "is_active",
]


def slot_schedule_set(
    *, store: Location, settings: ScheduleSettings, windows: Sequence[WindowSpec], expected_version: int | None
) -> SlotSchedule:
    """Create or replace a store's schedule and weekly windows. Replacing
    needs the version the caller read (If-Match); a stale one is refused (412)."""
    _check_windows(windows)
    values = {name: getattr(settings, name) for name in _SETTINGS_FIELDS}
    with transaction.atomic():
        schedule = SlotSchedule.objects.filter(store=store).first()
        if schedule is None:
            if expected_version is not None:
                raise PreconditionFailed(_("This store has no schedule yet; send no If-Match to create it."))
            schedule = _schedule_create(store=store, values=values)
        else:
            if expected_version is None:
                raise PreconditionRequired()
            schedule = _schedule_replace(schedule=schedule, values=values, expected_version=expected_version)
            SlotWindow.objects.filter(schedule=schedule).delete()
        SlotWindow.objects.bulk_create(
            [
                SlotWindow(
                    schedule=schedule,
                    weekday=w.weekday,
                    opens=w.opens,
                    closes=w.closes,
                    slot_minutes=w.slot_minutes,
                    capacity=w.capacity,
                )
                for w in windows
            ]
        )
    return schedule


def _schedule_create(*, store: Location, values: dict[str, object]) -> SlotSchedule:
    try:
        with transaction.atomic():
            return SlotSchedule.objects.create(store=store, **values)
    except IntegrityError as exc:  # created by a concurrent request since we looked
        raise PreconditionFailed(_("The schedule was just created by another request; read it and retry.")) from exc


def _schedule_replace(*, schedule: SlotSchedule, values: dict[str, object], expected_version: int) -> SlotSchedule:
    changed = SlotSchedule.objects.filter(pk=schedule.pk, version=expected_version).update(
        **values, version=expected_version + 1, updated_at=Now()
    )
    if changed != 1:
        raise PreconditionFailed()
    schedule.refresh_from_db()
    return schedule


def _check_windows(windows: Sequence[WindowSpec]) -> None:
    """Windows end by midnight (a closing time of 00:00 is the end of the day,
    so every slot starts on its window's date) and do not overlap within a weekday."""
    by_day: dict[int, list[tuple[int, int]]] = {}
    for index, w in enumerate(windows):
        start = w.opens.hour * 60 + w.opens.minute
        end = w.closes.hour * 60 + w.closes.minute
        if end == 0:
            end = 24 * 60
        if end <= start:
            raise FieldInvalid(
                f"windows.{index}.closes", _("A window closes after it opens, at 00:00 (midnight) at the latest.")
            )
        by_day.setdefault(w.weekday, []).append((start, end))
    for weekday, spans in by_day.items():
        spans.sort()
        for (_s1, end), (start, _e2) in itertools.pairwise(spans):
            if start < end:
                raise WindowsOverlap(
                    _("Two pickup windows of weekday %(day)d overlap.") % {"day": weekday},
                    extra={"errors": [{"field": "windows", "code": "overlap", "message": f"weekday {weekday}"}]},
                )


def slot_exception_set(
    *, schedule: SlotSchedule, date: dt.date, slot_start: dt.time | None, closed: bool, capacity: int | None, note: str
) -> SlotException:
    """Add or replace the exception of a date (or of one slot of it). Only for
    days whose slots do not exist yet; released slots change with pickup_slot_update."""
    if day_has_slots(store_id=schedule.store_id, day=date):
        raise DayAlreadyReleased(
            _("The slots of %(date)s exist already; change them one by one instead.") % {"date": date.isoformat()}
        )
    with transaction.atomic():
        exception, _created = SlotException.objects.update_or_create(
            schedule=schedule,
            date=date,
            slot_start=slot_start,
            defaults={"closed": closed, "capacity": None if closed else capacity, "note": note},
        )
    return exception


def slot_exception_delete(*, schedule: SlotSchedule, exception_id: int) -> None:
    exception = SlotException.objects.filter(schedule=schedule, pk=exception_id).first()
    if exception is None:
        raise ObjectNotFound()
    if day_has_slots(store_id=schedule.store_id, day=exception.date):
        raise DayAlreadyReleased(_("The slots of this date exist already; change them one by one instead."))
    exception.delete()


def pickup_slot_update(
    *, slot: PickupSlot, capacity: int | None, closed: bool | None, expected_version: int
) -> PickupSlot:
    """Change a slot's capacity or close/reopen it, compare-and-swap on its
    version. Capacity never goes below what is booked and held."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            SLOT_UPDATE, {"id": slot.pk, "capacity": capacity, "closed": closed, "version": expected_version}
        )
        changed = cursor.rowcount
    if changed != 1:
        slot.refresh_from_db()
        if slot.version != expected_version:
            raise PreconditionFailed()
        raise CapacityBelowBookings(
            _("%(n)d unit(s) are booked or held; capacity cannot go below that.") % {"n": slot.booked + slot.held},
            extra={"booked": slot.booked, "held": slot.held},
        )
    slot.refresh_from_db()
    readcache.bump_on_commit([readcache.slot_day_key(slot.store_id, slot.local_date)])
    return slot
