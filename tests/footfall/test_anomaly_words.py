"""Anomalies in plain words: what each kind says, in French and English,
with store-local times (offsets on the days the clocks change), durations in
hours and minutes, and no statistics."""

import datetime as dt
from typing import Any

import pytest
from django.utils import translation

from footfall.models import Anomaly, Sensor, SensorKind
from footfall.services.anomaly_words import WORDS, anomaly_words
from footfall.services.report_locale import ReportLocale
from inventory.local_time import zone

PARIS = zone("Europe/Paris")


def paris(day: str, hour: int, minute: int = 0) -> dt.datetime:
    """A Paris wall-clock time as UTC (first occurrence)."""
    local = dt.datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=PARIS)
    return local.astimezone(dt.UTC)


def anomaly(kind: str, start: dt.datetime, end: dt.datetime, sensor_kind: str = SensorKind.ENTRANCE, **fields: Any):
    sensor = Sensor(code="PAR01-E1", name="Porte principale", kind=sensor_kind)
    values: dict[str, Any] = {"metric": "traffic", "actual": 0.0, "expected": None, "method": "", "details": {}}
    return Anomaly(sensor=sensor, kind=kind, period_start=start, period_end=end, **(values | fields))


def words(item: Anomaly, language: str = "en", country: str = "GB") -> str:
    """In English as a British reader writes numbers; in French as in France."""
    with translation.override(language):
        return anomaly_words(item, PARIS, ReportLocale.of(language, "FR" if language == "fr" else country)).sentence


def test_a_dead_door_in_plain_words_with_local_times():
    item = anomaly("zero_counts", paris("2026-03-03", 14), paris("2026-03-03", 17), expected=234.0)
    assert words(item) == (
        "Tue 3 Mar 14:00–17:00: the door counter counted nobody while the store was open (usually about 230 people)"
    )
    assert words(item, "fr") == (
        "mar. 3 mars 14:00–17:00\u00a0: le compteur de la porte n’a compté personne alors que le magasin était ouvert "
        "(habituellement environ 230 personnes)"
    )


def test_missing_data_is_said_in_hours_and_minutes_never_seconds():
    # three hours with 45 minutes of data received: 2 h 15 min missing
    item = anomaly(
        "missing_data",
        paris("2026-03-03", 10),
        paris("2026-03-03", 13),
        metric="covered_seconds",
        actual=2700.0,
        expected=10800.0,
    )
    assert words(item) == (
        "Tue 3 Mar 10:00–13:00: the door counter sent no data for 2\u00a0h\u00a015\u00a0min while the store was open"
    )
    assert "8100" not in words(item, "fr")
    assert "2\u00a0h\u00a015\u00a0min" in words(item, "fr")


def test_on_the_night_the_clocks_go_forward_times_carry_their_offsets():
    # Sunday 29 March 2026 in Paris: 02:00 CET becomes 03:00 CEST
    item = anomaly(
        "closed_hours_counts", paris("2026-03-29", 1), paris("2026-03-29", 4), metric="in", actual=95.0, expected=2.0
    )
    assert words(item).startswith("Sun 29 Mar 01:00 (UTC+01:00)–04:00 (UTC+02:00): the door counter counted 95")


def test_the_repeated_hour_of_autumn_is_told_apart_by_its_offset():
    # Sunday 25 October 2026: 02:00-03:00 happens twice; the second time is 01:00-02:00 UTC
    first = dt.datetime(2026, 10, 25, 0, tzinfo=dt.UTC)
    item = anomaly("spike", first, first + dt.timedelta(hours=1), actual=400.0, expected=120.0)
    assert words(item).startswith("Sun 25 Oct 02:00 (UTC+02:00)–02:00 (UTC+01:00): ")


def test_numbers_follow_the_store_country_words_the_reader_language():
    item = anomaly("spike", paris("2026-03-03", 14), paris("2026-03-03", 15), actual=2100.0, expected=236.0)
    assert "counted 2,100 people" in words(item)
    assert "counted 2\u202f100 people" in words(item, "en", country="FR")
    assert "a compté 2\u202f100 personnes" in words(item, "fr")


def test_a_whole_day_anomaly_names_the_day():
    item = anomaly(
        "exits_exceed_entries", paris("2026-03-03", 0), paris("2026-03-04", 0), metric="out", actual=980.0, expected=700
    )
    assert words(item) == "Tue 3 Mar: the door counter counted 980 people leaving but only 700 coming in over the day"


@pytest.mark.parametrize(
    ("kind", "fields", "english"),
    [
        ("spike", {"actual": 812.0, "expected": 236.0}, "counted 812 people, far more than usual (about 240)"),
        ("drop", {"actual": 41.0, "expected": 236.0}, "counted only 41 people, far fewer than usual (about 240)"),
        ("reversed_direction", {"metric": "profile_projection", "actual": -0.9}, "the wrong way round"),
        (
            "low_day_volume",
            {
                "actual": 212.0,
                "expected": 905.0,
                "details": {"day": "2026-03-03", "usual_day": 905, "share_of_usual": 0.234, "baseline_weeks": 6},
            },
            "counted only 212 people over the whole day, 23.4% of a usual Tuesday (about 900)",
        ),
        (
            "high_day_volume",
            {"actual": 2100.0, "expected": 905.0, "details": {"share_of_usual": 2.32}},
            "counted 2,100 people over the whole day, 232.0% of a usual Tuesday (about 900)",
        ),
        ("stuck_counter", {"details": {"hours": 5.5}}, "kept sending the same figure for 5\u00a0h\u00a030\u00a0min"),
        ("level_shift", {"details": {"share_of_usual": 0.62}}, "counted 62.0% of its usual level throughout"),
    ],
)
def test_every_kind_has_its_words(kind, fields, english):
    item = anomaly(kind, paris("2026-03-03", 0), paris("2026-03-04", 0), **fields)
    assert english in words(item)
    french = words(item, "fr")
    assert french.startswith("mar. 3 mars\u00a0: le compteur de la porte ")
    for statistics in ("median", "médiane", "MAD", "1.4826", "spread", "z ="):
        assert statistics not in words(item)
        assert statistics not in french


def test_the_notifier_kinds_all_have_words():
    assert {
        "missing_data",
        "zero_counts",
        "closed_hours_counts",
        "spike",
        "drop",
        "reversed_direction",
        "exits_exceed_entries",
        "low_day_volume",
        "high_day_volume",
        "stuck_counter",
        "level_shift",
    } <= set(WORDS)


def test_an_unknown_kind_or_unreadable_details_fall_back_to_a_label():
    strange = anomaly("door_left_open", paris("2026-03-03", 10), paris("2026-03-03", 11))
    assert words(strange) == "Tue 3 Mar 10:00–11:00: Door left open"
    broken = anomaly("low_day_volume", paris("2026-03-03", 0), paris("2026-03-04", 0), details={"day": "yesterday"})
    assert words(broken) == "Tue 3 Mar: A day far below the usual for that weekday"
