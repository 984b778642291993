"""The notifier's layers, each against a finding of the trial on real door
counts: a day at 30 % is caught, faulty weeks stay out of baselines, small
counts raise no spike, holidays follow the store's country and region, runs
are consecutive open hours, closed and event days of the store's calendar
are respected. Judged in memory with the service's own detection code
(``footfall.evaluation.judge_in_memory``); the service's own behaviour
(stored anomalies, past windows) is in test_detection_service.py."""

import datetime as dt
from collections.abc import Callable, Mapping

import numpy as np
import pytest

from footfall import detection
from footfall.detection.baseline import Exclusions, HourStat, SensorSeries, StoreCalendar
from footfall.detection.hours import judge_hours
from footfall.evaluation import Source, evaluate, judge_in_memory, simulator_source
from footfall.evaluation import faults as inject
from footfall.models import Anomaly, AnomalyKind, CalendarDayKind, SensorKind
from inventory import local_time

PARIS = local_time.zone("Europe/Paris")
LOS_ANGELES = local_time.zone("America/Los_Angeles")
MONDAY_TO_SATURDAY = {str(day): [["09:00", "20:00"]] for day in range(1, 7)}
MONDAY_TO_FRIDAY = {str(day): [["08:00", "18:00"]] for day in range(1, 6)}


def steady(
    first: dt.date,
    weeks: int,
    usual: Callable[[dt.date, int], float],
    *,
    tz: object = PARIS,
    hours: dict[str, list[list[str]]] | None = None,
    country: str = "FR",
    subdivision: str = "",
    days: Mapping[dt.date, str] | None = None,
) -> Source:
    """A store whose hour ``h`` of ``day`` draws Poisson(usual(day, h)) people in, and as many out on average."""
    rng = np.random.default_rng(7)
    rows: dict[dt.datetime, HourStat] = {}
    for offset in range(weeks * 7):
        day = first + dt.timedelta(days=offset)
        for bucket in local_time.hour_buckets(day, day, tz):  # type: ignore[arg-type]
            mean = usual(day, bucket.start.astimezone(tz).hour)  # type: ignore[arg-type]
            rows[bucket.start] = HourStat(int(rng.poisson(mean)), int(rng.poisson(mean)), 1.0)
    calendar = StoreCalendar(tz, hours or MONDAY_TO_SATURDAY, country, subdivision, dict(days or {}))
    return Source("steady", calendar, rows, first, first + dt.timedelta(days=weeks * 7 - 1))


def open_hours_usual(level: float) -> Callable[[dt.date, int], float]:
    def usual(day: dt.date, hour: int) -> float:
        return level if day.weekday() < 6 and 9 <= hour < 20 else 0.0

    return usual


def on_day(anomalies: list[Anomaly], kind: str, day: dt.date, tz: object = PARIS) -> list[Anomaly]:
    start, end = local_time.days_span(day, day, tz)  # type: ignore[arg-type]
    return [a for a in anomalies if a.kind == kind and a.period_start < end and start < a.period_end]


def set_day(rows: dict[dt.datetime, HourStat], day: dt.date, tz: object, value: Callable[[HourStat], int]) -> None:
    for bucket in local_time.hour_buckets(day, day, tz):  # type: ignore[arg-type]
        stat = rows[bucket.start]
        rows[bucket.start] = HourStat(value(stat), value(stat), 1.0)


# ------------------------------------------------------------------ a day's volume


def test_a_small_stores_day_at_30_percent_is_a_low_day_volume():
    # given a small store (250 visitors a day: 10 to 30 an hour) and a Tuesday at 30 % of its traffic
    source = simulator_source(weeks=9, daily_visitors=250)
    rows = dict(source.rows)
    tuesday = dt.date(2026, 4, 21)
    inject.low_day(rows, source.calendar, tuesday, np.random.default_rng(1))
    # when the weeks are judged
    anomalies = judge_in_memory(source, rows)
    # then the day is one low_day_volume anomaly saying what it saw, in plain figures
    (low,) = on_day(anomalies, AnomalyKind.LOW_DAY_VOLUME, tuesday)
    assert low.details["day"] == "2026-04-21"
    assert low.details["share_of_usual"] < 0.45
    assert low.expected is not None
    assert low.details["usual_day"] == low.expected > 150
    assert low.actual < 0.45 * low.expected
    assert low.details["baseline_weeks"] == 6
    assert low.metric == "day_traffic"
    # and no hourly rule reports the same shortfall again
    assert on_day(anomalies, AnomalyKind.DROP, tuesday) == []
    # and nothing else fired over the judged weeks
    assert {a.kind for a in anomalies} == {AnomalyKind.LOW_DAY_VOLUME}


def test_a_level_that_moves_and_stays_is_one_level_shift_from_its_first_day():
    source = simulator_source(weeks=10)
    rows = dict(source.rows)
    fault = inject.level_shift(rows, source.calendar, dt.date(2026, 4, 20), np.random.default_rng(2))
    anomalies = judge_in_memory(source, rows)
    (shift,) = [a for a in anomalies if a.kind == AnomalyKind.LEVEL_SHIFT]
    assert shift.period_start == fault.start
    assert shift.details["first"]["direction"] in ("down", "up")
    assert shift.details["days"] >= 8


# ------------------------------------------------------------------ baselines


def test_weeks_already_judged_faulty_are_left_out_of_the_baseline():
    # given a store with 30 people an hour whose sensor was dead two Tuesdays in a row
    first = dt.date(2026, 1, 5)
    source = steady(first, 9, open_hours_usual(30))
    rows = dict(source.rows)
    dead = [dt.date(2026, 2, 17), dt.date(2026, 2, 24)]
    for day in dead:
        set_day(rows, day, PARIS, lambda _: 0)
    # and the next Tuesday at 30 % of its traffic
    judged = dt.date(2026, 3, 3)
    set_day(rows, judged, PARIS, lambda stat: round(stat.in_count * 0.3))
    # when the notifier judges those weeks in turn
    anomalies = judge_in_memory(source, rows)
    # then the dead Tuesdays were found
    assert [bool(on_day(anomalies, AnomalyKind.ZERO_COUNTS, day)) for day in dead] == [True, True]
    # and the third Tuesday is judged against six ordinary Tuesdays, not the dead ones
    (low,) = on_day(anomalies, AnomalyKind.LOW_DAY_VOLUME, judged)
    assert low.details["baseline_weeks"] == 6
    assert low.expected is not None
    assert low.expected > 300  # eleven hours of about 30
    # and hour by hour too: the median and spread at 15:00 leave the dead weeks out
    series = SensorSeries(1, SensorKind.ENTRANCE, rows)
    hour = local_time.local_to_utc(dt.datetime(2026, 3, 3, 15), PARIS)[0]
    bucket = [local_time.Bucket(hour, hour + dt.timedelta(hours=1))]
    kept = judge_hours(series, source.calendar, Exclusions((a.period_start, a.period_end) for a in anomalies), bucket)
    spike = kept[AnomalyKind.SPIKE][0]
    assert spike.detail["baseline_weeks"] == 6
    assert spike.expected is not None
    assert spike.expected >= 25
    kept_all = judge_hours(series, source.calendar, Exclusions([]), bucket)[AnomalyKind.SPIKE][0]
    assert kept_all.expected is not None
    assert kept_all.expected < spike.expected  # the dead weeks would have lowered the usual


# ------------------------------------------------------------------ small counts


@pytest.mark.parametrize(("people", "spike"), [(5, False), (19, False), (45, True)])
def test_a_spike_needs_twenty_more_people_than_usual(people: int, spike: bool):
    # given an open hour where nobody usually comes (15:00), in an otherwise busy store
    def usual(day: dt.date, hour: int) -> float:
        return 0.0 if hour == 15 else open_hours_usual(20)(day, hour)

    source = steady(dt.date(2026, 1, 5), 8, usual)
    rows = dict(source.rows)
    hour = local_time.local_to_utc(dt.datetime(2026, 2, 25, 15), PARIS)[0]
    rows[hour] = HourStat(people, people, 1.0)
    anomalies = judge_in_memory(source, rows)
    assert bool(on_day(anomalies, AnomalyKind.SPIKE, dt.date(2026, 2, 25))) is spike


def test_a_clean_small_store_raises_no_alarm():
    # a store with 2 to 6 people an hour: Poisson noise only
    source = steady(dt.date(2026, 1, 5), 12, open_hours_usual(4))
    assert judge_in_memory(source, dict(source.rows)) == []


# ------------------------------------------------------------------ holidays


def quiet_on(day: dt.date, usual: Callable[[dt.date, int], float]) -> Callable[[dt.date, int], float]:
    return lambda d, h: usual(d, h) * (0.05 if d == day else 1.0)


@pytest.mark.parametrize(("country", "subdivision", "judged"), [("US", "CA", False), ("FR", "", True)])
def test_labor_day_of_a_us_store_is_not_judged(country: str, subdivision: str, judged: bool):
    # given a Los Angeles store, quiet on Labor Day (Monday 7 September 2026)
    labor_day = dt.date(2026, 9, 7)

    def weekdays(day: dt.date, hour: int) -> float:
        return 25.0 if day.weekday() < 5 and 8 <= hour < 18 else 0.0

    source = steady(
        dt.date(2026, 7, 6),
        10,
        quiet_on(labor_day, weekdays),
        tz=LOS_ANGELES,
        hours=MONDAY_TO_FRIDAY,
        country=country,
        subdivision=subdivision,
    )
    anomalies = judge_in_memory(source, dict(source.rows))
    # then the US store has no alarm that day; the same series in a country without Labor Day has
    assert bool([a for a in anomalies if on_day([a], a.kind, labor_day, LOS_ANGELES)]) is judged


@pytest.mark.parametrize(("country", "judged"), [("FR", False), ("US", True)])
def test_14_july_of_a_french_store_is_not_judged(country: str, judged: bool):
    bastille_day = dt.date(2026, 7, 14)  # a Tuesday
    source = steady(dt.date(2026, 5, 25), 8, quiet_on(bastille_day, open_hours_usual(30)), country=country)
    anomalies = judge_in_memory(source, dict(source.rows))
    assert bool([a for a in anomalies if on_day([a], a.kind, bastille_day)]) is judged


# ------------------------------------------------------------------ runs


def test_two_hours_in_a_row_means_two_consecutive_open_hours():
    # given a store with 20 people an hour, but only 2 in its last two hours (18:00, 19:00)
    def usual(day: dt.date, hour: int) -> float:
        return open_hours_usual(2 if hour >= 18 else 20)(day, hour)

    source = steady(dt.date(2026, 1, 5), 8, usual)
    rows = dict(source.rows)
    # and a Monday whose 17:00 counted nobody, nor its quiet evening, then a dead Tuesday
    for hour in (17, 18, 19):
        start = local_time.local_to_utc(dt.datetime(2026, 2, 23, hour), PARIS)[0]
        rows[start] = HourStat(0, 0, 1.0)
    set_day(rows, dt.date(2026, 2, 24), PARIS, lambda _: 0)
    anomalies = judge_in_memory(source, rows)
    # then the alarm starts on Tuesday at opening: Monday 17:00 is one hour, cut off by hours that
    # cannot be judged (nobody is usual at 18:00 and 19:00)
    (dead,) = [a for a in anomalies if a.kind == AnomalyKind.ZERO_COUNTS]
    assert dead.period_start == local_time.local_to_utc(dt.datetime(2026, 2, 24, 9), PARIS)[0]
    assert dead.details["hours"] == 9  # 09:00 to 18:00; 18:00 and 19:00 are not judged
    assert dead.details["day"] == "2026-02-24"


# ------------------------------------------------------------------ the store's calendar


def test_a_closed_day_of_the_calendar_is_not_judged_as_zero_traffic():
    closed = dt.date(2026, 2, 25)
    cases: list[tuple[dict[dt.date, str], list[str]]] = [
        ({}, [AnomalyKind.ZERO_COUNTS]),
        ({closed: CalendarDayKind.CLOSED}, []),
    ]
    for days, expected in cases:
        source = steady(dt.date(2026, 1, 5), 8, open_hours_usual(20), days=days)
        rows = dict(source.rows)
        set_day(rows, closed, PARIS, lambda _: 0)
        assert sorted({a.kind for a in judge_in_memory(source, rows)}) == expected


def test_an_event_day_is_not_a_spike_and_stays_out_of_the_usual():
    # given a Saturday event that brought four times the people from 14:00 to 17:00
    event = dt.date(2026, 2, 21)
    cases: list[tuple[dict[dt.date, str], bool]] = [({}, True), ({event: CalendarDayKind.EVENT}, False)]
    for days, spiked in cases:
        source = steady(dt.date(2026, 1, 5), 9, open_hours_usual(20), days=days)
        rows = dict(source.rows)
        for hour in (14, 15, 16):
            start = local_time.local_to_utc(dt.datetime(2026, 2, 21, hour), PARIS)[0]
            rows[start] = HourStat(rows[start].in_count * 4, rows[start].out_count * 4, 1.0)
        anomalies = judge_in_memory(source, rows)
        assert bool(on_day(anomalies, AnomalyKind.SPIKE, event)) is spiked
    # and the next Saturday's usual at 15:00 leaves the event out
    series = SensorSeries(1, SensorKind.ENTRANCE, rows)
    next_saturday = local_time.local_to_utc(dt.datetime(2026, 2, 28, 15), PARIS)[0]
    bucket = [local_time.Bucket(next_saturday, next_saturday + dt.timedelta(hours=1))]
    verdict = judge_hours(series, source.calendar, Exclusions([]), bucket)[AnomalyKind.SPIKE][0]
    assert verdict.detail["baseline_weeks"] == 6
    assert verdict.expected is not None
    assert verdict.expected < 30


# ------------------------------------------------------------------ the measure


def test_the_evaluation_on_the_simulator_meets_the_aims():
    # every kind injected twice into ten weeks of the simulator's store, judged over the last four
    report = evaluate(simulator_source(weeks=10), runs=1, faults_per_run=2, seed=5)
    assert set(report.scores) == set(inject.INJECTORS)
    for kind, score in report.scores.items():
        assert score.recall >= 0.9, (kind, report.missed)
        assert score.precision >= 0.8, (kind, report.false_alarms)
    assert report.clean_alarms_per_week < 1


def test_window_periods_judge_days_back_to_a_level_shifts_first_day():
    end = local_time.local_to_utc(dt.datetime(2026, 3, 12), PARIS)[0]
    hours, days = detection.window_periods(PARIS, end - dt.timedelta(hours=48), end)
    assert len(hours) == 48
    assert (days[0].label, days[-1].label) == (dt.date(2026, 3, 3), dt.date(2026, 3, 11))
