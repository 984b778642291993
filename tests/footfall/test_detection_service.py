"""The notifier as stored: anomalies never grow backwards, a past window is
judged like live data (and twice changes nothing), the store's region and
calendar reach the judgement."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from footfall import simulation as synthetic
from footfall.models import Anomaly, AnomalyKind, AnomalyStatus, CalendarDayKind, Sensor, StoreCalendarDay
from footfall.services.anomalies import anomalies_detect, grace, store_calendar
from footfall.simulation import local_hour
from partners.models import Event
from tests.factories import LocationFactory
from tests.footfall.test_anomalies import store_rows

FIRST_DAY = dt.date(2026, 3, 16)


def figures(sensor: Sensor) -> list[tuple]:
    return list(
        Anomaly.objects.filter(sensor=sensor)
        .order_by("period_start", "kind")
        .values_list("kind", "status", "period_start", "period_end", "actual", "expected", "details")
    )


def test_an_open_anomaly_never_absorbs_an_older_gap(store, entrance):
    # given eight weeks of counts where Tuesday 5 May stopped sending at 15:00, and back-filled
    # history of the Monday before holds a gap too (10:00 to 13:00)
    rows = synthetic.clean_series(FIRST_DAY, 56)
    synthetic.inject_gap(rows, dt.date(2026, 5, 5), range(15, 20))
    synthetic.inject_gap(rows, dt.date(2026, 5, 4), range(10, 13))
    store_rows(entrance, rows)
    # when the notifier first judges the last three hours, then its usual 48 hours
    now = local_hour(dt.date(2026, 5, 5), 18) + grace()
    anomalies_detect(store=store, now=now, window=dt.timedelta(hours=3))
    current = Anomaly.objects.get(sensor=entrance, kind=AnomalyKind.MISSING_DATA)
    before = (current.period_start, current.period_end, current.actual, current.details)
    anomalies_detect(store=store, now=now)
    anomalies_detect(store=store, now=now + dt.timedelta(minutes=15))
    # then the open anomaly is as it was: three hours from 15:00
    current.refresh_from_db()
    assert (current.period_start, current.period_end, current.actual, current.details) == before
    assert current.period_start == local_hour(dt.date(2026, 5, 5), 15)
    assert current.details["hours"] == 3
    assert current.status == AnomalyStatus.OPEN
    # and the older gap is an anomaly of its own, over already
    older = Anomaly.objects.filter(sensor=entrance, kind=AnomalyKind.MISSING_DATA).exclude(pk=current.pk).get()
    assert (older.period_start, older.period_end) == (
        local_hour(dt.date(2026, 5, 4), 10),
        local_hour(dt.date(2026, 5, 4), 13),
    )
    assert older.status == AnomalyStatus.RESOLVED
    assert (older.details["day"], older.details["hours"]) == ("2026-05-04", 3)


def test_a_dead_day_stays_its_eleven_hours_however_often_the_notifier_runs(store, entrance):
    rows = synthetic.clean_series(FIRST_DAY, 56)
    synthetic.inject_dead_day(rows, dt.date(2026, 5, 5))
    store_rows(entrance, rows)
    # the notifier every 15 minutes from the dead day's evening to the next evening
    start = local_hour(dt.date(2026, 5, 5), 20) + grace()
    for quarter in range(0, 24 * 4, 3):
        anomalies_detect(store=store, now=start + dt.timedelta(minutes=15 * quarter))
    dead = Anomaly.objects.get(sensor=entrance, kind=AnomalyKind.ZERO_COUNTS)
    tuesday = dt.date(2026, 5, 5)
    assert (dead.period_start, dead.period_end) == (local_hour(tuesday, 9), local_hour(tuesday, 20))
    assert dead.details["hours"] == 11
    assert dead.expected is not None
    assert 600 < dead.expected < 1100  # a Tuesday's usual (about 720), counted once
    assert dead.status == AnomalyStatus.RESOLVED
    assert Event.objects.filter(type="footfall.anomaly", payload__kind="zero_counts").count() == 1


def test_a_past_window_is_judged_like_live_data_and_twice_changes_nothing(store, entrance, capsys):
    # given back-filled history with a dead Tuesday and a day at 30 %, never judged
    rows = synthetic.clean_series(FIRST_DAY, 63)
    synthetic.inject_dead_day(rows, dt.date(2026, 5, 5))
    for hour in range(24):
        row = rows[local_hour(dt.date(2026, 5, 7), hour)]
        row.in_count, row.out_count = round(row.in_count * 0.3), round(row.out_count * 0.3)
    store_rows(entrance, rows)
    # when the command judges those weeks
    call_command("footfall_check_anomalies", "--from", "2026-04-27", "--until", "2026-05-16", "--store", "PAR01")
    assert "PAR01 2026-04-27..2026-05-16: 2 new anomalies" in capsys.readouterr().out
    found = figures(entrance)
    assert [(kind, start) for kind, _, start, *_ in found] == [
        ("zero_counts", local_hour(dt.date(2026, 5, 5), 9)),
        ("low_day_volume", local_hour(dt.date(2026, 5, 7), 0)),
    ]
    assert {status for _, status, *_ in found} == {AnomalyStatus.RESOLVED}
    # and judging them again changes nothing, nor raises events again
    call_command("footfall_check_anomalies", "--from", "2026-04-27", "--until", "2026-05-16", "--store", "PAR01")
    assert "0 new anomalies" in capsys.readouterr().out
    assert figures(entrance) == found
    assert Event.objects.filter(type="footfall.anomaly").count() == 2
    # and the live runs afterwards agree with it
    anomalies_detect(store=store, now=local_hour(dt.date(2026, 5, 17), 7))
    assert figures(entrance) == found


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--from", "2026-05-10"], "go together"),
        (["--from", "2026-05-10", "--until", "2026-05-01"], "after"),
        (["--store", "PAR01", "--store", "NOPE", "--from", "2026-05-01", "--until", "2026-05-02"], "NOPE"),
    ],
)
def test_a_bad_window_is_refused(store, entrance, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("footfall_check_anomalies", *arguments)
    assert not Anomaly.objects.exists()


def test_the_store_calendar_knows_its_region_and_its_own_days(db):
    # a Californian store: Cesar Chavez Day (31 March) is a state holiday, Labor Day a federal one
    california = LocationFactory.create(code="SFO01", country="US", subdivision="CA", time_zone="America/Los_Angeles")
    new_york = LocationFactory.create(code="NYC01", country="US", subdivision="NY", time_zone="America/New_York")
    paris = LocationFactory.create(code="PAR09", country="FR", time_zone="Europe/Paris")
    StoreCalendarDay.objects.create(store=paris, day=dt.date(2026, 6, 3), kind=CalendarDayKind.CLOSED, label="Works")
    span = (dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 12, 31, tzinfo=dt.UTC))
    cal, nyc, par = (store_calendar(s, *span) for s in (california, new_york, paris))
    assert [c.is_holiday(dt.date(2026, 3, 31)) for c in (cal, nyc, par)] == [True, False, False]
    assert [c.is_holiday(dt.date(2026, 9, 7)) for c in (cal, nyc, par)] == [True, True, False]
    assert [c.is_holiday(dt.date(2026, 7, 14)) for c in (cal, nyc, par)] == [False, False, True]
    assert par.is_closed_day(dt.date(2026, 6, 3))
    assert not par.is_ordinary(dt.date(2026, 6, 3))
    assert par.open_state(dt.datetime(2026, 6, 3, 12, tzinfo=par.tz)) == "closed"


def test_history_before_the_sensor_started_counting_is_not_missing_data(store, entrance):
    # given a sensor set up today with back-filled counts from 16 March only (clean, eight weeks)
    store_rows(entrance, synthetic.clean_series(FIRST_DAY, 56))
    # when its past is judged from a fortnight before its first count
    call_command("footfall_check_anomalies", "--store", store.code, "--from", "2026-03-02", "--until", "2026-05-10")
    # then the days before 16 March are not reported as missing data (nothing was installed yet)
    before = Anomaly.objects.filter(sensor=entrance, period_start__lt=local_hour(FIRST_DAY, 0))
    assert list(before.values_list("kind", "period_start")) == []
    # and a sensor set up a week ago that never sent anything is missing data since then
    silent = Sensor.objects.create(store=store, code="PAR01-E9", name="Side door", kind=entrance.kind)
    Sensor.objects.filter(pk=silent.pk).update(created_at=local_hour(dt.date(2026, 5, 4), 0))
    call_command("footfall_check_anomalies", "--store", store.code, "--from", "2026-04-27", "--until", "2026-05-10")
    missing = Anomaly.objects.filter(sensor=silent, kind=AnomalyKind.MISSING_DATA).order_by("period_start")
    first = missing.first()
    assert first is not None
    assert first.period_start >= local_hour(dt.date(2026, 5, 4), 0)
