"""Running totals (devices that send cumulative counters) turned into
counts per interval, with reset detection."""

import datetime as dt
from collections import defaultdict

from django.utils.translation import gettext as _

from footfall.services.records import IntervalRow, RecordResult
from footfall.sql import counts as counts_sql
from gateway.sql import bulk_fetch


def cumulative_to_deltas(rows: list[IntervalRow], results: list[RecordResult]) -> list[IntervalRow]:
    """Running totals to counts per interval. Each reading is diffed with the
    reading before it (from the batch or already stored); a total lower than
    the one before means the counter was reset, so the interval counts from
    zero. The first reading ever of a sensor has nothing to diff with: it is
    stored as a reference with completeness 0 (counts unknown). A stored
    reading right after the batch is re-diffed too, for late batches."""
    by_sensor: dict[int, list[IntervalRow]] = defaultdict(list)
    for row in rows:
        row.in_cumulative, row.out_cumulative = row.in_count, row.out_count
        by_sensor[row.sensor.id].append(row)
    stored = _stored_readings(by_sensor)
    out = []
    for sensor_id, sensor_rows in by_sensor.items():
        chain: dict[dt.datetime, IntervalRow] = {r.start: r for r in stored.get(sensor_id, [])}
        chain.update({r.start: r for r in sensor_rows})
        out.extend(_diff_chain([chain[start] for start in sorted(chain)], results))
    return out


def _stored_readings(by_sensor: dict[int, list[IntervalRow]]) -> dict[int, list[IntervalRow]]:
    """Stored cumulative readings from the last one before each sensor's
    batch to the first one after it."""
    refs = {sensor_id: rows[0].sensor for sensor_id, rows in by_sensor.items()}
    ids = list(by_sensor)
    lows = [min(r.start for r in by_sensor[i]) for i in ids]
    highs = [max(r.start for r in by_sensor[i]) for i in ids]
    stored: dict[int, list[IntervalRow]] = defaultdict(list)
    for sensor_id, start, end, in_count, out_count, samples, expected, in_cum, out_cum in bulk_fetch(
        counts_sql.STORED_READINGS, [ids, lows, highs]
    ):
        row = IntervalRow(-1, refs[sensor_id], start, end, in_count, out_count, samples, expected, in_cum, out_cum)
        stored[sensor_id].append(row)
    return stored


def _diff_chain(chain: list[IntervalRow], results: list[RecordResult]) -> list[IntervalRow]:
    out = []
    previous: IntervalRow | None = None
    for row in chain:
        assert row.in_cumulative is not None
        assert row.out_cumulative is not None
        if previous is None:
            if row.index >= 0:
                row.in_count = row.out_count = 0
                row.samples, row.samples_expected = 0, 1
                results[row.index].status = "baseline"
                out.append(row)
            previous = row
            continue
        assert previous.in_cumulative is not None
        assert previous.out_cumulative is not None
        reset = row.in_cumulative < previous.in_cumulative or row.out_cumulative < previous.out_cumulative
        in_delta = (
            row.in_cumulative
            if row.in_cumulative < previous.in_cumulative
            else row.in_cumulative - previous.in_cumulative
        )
        out_delta = (
            row.out_cumulative
            if row.out_cumulative < previous.out_cumulative
            else row.out_cumulative - previous.out_cumulative
        )
        if row.index >= 0:
            if reset:
                results[row.index].warnings.append(
                    {
                        "field": "in",
                        "code": "counter_reset",
                        "message": _("The running total went down: counted from zero."),
                    }
                )
            row.in_count, row.out_count = in_delta, out_delta
            out.append(row)
        elif (row.in_count, row.out_count) != (in_delta, out_delta) or row.samples == 0:
            row.in_count, row.out_count = in_delta, out_delta
            if row.samples == 0:  # a stored reference reading that now has a reading before it
                row.samples = row.samples_expected = None
            out.append(row)
        previous = row
    return out
