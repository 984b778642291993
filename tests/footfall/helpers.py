"""Small builders shared by the footfall tests."""

import datetime as dt
from typing import Any

from footfall.models import CountDay, CountInterval, Sensor

PARIS = dt.timezone(dt.timedelta(hours=1))


def interval(sensor: str, start: str, minutes: int = 15, *, in_: int, out: int, **extra: Any) -> dict[str, Any]:
    begin = dt.datetime.fromisoformat(start)
    return {
        "sensor": sensor,
        "start": begin.isoformat(),
        "end": (begin + dt.timedelta(minutes=minutes)).isoformat(),
        "in": in_,
        "out": out,
        **extra,
    }


def totals(sensor: Sensor) -> tuple[int, int, int]:
    """(intervals, sum of in, sum of out) stored for a sensor."""
    rows = list(CountInterval.objects.filter(sensor=sensor).values_list("in_count", "out_count"))
    return len(rows), sum(r[0] for r in rows), sum(r[1] for r in rows)


def day_totals(sensor: Sensor) -> dict[dt.date, tuple[int, int]]:
    return {d.day: (d.in_total, d.out_total) for d in CountDay.objects.filter(sensor=sensor)}
