"""Releasing pickup slots: store-local midnight on D-7, right across the
Europe/Paris DST changes (2026-03-29: 23 hours; 2026-10-25: 25 hours),
idempotent, caught up after downtime, one slots.released per store and day."""

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from commerce.models import PickupSlot, SlotException, SlotRelease
from commerce.services.release import PRECREATE_AHEAD, slots_release_due
from commerce.tasks import release_pickup_slots
from inventory.local_time import local_instant
from partners.models import Event
from tests.commerce.factories import store_with_schedule

PARIS = ZoneInfo("Europe/Paris")
UTC = dt.UTC
WHOLE_DAY = [(day, "00:00", "00:00", 30, 5) for day in range(1, 8)]


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def slots_of(store, day: dt.date) -> list[PickupSlot]:
    return list(PickupSlot.objects.filter(store=store, local_date=day).order_by("starts_at"))


def released_events(store) -> list[Event]:
    return list(Event.objects.filter(type="slots.released", payload__store_id=store.pk).order_by("pk"))


# ---------------------------------------------------------------- wall clock to instants


def test_a_wall_time_in_the_spring_gap_means_the_transition_instant() -> None:
    # 02:30 does not exist on 2026-03-29 in Paris: clocks jump from 02:00 CET to 03:00 CEST (01:00 UTC)
    assert local_instant(dt.date(2026, 3, 29), dt.time(2, 30), PARIS) == utc("2026-03-29T01:00:00")


def test_a_repeated_wall_time_in_autumn_means_its_first_occurrence() -> None:
    # 02:30 happens twice on 2026-10-25: first at +02:00 (00:30 UTC), then at +01:00 (01:30 UTC)
    assert local_instant(dt.date(2026, 10, 25), dt.time(2, 30), PARIS) == utc("2026-10-25T00:30:00")


def test_local_midnight_is_23h_utc_in_winter_and_22h_in_summer() -> None:
    assert local_instant(dt.date(2026, 3, 28), dt.time(0), PARIS) == utc("2026-03-27T23:00:00")
    assert local_instant(dt.date(2026, 3, 30), dt.time(0), PARIS) == utc("2026-03-29T22:00:00")
    assert local_instant(dt.date(2026, 10, 25), dt.time(0), PARIS) == utc("2026-10-24T22:00:00")
    assert local_instant(dt.date(2026, 10, 26), dt.time(0), PARIS) == utc("2026-10-25T23:00:00")


# ---------------------------------------------------------------- DST days


@pytest.mark.django_db
def test_spring_forward_day_has_46_half_hour_slots_and_no_0200() -> None:
    # given a store open around the clock in 30-minute slots
    store = store_with_schedule(windows=WHOLE_DAY)
    # when the release runs at the moment 2026-03-29 opens (local midnight of 2026-03-22, CET)
    slots_release_due(now=utc("2026-03-21T23:00:00"))
    # then the 23-hour day has 46 slots, from local midnight (23:00 UTC the day before) to the next one
    slots = slots_of(store, dt.date(2026, 3, 29))
    assert len(slots) == 46
    assert slots[0].starts_at == utc("2026-03-28T23:00:00")
    assert slots[-1].ends_at == utc("2026-03-29T22:00:00")
    local_starts = [s.starts_at.astimezone(PARIS).strftime("%H:%M") for s in slots]
    assert "02:00" not in local_starts
    assert "02:30" not in local_starts
    assert local_starts[3:5] == ["01:30", "03:00"]
    assert len({s.starts_at for s in slots}) == 46
    assert all(s.ends_at - s.starts_at == dt.timedelta(minutes=30) for s in slots)
    # and they open at local midnight seven days before
    assert {s.release_at for s in slots} == {utc("2026-03-21T23:00:00")}


@pytest.mark.django_db
def test_fall_back_day_has_50_half_hour_slots_with_two_distinct_0200() -> None:
    store = store_with_schedule(windows=WHOLE_DAY)
    slots_release_due(now=utc("2026-10-17T22:00:00"))  # local midnight of 2026-10-18 (CEST)
    slots = slots_of(store, dt.date(2026, 10, 25))
    assert len(slots) == 50
    assert slots[0].starts_at == utc("2026-10-24T22:00:00")
    assert slots[-1].ends_at == utc("2026-10-25T23:00:00")
    twos = [s.starts_at for s in slots if s.starts_at.astimezone(PARIS).strftime("%H:%M") == "02:00"]
    assert twos == [utc("2026-10-25T00:00:00"), utc("2026-10-25T01:00:00")]
    assert [t.astimezone(PARIS).utcoffset() for t in twos] == [dt.timedelta(hours=2), dt.timedelta(hours=1)]
    assert {s.release_at for s in slots} == {utc("2026-10-17T22:00:00")}


@pytest.mark.django_db
def test_an_ordinary_day_has_48_slots() -> None:
    store = store_with_schedule(windows=WHOLE_DAY)
    slots_release_due(now=utc("2026-04-07T22:00:00"))  # local midnight of 2026-04-08, releasing 2026-04-15
    assert len(slots_of(store, dt.date(2026, 4, 15))) == 48


@pytest.mark.django_db
def test_release_instants_around_both_changes_are_local_midnight() -> None:
    # given a daytime store (08:00-20:00)
    store = store_with_schedule()
    # when ten days around each change are released
    slots_release_due(now=utc("2026-03-31T22:00:00"))
    slots_release_due(now=utc("2026-10-27T23:00:00"))
    # then each day's slots open at local midnight of D-7: 23:00 UTC in winter, 22:00 UTC in summer
    expected = {
        dt.date(2026, 4, 5): utc("2026-03-28T23:00:00"),  # released on 03-29 00:00, still CET
        dt.date(2026, 4, 6): utc("2026-03-29T22:00:00"),  # released on 03-30 00:00 CEST
        dt.date(2026, 11, 1): utc("2026-10-24T22:00:00"),  # released on 10-25 00:00, still CEST
        dt.date(2026, 11, 2): utc("2026-10-25T23:00:00"),  # released on 10-26 00:00 CET
    }
    for day, release_at in expected.items():
        slots = slots_of(store, day)
        assert slots, day
        assert {s.release_at for s in slots} == {release_at}, day
        # and a daytime slot still starts at 08:00 local whatever the offset
        assert slots[0].starts_at.astimezone(PARIS).strftime("%H:%M") == "08:00"


# ---------------------------------------------------------------- at midnight, not before


@pytest.mark.django_db
def test_a_day_is_released_at_local_midnight_not_a_second_before() -> None:
    store = store_with_schedule()
    target = dt.date(2026, 6, 17)
    midnight = utc("2026-06-09T22:00:00")  # 2026-06-10 00:00 CEST = release of 2026-06-17
    # when the release runs one second before: rows may be prepared, the day is not released
    slots_release_due(now=midnight - dt.timedelta(seconds=1))
    assert not SlotRelease.objects.filter(store=store, local_date=target).exists()
    assert len(slots_of(store, target)) == 24  # pre-created, carrying release_at, not yet bookable
    assert not [e for e in released_events(store) if e.payload["date"] == "2026-06-17"]
    # when it runs at midnight: released, and the event says so once
    slots_release_due(now=midnight)
    assert SlotRelease.objects.filter(store=store, local_date=target).exists()
    events = [e for e in released_events(store) if e.payload["date"] == "2026-06-17"]
    assert len(events) == 1
    assert events[0].payload["slot_count"] == 24
    assert events[0].payload["release_at"] == "2026-06-09T22:00:00Z"
    assert events[0].partner_id is None


@pytest.mark.django_db
def test_rows_are_only_prepared_shortly_before_their_release() -> None:
    store = store_with_schedule()
    midnight = utc("2026-06-09T22:00:00")
    slots_release_due(now=midnight - PRECREATE_AHEAD - dt.timedelta(seconds=1))
    assert not slots_of(store, dt.date(2026, 6, 17))


# ---------------------------------------------------------------- idempotent, catch-up


@pytest.mark.django_db
def test_running_twice_creates_nothing_twice() -> None:
    store = store_with_schedule()
    now = utc("2026-06-09T22:30:00")
    first = slots_release_due(now=now)
    count, events = PickupSlot.objects.filter(store=store).count(), len(released_events(store))
    second = slots_release_due(now=now)
    assert sum(d.slots_created for d in first) == count == 8 * 24
    assert second == []  # every day is already released
    assert PickupSlot.objects.filter(store=store).count() == count
    assert len(released_events(store)) == events == 8


@pytest.mark.django_db
def test_catches_up_after_downtime_without_creating_past_days() -> None:
    # given a release on 2026-06-10
    store = store_with_schedule()
    slots_release_due(now=utc("2026-06-09T22:30:00"))
    # when the task next runs three days later
    slots_release_due(now=utc("2026-06-12T22:30:00"))
    # then the three missed days are released, once each, and nothing before the first release appears
    days = sorted(SlotRelease.objects.filter(store=store).values_list("local_date", flat=True))
    assert days == [dt.date(2026, 6, 10) + dt.timedelta(days=i) for i in range(11)]
    dates = [e.payload["date"] for e in released_events(store)]
    assert len(dates) == len(set(dates)) == 11


@pytest.mark.django_db
def test_closed_dates_and_capacity_overrides_shape_the_day() -> None:
    store = store_with_schedule()
    schedule = store.slot_schedule
    SlotException.objects.create(schedule=schedule, date=dt.date(2026, 6, 15), closed=True)
    SlotException.objects.create(schedule=schedule, date=dt.date(2026, 6, 16), capacity=3)
    SlotException.objects.create(schedule=schedule, date=dt.date(2026, 6, 16), slot_start=dt.time(12, 0), capacity=1)
    SlotException.objects.create(schedule=schedule, date=dt.date(2026, 6, 16), slot_start=dt.time(12, 30), closed=True)
    slots_release_due(now=utc("2026-06-09T22:30:00"))
    assert slots_of(store, dt.date(2026, 6, 15)) == []
    assert SlotRelease.objects.get(store=store, local_date=dt.date(2026, 6, 15)).slot_count == 0
    capacities = {
        s.starts_at.astimezone(PARIS).strftime("%H:%M"): s.capacity for s in slots_of(store, dt.date(2026, 6, 16))
    }
    assert len(capacities) == 23
    assert capacities["12:00"] == 1
    assert "12:30" not in capacities
    assert capacities["08:00"] == 3


@pytest.mark.django_db
def test_inactive_schedules_and_stores_release_nothing() -> None:
    paused = store_with_schedule(is_active=False)
    closed = store_with_schedule()
    closed.click_and_collect = False
    closed.save(update_fields=["click_and_collect"])
    slots_release_due(now=utc("2026-06-09T22:30:00"))
    assert not PickupSlot.objects.filter(store__in=[paused, closed]).exists()


@pytest.mark.django_db
def test_the_beat_task_releases_on_the_database_clock() -> None:
    # given a schedule whose today+7 opened at the last local midnight
    store = store_with_schedule(time_zone="America/New_York")
    # when the beat task runs (no clock given: it reads SELECT now())
    release_pickup_slots()
    # then today .. today+7 (store-local) are released
    with connection.cursor() as cursor:
        cursor.execute("SELECT (now() AT TIME ZONE 'America/New_York')::date")
        today = cursor.fetchone()[0]
    days = sorted(SlotRelease.objects.filter(store=store).values_list("local_date", flat=True))
    assert days == [today + dt.timedelta(days=i) for i in range(8)]


# ---------------------------------------------------------------- two workers at once


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_create_each_slot_once_and_one_event_per_day() -> None:
    # given three stores, eight days each to release
    stores = [store_with_schedule(windows=WHOLE_DAY) for _ in range(3)]
    now = utc("2026-03-21T23:00:00")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            slots_release_due(now=now)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    # when two workers run the release at the same moment, on their own connections
    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then nothing failed, each slot exists once and each store-day was announced once
    assert errors == []
    for store in stores:
        assert PickupSlot.objects.filter(store=store).count() == 7 * 48 + 46  # 03-21..03-28 plus the 23-hour day
        dates = [e.payload["date"] for e in released_events(store)]
        assert len(dates) == len(set(dates)) == 8
