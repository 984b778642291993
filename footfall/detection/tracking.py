"""From verdicts to anomalies, without the database: the stored anomalies
of one sensor and kind (``Anomaly`` instances, saved or not) and a run's
verdicts in time order give the anomalies to open, extend and resolve. The
service (``footfall.services.anomalies``) saves what changed; the evaluation
keeps it in memory.

A run is a stretch of consecutive faulty verdicts of one kind (consecutive
open hours, or open days: the rules emit nothing for closed hours and days
they never judge, and a clean or unjudged verdict breaks the run).

- A run that holds the last period of the kind's open anomaly extends it
  with its periods after that anomaly's end only: an anomaly never absorbs
  periods older than its end.
- Any other run is a separate fault: a run overlapping a stored anomaly was
  already reported and is left alone; a new one of at least ``MIN_RUN``
  periods opens an anomaly, resolving the open one it follows, or is
  recorded already resolved when it lies before the open one.
- A clean verdict after an open anomaly's end resolves it; an unjudged one
  leaves it open."""

import datetime as dt
from dataclasses import dataclass, field

from footfall.detection.verdicts import DAY_KINDS, METHODS, MIN_RUN, WORST_OF, Verdict
from footfall.models import Anomaly, AnomalyStatus


@dataclass
class Changes:
    opened: list[Anomaly] = field(default_factory=list)  # new rows (some already resolved)
    changed: list[Anomaly] = field(default_factory=list)  # stored rows extended or resolved


def track(*, sensor_id: int, kind: str, verdicts: list[Verdict], stored: list[Anomaly]) -> Changes:
    """Apply one kind's verdicts of one sensor to its stored anomalies
    (``stored``: that sensor and kind only). ``stored`` is updated in place
    with the opened anomalies, so calls over successive windows see them."""
    changes = Changes()
    items = sorted(verdicts, key=lambda v: v.start)
    current = next((a for a in stored if a.status == AnomalyStatus.OPEN), None)
    run: list[Verdict] = []
    closing: list[Verdict | None] = [*items, None]  # None closes the last run
    for verdict in closing:
        if verdict is not None and verdict.fault:
            run.append(verdict)
            continue
        if run:
            current = _close_run(sensor_id, kind, run, verdict, current, stored, changes)
            run = []
        clean = verdict is not None and verdict.fault is False
        if clean and current is not None and verdict is not None and verdict.start >= current.period_end:
            _resolve(current, verdict.start, changes)
            current = None
    return changes


def _close_run(
    sensor_id: int,
    kind: str,
    run: list[Verdict],
    after: Verdict | None,
    current: Anomaly | None,
    stored: list[Anomaly],
    changes: Changes,
) -> Anomaly | None:
    """Deal with a finished run; returns the kind's open anomaly afterwards."""
    if current is not None and any(v.end == current.period_end for v in run):
        for verdict in run:
            if verdict.start >= current.period_end:
                _accumulate(current, verdict)
                _mark(current, changes)
        return current
    if any(a.period_start < run[-1].end and run[0].start < a.period_end for a in stored):
        return current  # already reported
    if len(run) < MIN_RUN.get(kind, 1):
        return current
    anomaly = _new(sensor_id, kind, run)
    stored.append(anomaly)
    changes.opened.append(anomaly)
    if current is not None and run[0].start >= current.period_end:
        _resolve(current, current.period_end, changes)  # a break separates them: a new fault
        current = None
    if current is not None or (after is not None and after.fault is False):
        # before the open anomaly, or over already: recorded resolved
        _resolve(anomaly, after.start if after is not None else run[-1].end, changes, stored=False)
        return current
    return anomaly


def _new(sensor_id: int, kind: str, run: list[Verdict]) -> Anomaly:
    first = run[0]
    anomaly = Anomaly(
        sensor_id=sensor_id,
        kind=kind,
        status=AnomalyStatus.OPEN,
        period_start=first.start,
        period_end=first.end,
        metric=first.metric,
        actual=first.actual,
        expected=first.expected,
        expected_low=first.low,
        expected_high=first.high,
        method=METHODS[kind],
        details=_first_details(kind, first),
    )
    for verdict in run[1:]:
        _accumulate(anomaly, verdict)
    return anomaly


def _first_details(kind: str, verdict: Verdict) -> dict[str, object]:
    details: dict[str, object] = {"periods": 1, "first": verdict.detail}
    details["days" if kind in DAY_KINDS else "hours"] = 1
    day = verdict.detail.get("day") or str(verdict.detail.get("hour", ""))[:10]
    if day:
        details["day"] = day
    if "baseline_weeks" in verdict.detail:
        details["baseline_weeks"] = verdict.detail["baseline_weeks"]
    _share(details, verdict.actual, verdict.expected)
    if "usual_day" in verdict.detail:
        details["usual_day"] = verdict.detail["usual_day"]
    return details


def _share(details: dict[str, object], actual: float, expected: float | None) -> None:
    if expected:
        details["share_of_usual"] = round(actual / expected, 3)


def _accumulate(anomaly: Anomaly, verdict: Verdict) -> None:
    details = anomaly.details
    anomaly.period_end = max(anomaly.period_end, verdict.end)
    details["periods"] = details.get("periods", 1) + 1
    unit = "days" if anomaly.kind in DAY_KINDS else "hours"
    details[unit] = details.get(unit, 1) + 1
    if "baseline_weeks" in verdict.detail:
        details["baseline_weeks"] = min(details.get("baseline_weeks", 99), verdict.detail["baseline_weeks"])
    if anomaly.kind in WORST_OF:
        anomaly.actual = min(anomaly.actual, verdict.actual)
        return
    anomaly.actual += verdict.actual
    anomaly.expected = _add(anomaly.expected, verdict.expected)
    anomaly.expected_low = _add(anomaly.expected_low, verdict.low)
    anomaly.expected_high = _add(anomaly.expected_high, verdict.high)
    if "usual_day" in details and "usual_day" in verdict.detail:
        details["usual_day"] = details["usual_day"] + verdict.detail["usual_day"]
    _share(details, anomaly.actual, anomaly.expected)


def _add(total: float | None, value: float | None) -> float | None:
    return None if total is None or value is None else total + value


def _mark(anomaly: Anomaly, changes: Changes) -> None:
    if anomaly.pk is not None and anomaly not in changes.changed:
        changes.changed.append(anomaly)


def _resolve(anomaly: Anomaly, at: dt.datetime, changes: Changes, stored: bool = True) -> None:
    anomaly.status = AnomalyStatus.RESOLVED
    anomaly.resolved_at = at
    if stored:
        _mark(anomaly, changes)
