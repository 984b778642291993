"""How well the notifier finds faults: inject each kind of fault
(``faults``) into a clean series at seeded random days, judge the series in
memory with the code the service runs (``footfall.detection``: the same
rules, the same tracking, a past window judged a week at a time as
``anomalies_judge_period`` does), and score.

- recall of a kind: share of its injected faults overlapped by an anomaly
  of that kind;
- precision of a kind: share of that kind's anomalies, in the runs where
  that kind was injected, that overlap an injected fault. The alarms the
  clean series raises by itself (at the same place, of the same kind) are
  left out of it and counted once, in clean alarms per week: otherwise they
  would count again in every run, and precision would measure how many
  faults a run injects rather than the notifier. ``strict`` precision,
  printed beside it, counts them in every run all the same;
- clean alarms per week: anomalies of any kind on the series without
  injected faults, per judged week (real events of the CalIt2 building
  count here: nothing tells them from faults).

Series: the simulator's store (``footfall.simulation``, Paris) and real
counts read from a file (the CalIt2 building's door, 30-minute counts; see
``read_calit2``), each judged after ``BASELINE_WEEKS`` weeks of history."""

import csv
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from footfall import detection, simulation
from footfall.detection import HourStat, SensorSeries, StoreCalendar
from footfall.evaluation.faults import INJECTORS, Fault, Rows, open_hours
from footfall.models import Anomaly, SensorKind
from inventory import local_time

SENSOR_ID = 1  # the in-memory series' sensor


@dataclass(frozen=True)
class Source:
    """A clean series and the store it belongs to."""

    name: str
    calendar: StoreCalendar
    rows: Rows
    first: dt.date  # first day with data
    last: dt.date  # last day with data

    @property
    def judged_from(self) -> dt.date:
        return self.first + dt.timedelta(weeks=detection.BASELINE_WEEKS)

    @property
    def judged_weeks(self) -> float:
        return ((self.last - self.judged_from).days + 1) / 7


def simulator_source(weeks: int = 12, seed: int = 20260316, daily_visitors: int = 900) -> Source:
    """The simulator's Paris store (Monday to Saturday, 09:00-20:00)."""
    first = dt.date(2026, 3, 2)  # a Monday; the weeks run across the spring DST change and May's holidays
    profile = simulation.StoreProfile(daily_visitors=daily_visitors)
    rows = simulation.clean_series(first, weeks * 7, seed=seed, profile=profile)
    hours = {str(day): [["09:00", "20:00"]] for day in range(1, 7)}
    calendar = StoreCalendar(simulation.PARIS, hours, "FR")
    stats = {start: HourStat(r.in_count, r.out_count, 1.0) for start, r in rows.items()}
    return Source(f"simulator seed {seed}", calendar, stats, first, first + dt.timedelta(days=weeks * 7 - 1))


def read_calit2(
    path: Path, *, time_zone: str, opening_hours: dict[str, list[list[str]]], country: str, subdivision: str
) -> Source:
    """The CalIt2 layout: no header, ``flow_id,date,time,count`` with flow 9
    in and 7 out, MM/DD/YY, store-local 30-minute slots; summed per hour."""
    tz = local_time.zone(time_zone)
    counts: dict[dt.datetime, list[int]] = defaultdict(lambda: [0, 0])
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.reader(handle):
            if len(row) != 4 or row[0] not in ("7", "9"):
                continue
            day = dt.datetime.strptime(row[1], "%m/%d/%y").date()  # noqa: DTZ007  # a date
            hour = int(row[2].split(":")[0])
            start, wall = local_time.local_to_utc(dt.datetime.combine(day, dt.time(hour)), tz)
            if wall == local_time.WallClock.NONEXISTENT:
                continue
            counts[start][0 if row[0] == "9" else 1] += int(row[3])
    if not counts:
        raise ValueError(f"{path} holds no CalIt2 count")
    rows = {start: HourStat(v[0], v[1], 1.0) for start, v in counts.items()}
    days = sorted(local_time.local_date(start, tz) for start in rows)
    calendar = StoreCalendar(tz, opening_hours, country, subdivision)
    return Source(f"{path.name} ({time_zone})", calendar, rows, days[0], days[-1])


# ------------------------------------------------------------------ judging


def judge_in_memory(source: Source, rows: Rows) -> list[Anomaly]:
    """Every anomaly found over the judged weeks, as ``anomalies_judge_period``
    would store them (unsaved instances)."""
    series = SensorSeries(SENSOR_ID, SensorKind.ENTRANCE, rows)
    tz = source.calendar.tz
    floor = local_time.day_start(source.judged_from, tz)
    stored: list[Anomaly] = []
    for chunk_first, chunk_last in detection.past_chunks(source.judged_from, source.last):
        start, end = local_time.days_span(chunk_first, chunk_last, tz)
        start = detection.catch_up(start, end, stored, floor)
        hours, days = detection.window_periods(tz, start, end, floor)
        detection.judge_sensor(series=series, calendar=source.calendar, stored=stored, hours=hours, days=days)
    return stored


# ------------------------------------------------------------------ scoring


@dataclass
class KindScore:
    faults: int = 0
    found: int = 0
    alarms: int = 0
    true_alarms: int = 0
    clean_repeats: int = 0  # alarms the clean series raises too

    @property
    def recall(self) -> float:
        return self.found / self.faults if self.faults else 0.0

    @property
    def precision(self) -> float:
        judged = self.alarms - self.clean_repeats
        return self.true_alarms / judged if judged else 0.0

    @property
    def strict_precision(self) -> float:
        return self.true_alarms / self.alarms if self.alarms else 0.0


@dataclass
class Report:
    source: str
    scores: dict[str, KindScore] = field(default_factory=dict)
    clean_alarms: list[Anomaly] = field(default_factory=list)
    clean_weeks: float = 0.0
    missed: list[Fault] = field(default_factory=list)
    false_alarms: list[Anomaly] = field(default_factory=list)

    @property
    def clean_alarms_per_week(self) -> float:
        return len(self.clean_alarms) / self.clean_weeks if self.clean_weeks else 0.0

    def lines(self) -> list[str]:
        out = []
        for kind, score in sorted(self.scores.items()):
            out.append(f"RESULT recall_{kind}={score.recall:.2f} ratio ({score.found}/{score.faults} faults)")
            out.append(
                f"RESULT precision_{kind}={score.precision:.2f} ratio ({score.true_alarms}/"
                f"{score.alarms - score.clean_repeats} alarms; strict {score.strict_precision:.2f} counting the "
                f"clean series' own {score.clean_repeats} again)"
            )
        out.append(
            f"RESULT clean_alarms_per_week={self.clean_alarms_per_week:.2f} "
            f"({len(self.clean_alarms)} alarms over {self.clean_weeks:.1f} weeks)"
        )
        return out


def _overlaps(anomaly: Anomaly, fault: Fault) -> bool:
    return anomaly.period_start < fault.end and fault.start < anomaly.period_end


def fault_days(source: Source, count: int, span_days: int, rng: np.random.Generator) -> list[dt.date]:
    """``count`` ordinary open days of the judged weeks, at least eight days
    apart (a fault then sits in none of the others' baseline week), each
    followed by ``span_days`` - 1 days of data."""
    calendar = source.calendar
    candidates = [
        source.judged_from + dt.timedelta(days=k)
        for k in range((source.last - source.judged_from).days - span_days + 1)
    ]
    candidates = [d for d in candidates if calendar.is_ordinary(d) and len(open_hours(calendar, d)) >= 6]
    chosen: list[dt.date] = []
    for day in rng.permutation(np.array(candidates, dtype=object)):
        if all(abs((day - other).days) >= max(8, span_days + 2) for other in chosen):
            chosen.append(day)
        if len(chosen) == count:
            break
    return sorted(chosen)


def evaluate(
    source: Source,
    *,
    kinds: Iterable[str] | None = None,
    runs: int = 2,
    faults_per_run: int = 3,
    seed: int = 1,
    progress: Callable[[], None] | None = None,
) -> Report:
    """Inject each kind's faults ``runs`` times at ``faults_per_run`` random
    days (seeded), judge, and score."""
    rng = np.random.default_rng(seed)
    report = Report(source.name)
    report.clean_alarms = judge_in_memory(source, dict(source.rows))
    report.clean_weeks = source.judged_weeks
    for kind in kinds or INJECTORS:
        injectors, span_days = INJECTORS[kind]
        score = report.scores.setdefault(kind, KindScore())
        for _ in range(runs):
            rows = dict(source.rows)
            days = fault_days(source, faults_per_run, span_days, rng)
            faults = [injectors[i % len(injectors)](rows, source.calendar, day, rng) for i, day in enumerate(days)]
            anomalies = judge_in_memory(source, rows)
            _score(report, score, kind, faults, anomalies, report.clean_alarms)
            if progress is not None:
                progress()
    return report


def _score(
    report: Report, score: KindScore, kind: str, faults: list[Fault], anomalies: list[Anomaly], clean: list[Anomaly]
) -> None:
    score.faults += len(faults)
    for fault in faults:
        if any(a.kind == kind and _overlaps(a, fault) for a in anomalies):
            score.found += 1
        else:
            report.missed.append(fault)
    for anomaly in (a for a in anomalies if a.kind == kind):
        score.alarms += 1
        if any(_overlaps(anomaly, fault) for fault in faults):
            score.true_alarms += 1
        elif any(
            c.kind == kind and c.period_start < anomaly.period_end and anomaly.period_start < c.period_end
            for c in clean
        ):
            score.clean_repeats += 1
        else:
            report.false_alarms.append(anomaly)
