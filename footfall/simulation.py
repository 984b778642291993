"""A realistic synthetic store, for the demo data and the notifier's tests:
hourly entries with a daily profile and a weekday pattern, week-to-week and
day-to-day variation and Poisson noise; exits follow entries after a dwell
time of about half an hour; staff arrive before opening and leave after
closing; public holidays are quiet, 1 May shut; till tickets convert a
share of visitors with a noisy basket. Faults can be injected on chosen
days; each returns its period, the ground truth a notifier is scored against.

Deterministic: the same seed gives the same series."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from footfall.holidays import is_public_holiday
from inventory.local_time import local_to_utc, zone

PARIS = zone("Europe/Paris")
# Share of the day's shoppers arriving in each opening hour, 09:00 .. 19:00.
HOURLY_PROFILE = [0.05, 0.07, 0.09, 0.11, 0.10, 0.08, 0.08, 0.09, 0.11, 0.12, 0.10]
WEEKDAY_LEVEL = {0: 0.85, 1: 0.8, 2: 0.95, 3: 0.9, 4: 1.1, 5: 1.45}  # Monday .. Saturday; closed on Sunday
STAY_INTO_NEXT_HOUR = 0.5  # about half an hour of dwell time


@dataclass(frozen=True)
class StoreProfile:
    daily_visitors: int = 900
    opens: int = 9  # local hour; the profile covers opens .. opens + 10
    day_to_day: float = 0.06  # standard deviation of a day's level
    week_to_week: float = 0.05
    conversion: float = 0.28
    basket_eur: float = 24.0
    tz: Any = field(default=PARIS)
    country: str = "FR"


@dataclass(frozen=True)
class Fault:
    kind: str
    start: dt.datetime
    end: dt.datetime


@dataclass
class HourRow:
    start: dt.datetime  # UTC
    in_count: int
    out_count: int
    tickets: int = 0
    revenue: Decimal = Decimal("0.00")


def local_hour(day: dt.date, hour: int, tz: Any = PARIS) -> dt.datetime:
    return local_to_utc(dt.datetime.combine(day, dt.time(hour)), tz)[0]


def _day_level(day: dt.date, profile: StoreProfile) -> float:
    if day.weekday() == 6:
        return 0.0
    if day.month == 5 and day.day == 1:
        return 0.0  # Labour Day: shut, whatever the opening hours say
    if is_public_holiday(profile.country, day):
        return 0.35 * WEEKDAY_LEVEL[day.weekday()]
    return WEEKDAY_LEVEL[day.weekday()]


def clean_series(
    first: dt.date, days: int, seed: int = 20260316, profile: StoreProfile | None = None
) -> dict[dt.datetime, HourRow]:
    """Hourly rows (UTC start -> row) of ``days`` local days from ``first``."""
    profile = profile or StoreProfile()
    rng = np.random.default_rng(seed)
    rows: dict[dt.datetime, HourRow] = {}
    week_level = 1.0
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        if offset == 0 or day.weekday() == 0:
            week_level = rng.normal(1.0, profile.week_to_week)
        level = _day_level(day, profile) * week_level * rng.normal(1.0, profile.day_to_day)
        _one_day(rows, day, level, profile, rng)
    return rows


def _one_day(
    rows: dict[dt.datetime, HourRow], day: dt.date, level: float, profile: StoreProfile, rng: np.random.Generator
) -> None:
    carry = 0
    closes = profile.opens + len(HOURLY_PROFILE)
    for hour in range(24):
        start = local_hour(day, hour, profile.tz)
        arrivals = 0
        if profile.opens <= hour < closes and level > 0:
            arrivals = int(rng.poisson(profile.daily_visitors * level * HOURLY_PROFILE[hour - profile.opens]))
        staying = int(rng.binomial(arrivals, STAY_INTO_NEXT_HOUR))
        staff_in = 3 if hour == profile.opens - 1 and level > 0 else 0  # staff come before opening
        staff_out = 3 if hour == closes and level > 0 else 0  # and leave after the last shoppers
        tickets = int(rng.binomial(arrivals, profile.conversion))
        basket = max(rng.normal(profile.basket_eur, profile.basket_eur * 0.15), 1.0)
        revenue = Decimal(str(round(tickets * basket, 2)))
        rows[start] = HourRow(start, arrivals + staff_in, arrivals - staying + carry + staff_out, tickets, revenue)
        carry = staying


def quarter_hours(rows: dict[dt.datetime, HourRow], seed: int = 1) -> list[tuple[dt.datetime, int, int]]:
    """The hourly rows split into quarter-hours, as devices report them:
    (UTC start, in, out)."""
    rng = np.random.default_rng(seed)
    out = []
    for start in sorted(rows):
        row = rows[start]
        ins = rng.multinomial(row.in_count, [0.25] * 4)
        outs = rng.multinomial(row.out_count, [0.25] * 4)
        for quarter in range(4):
            out.append((start + dt.timedelta(minutes=15 * quarter), int(ins[quarter]), int(outs[quarter])))
    return out


# ------------------------------------------------------------------ faults


def inject_dead_day(rows: dict[dt.datetime, HourRow], day: dt.date, profile: StoreProfile | None = None) -> Fault:
    profile = profile or StoreProfile()
    for hour in range(24):
        row = rows[local_hour(day, hour, profile.tz)]
        row.in_count = row.out_count = 0
    closes = profile.opens + len(HOURLY_PROFILE)
    return Fault("zero_counts", local_hour(day, profile.opens, profile.tz), local_hour(day, closes, profile.tz))


def inject_reversed_day(rows: dict[dt.datetime, HourRow], day: dt.date, tz: Any = PARIS) -> Fault:
    for hour in range(24):
        row = rows[local_hour(day, hour, tz)]
        row.in_count, row.out_count = row.out_count, row.in_count
    return Fault("reversed_direction", local_hour(day, 0, tz), local_hour(day + dt.timedelta(days=1), 0, tz))


def inject_spike(rows: dict[dt.datetime, HourRow], day: dt.date, hour: int, factor: int = 4, tz: Any = PARIS) -> Fault:
    row = rows[local_hour(day, hour, tz)]
    extra = row.in_count * (factor - 1)
    row.in_count += extra
    row.out_count += extra
    return Fault("spike", row.start, row.start + dt.timedelta(hours=1))


def inject_gap(rows: dict[dt.datetime, HourRow], day: dt.date, hours: range, tz: Any = PARIS) -> Fault:
    for hour in hours:
        del rows[local_hour(day, hour, tz)]
    return Fault("missing_data", local_hour(day, hours.start, tz), local_hour(day, hours.stop, tz))


def inject_counts_while_closed(rows: dict[dt.datetime, HourRow], day: dt.date, hours: range, tz: Any = PARIS) -> Fault:
    for hour in hours:
        row = rows[local_hour(day, hour, tz)]
        row.in_count += 30
        row.out_count += 30
    return Fault("closed_hours_counts", local_hour(day, hours.start, tz), local_hour(day, hours.stop, tz))
