"""The anomaly notifier's judgement, as pure functions over hourly figures
(no database here: ``footfall.services.anomalies`` loads and saves, and
``footfall.evaluation`` runs the same code in memory).

Layers, each saying what it saw (methods: footfall reference, section B.6):

- hours (``hours``): missing data, zero counts and drops in open hours,
  counts while closed, spikes, and a stuck counter (the same non-zero
  figures repeated hour after hour);
- days (``days``): a day's volume against the same weekday of previous
  weeks (``low_day_volume``: a partly masked camera or a moved counting line
  loses a share of every hour, which no single hour shows in a small store),
  a level that moved and stays for days (``level_shift``), exits far above
  entries, entries and exits swapped;
- tracking (``tracking``): consecutive faulty periods of one kind become
  one anomaly, opened, extended forwards only, and resolved.

Baselines (``baseline``): the same weekday (and hour) over previous weeks,
the newest six usable ones within ten: public holidays of the store's
country and region, the store's own closed, event and holiday days, hours
without data and periods already judged faulty (the sensor's anomalies of
every kind, open or resolved; the judged period itself is never in its own
baseline, which looks a week back or more) are left out. Closed days are never judged; event days are judged only for
dead or missing data, never as spikes, drops or low days; holidays are not
judged against ordinary days.

``Anomaly.details`` keys, per kind (all figures are people unless said):

- every kind: ``periods`` (hours or days judged faulty), ``first`` (the
  first period's own figures);
- hour kinds (``missing_data``, ``zero_counts``, ``closed_hours_counts``,
  ``spike``, ``drop``, ``stuck_counter``): ``hours`` (how many hours),
  ``day`` (store-local date of the first hour, YYYY-MM-DD); with a baseline
  (``zero_counts``, ``spike``, ``drop``, ``closed_hours_counts``):
  ``baseline_weeks`` (the fewest usable weeks behind any of its hours) and
  ``share_of_usual`` (actual / expected); ``first`` holds ``hour`` (local
  start), ``median``, ``spread``, ``z``; for ``stuck_counter`` it holds the
  repeated ``in`` and ``out`` and the ``run`` length, ``actual`` is the
  number of repeated hours;
- day kinds (``low_day_volume``, ``level_shift``, ``reversed_direction``,
  ``exits_exceed_entries``): ``days`` (how many days), ``day`` (the first
  day); for ``low_day_volume`` and ``level_shift`` also ``usual_day`` (the
  usual traffic of those weekdays, added up over the days), ``share_of_usual``
  (the days' traffic / ``usual_day``) and ``baseline_weeks``; ``first``
  holds the first day's ``hours`` (open hours counted), ``z``, and for a
  level shift its ``direction`` (down or up), ``window_days`` and
  ``window_z`` (the days judged together and their combined z-score).

``actual`` / ``expected`` add up over the periods of an anomaly (the day's
or the hours' traffic against the usual), except ``reversed_direction``,
whose ``actual`` is the worst day's score."""

import datetime as dt
from typing import Any

from footfall.detection.baseline import (
    BASELINE_LOOKBACK_WEEKS,
    BASELINE_WEEKS,
    Exclusions,
    HourStat,
    SensorSeries,
    StoreCalendar,
)
from footfall.detection.days import judge_days
from footfall.detection.hours import judge_hours
from footfall.detection.tracking import Changes, track
from footfall.detection.verdicts import DAY_KINDS, METHODS, MIN_RUN, Verdict
from footfall.models import Anomaly, AnomalyStatus
from inventory import local_time

__all__ = [
    "BASELINE_LOOKBACK_WEEKS",
    "BASELINE_WEEKS",
    "DAY_KINDS",
    "METHODS",
    "MIN_RUN",
    "Changes",
    "HourStat",
    "SensorSeries",
    "StoreCalendar",
    "Verdict",
    "catch_up",
    "judge_sensor",
    "past_chunks",
    "window_periods",
]

# An open anomaly whose last period is older than the window (a long
# closure, a pause of the runs) widens the window back to it, so a fault
# that goes on extends it, but never by more than this.
MAX_CATCH_UP = dt.timedelta(days=7)
# A past window is judged a week at a time: every baseline looks a week back
# or more, so what one week finds is left out of the next weeks' baselines.
PAST_CHUNK_DAYS = 7

# Days before the judged hours whose day rules are judged again: a level
# shift is known only on its fifth open day, and then dates from its first.
DAY_CONTEXT = dt.timedelta(days=7)


def window_periods(
    tz: Any, start: dt.datetime, end: dt.datetime, not_before: dt.datetime | None = None
) -> tuple[list[local_time.Bucket], list[local_time.Bucket]]:
    """The local hours within ``[start, end)`` and the local days that
    ended within ``(start - DAY_CONTEXT, end]``, none before ``not_before``."""
    earliest = start - DAY_CONTEXT
    first, last = local_time.local_date(earliest, tz) - dt.timedelta(days=1), local_time.local_date(end, tz)
    hours = [b for b in local_time.hour_buckets(first, last, tz) if b.start >= start and b.end <= end]
    days = [
        b
        for b in local_time.calendar_buckets(first, last, "day", tz)
        if earliest < b.end <= end and (not_before is None or b.start >= not_before)
    ]
    return hours, days


def catch_up(
    start: dt.datetime, end: dt.datetime, stored: list[Anomaly], not_before: dt.datetime | None = None
) -> dt.datetime:
    """Widen a window starting at ``start`` back to the day before the end
    of any open anomaly (so a fault going on is seen as consecutive), within
    ``MAX_CATCH_UP`` and not before ``not_before``."""
    ends = [a.period_end for a in stored if a.status == AnomalyStatus.OPEN]
    if not ends:
        return start
    earliest = max(min(ends) - dt.timedelta(days=1), end - MAX_CATCH_UP)
    if not_before is not None:
        earliest = max(earliest, not_before)
    return min(start, earliest)


def past_chunks(first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date]]:
    """``first`` .. ``last`` in chunks of ``PAST_CHUNK_DAYS`` days."""
    out = []
    while first <= last:
        chunk_last = min(first + dt.timedelta(days=PAST_CHUNK_DAYS - 1), last)
        out.append((first, chunk_last))
        first = chunk_last + dt.timedelta(days=1)
    return out


def judge_sensor(
    *,
    series: SensorSeries,
    calendar: StoreCalendar,
    stored: list[Anomaly],
    hours: list[local_time.Bucket],
    days: list[local_time.Bucket],
) -> Changes:
    """Judge one sensor's hours and days and apply the verdicts to its
    ``stored`` anomalies (updated in place with the new ones)."""
    if series.judged_from is not None:
        # The hour in which the sensor started is judged; the day it started
        # is not (a partial day is not a low day).
        hours = [h for h in hours if h.end > series.judged_from]
        days = [d for d in days if d.start >= series.judged_from]
    exclusions = Exclusions((a.period_start, a.period_end) for a in stored)
    verdicts = judge_hours(series, calendar, exclusions, hours)
    for kind, items in judge_days(series, calendar, exclusions, days).items():
        verdicts.setdefault(kind, []).extend(items)
    changes = Changes()
    for kind, items in sorted(verdicts.items()):
        of_kind = [a for a in stored if a.kind == kind]
        found = track(sensor_id=series.sensor_id, kind=kind, verdicts=items, stored=of_kind)
        stored.extend(found.opened)
        changes.opened += found.opened
        changes.changed += [a for a in found.changed if a not in changes.changed]
    return changes
