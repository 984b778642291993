"""A rule's verdict on one period, and what each kind says of its method."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from footfall.models import AnomalyKind


@dataclass(frozen=True)
class Verdict:
    """``fault``: True (a fault), False (judged clean), None (the rule
    applies to this period but could not judge it: no data, too little
    history, or evidence still forming). A None breaks a run as a clean
    period does, but resolves nothing."""

    kind: str
    start: dt.datetime
    end: dt.datetime
    fault: bool | None
    metric: str = ""
    actual: float = 0.0
    expected: float | None = None
    low: float | None = None
    high: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)


# Consecutive faulty periods (open hours, or open days) before a first alarm.
MIN_RUN: dict[str, int] = {AnomalyKind.ZERO_COUNTS: 2, AnomalyKind.DROP: 2}
# Kinds whose periods are whole days (the others are hours).
DAY_KINDS: set[str] = {
    AnomalyKind.REVERSED_DIRECTION,
    AnomalyKind.EXITS_EXCEED_ENTRIES,
    AnomalyKind.LOW_DAY_VOLUME,
    AnomalyKind.LEVEL_SHIFT,
}
# How the figures of consecutive periods of one anomaly add up: the worst
# of them for a score, a sum for counts.
WORST_OF: set[str] = {AnomalyKind.REVERSED_DIRECTION}

METHODS: dict[str, str] = {
    AnomalyKind.MISSING_DATA: "completeness (received interval time x device samples ratio) below 0.5 "
    "in an hour the store is open",
    AnomalyKind.ZERO_COUNTS: "zero counts in open hours where the same weekday and hour of the previous "
    "6 ordinary weeks not judged faulty has a median of at least 5; two consecutive open hours",
    AnomalyKind.CLOSED_HOURS_COUNTS: "at least 20 entries in an hour the store is closed, and above the usual "
    "for that weekday and hour (median + 4 x spread)",
    AnomalyKind.SPIKE: "above median + 5 x spread and at least 20 people above the median of the same weekday "
    "and hour over the previous 6 ordinary weeks not judged faulty "
    "(spread = max(1.4826 x MAD, sqrt(median + (0.25 x median)^2)))",
    AnomalyKind.DROP: "consecutive open hours each under half the median of their weekday and hour over the "
    "previous 6 ordinary weeks not judged faulty, together beyond 4 spreads (sum of z / sqrt(hours); "
    "spread = max(1.4826 x MAD, sqrt(median + (0.1 x median)^2))) and at least 10 people short; "
    "a whole day under 60 % is left to low_day_volume",
    AnomalyKind.REVERSED_DIRECTION: "exits minus entries, hour by hour over the day, projected on the usual "
    "profile of that weekday (median of the previous ordinary weeks): about +1 normally, about -1 when "
    "entries and exits are swapped; flagged below -0.25",
    AnomalyKind.EXITS_EXCEED_ENTRIES: "exits above 1.2 x entries + 20 over the day",
    AnomalyKind.LOW_DAY_VOLUME: "the day's traffic over its open hours below 60 % of the median of the same "
    "weekday over the previous 6 ordinary weeks not judged faulty, below median - 3 x spread "
    "(spread = max(1.4826 x MAD, sqrt(median + (0.15 x median)^2))) and at least 50 people short; "
    "days with missing or dead hours are left to the hourly rules",
    AnomalyKind.STUCK_COUNTER: "the same entries and exits (at least 10 people) repeated over at least 4 "
    "consecutive open hours",
    AnomalyKind.LEVEL_SHIFT: "five consecutive open days whose median is below 80 % (or above 125 %) of the "
    "usual for their weekdays and whose z-scores together pass 4 (sum of z / sqrt(5)); the days from the "
    "first to the last one shifted on its own",
}
