"""Device formats read into intervals: Xovis LOGICS pushes (per interval and
cumulative, with resets), Axis exports in store-local time across both DST
changes, and CSV. Payloads follow the field lists of the footfall reference
(section B.4)."""

import datetime as dt

import pytest

from footfall.models import CountInterval
from tests.footfall.helpers import day_totals, totals

UTC = dt.UTC
SERIAL = "00:6E:02:01:A2:3F"


def xovis_record(start: dt.datetime, fw: int, bw: int, *, minutes: int = 15, **extra) -> dict:
    return {
        "from": start.isoformat(),
        "to": (start + dt.timedelta(minutes=minutes)).isoformat(),
        "samples": 1,
        "samples_expected": 1,
        "counts": [{"id": 1000001, "name": "fw", "value": fw}, {"id": 1000002, "name": "bw", "value": bw}],
        **extra,
    }


def xovis_push(records: list[dict], *, package_id: int = 1842, serial: str = SERIAL, logic_id: int = 1000) -> dict:
    return {
        "logics_data": {
            "package_info": {"version": "5.0", "id": package_id, "agent_id": 1},
            "sensor_info": {
                "serial_number": serial,
                "type": "SINGLE_SENSOR",
                "name": "PC2S Bastille door",
                "time": "2026-03-14T10:15:02+01:00",
            },
            "logics": [{"id": logic_id, "name": "Entrance", "records": records}],
        }
    }


START = dt.datetime(2026, 3, 14, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
XOVIS = "/api/v1/footfall/counts/xovis"


def test_a_xovis_push_is_read_by_serial_number_and_logic(device_api, entrance):
    # given a push of four quarter-hours, as an array with a status envelope beside it
    records = [xovis_record(START + dt.timedelta(minutes=15 * i), 10 + i, 2 * i) for i in range(4)]
    push = [xovis_push(records), {"status_data": {"sensor_info": {"serial_number": SERIAL}, "illumination": "OK"}}]
    # when it arrives
    response = device_api.post(XOVIS, push, format="json")
    # then the intervals belong to the sensor with that serial and logic, fw as in and bw as out
    body = response.json()
    assert response.status_code == 200, body
    assert body["created"] == 4
    assert body["ignored_envelopes"] == ["status_data"]
    assert totals(entrance) == (4, 46, 12)
    first = CountInterval.objects.get(sensor=entrance, start=START)
    assert (first.samples, first.samples_expected) == (1, 1)


def test_xovis_counts_are_found_by_counter_id_and_times_may_be_unix_milliseconds(device_api, entrance):
    start_ms = int(START.timestamp() * 1000)
    record = {
        "from": start_ms,
        "to": start_ms + 15 * 60 * 1000,
        "counts": [{"id": 1000002, "value": 4}, {"id": 1000001, "value": 9}],
    }
    response = device_api.post(XOVIS, xovis_push([record]), format="json")
    assert response.json()["created"] == 1
    stored = CountInterval.objects.get(sensor=entrance)
    assert (stored.start, stored.in_count, stored.out_count) == (START, 9, 4)


def test_a_xovis_record_without_counts_is_rejected_alone(device_api, entrance):
    records = [xovis_record(START, 5, 1), {"from": START.isoformat(), "to": START.isoformat(), "counts": []}]
    body = device_api.post(XOVIS, xovis_push(records), format="json").json()
    assert [r["status"] for r in body["results"]] == ["created", "rejected"]
    assert {e["field"] for e in body["results"][1]["errors"]} == {"in", "out"}
    assert body["results"][1]["locator"] == "/logics_data/logics/0/records/1"


def test_a_xovis_box_of_another_store_is_not_written(device_api, entrance, other_entrance):
    other_entrance.device_serial, other_entrance.channel = "00:6E:02:99:99:99", "1000"
    other_entrance.save(update_fields=["device_serial", "channel"])
    body = device_api.post(XOVIS, xovis_push([xovis_record(START, 5, 1)], serial="00:6E:02:99:99:99"), format="json")
    assert body.json()["results"][0]["errors"][0]["code"] == "unknown_sensor"
    assert not CountInterval.objects.exists()


def test_cumulative_counters_become_deltas_with_reset_detection(device_api, entrance):
    # given a box that pushes running totals: 100, 130, 175, then a reboot (reset) to 12, then 40
    readings = [(100, 80), (130, 95), (175, 120), (12, 5), (40, 21)]
    records = [xovis_record(START + dt.timedelta(minutes=15 * i), a, b) for i, (a, b) in enumerate(readings)]
    # when they arrive in two pushes, the second first (late delivery of the first)
    late = device_api.post(XOVIS + "?counting=cumulative", xovis_push(records[2:]), format="json").json()
    early = device_api.post(XOVIS + "?counting=cumulative", xovis_push(records[:2]), format="json").json()
    # then every interval holds what was counted in it, the reset counted from zero, never negative
    stored = list(CountInterval.objects.filter(sensor=entrance).order_by("start").values_list("in_count", "out_count"))
    assert stored == [(0, 0), (30, 15), (45, 25), (12, 5), (28, 16)]
    assert [r["status"] for r in early["results"]] == ["baseline", "created"]
    assert late["results"][1]["warnings"][0]["code"] == "counter_reset"
    # and the first reading, with nothing before it, is a reference with completeness 0
    reference = CountInterval.objects.get(sensor=entrance, start=START)
    assert (reference.samples, reference.samples_expected, reference.in_cumulative) == (0, 1, 100)
    assert day_totals(entrance) == {dt.date(2026, 3, 14): (115, 61)}


def test_cumulative_pushes_sent_twice_give_the_same_totals(device_api, entrance):
    readings = [(100, 80), (130, 95), (175, 120)]
    push = xovis_push([xovis_record(START + dt.timedelta(minutes=15 * i), a, b) for i, (a, b) in enumerate(readings)])
    device_api.post(XOVIS + "?counting=cumulative", push, format="json")
    again = device_api.post(XOVIS + "?counting=cumulative", push, format="json").json()
    assert [r["status"] for r in again["results"]] == ["baseline", "unchanged", "unchanged"]
    assert totals(entrance) == (3, 75, 40)


AXIS = "/api/v1/footfall/counts/axis?sensor=PAR01-E1"


def test_an_axis_export_across_the_fall_back_night_keeps_both_repeated_hours(device_api, entrance):
    # given an hourly export of the night of 2026-10-25 in Paris: 02:00 local happens twice
    rows = [
        {"start": "2026-10-25 00:00:00", "end": "2026-10-25 01:00:00", "in": 1, "out": 0},
        {"start": "2026-10-25 01:00:00", "end": "2026-10-25 02:00:00", "in": 2, "out": 0},
        {"start": "2026-10-25 02:00:00", "end": "2026-10-25 03:00:00", "in": 3, "out": 0},
        {"start": "2026-10-25 02:00:00", "end": "2026-10-25 03:00:00", "in": 4, "out": 0},
        {"start": "2026-10-25 03:00:00", "end": "2026-10-25 04:00:00", "in": 5, "out": 0},
    ]
    # when it is sent
    body = device_api.post(AXIS, {"data": rows}, format="json").json()
    # then five consecutive UTC hours are stored: the first 02:00 is summer time, the second winter time
    assert body["created"] == 5, body
    stored = list(
        CountInterval.objects.filter(sensor=entrance).order_by("start").values_list("start", "end", "in_count")
    )
    assert stored == [
        (dt.datetime(2026, 10, 24, 22, tzinfo=UTC), dt.datetime(2026, 10, 24, 23, tzinfo=UTC), 1),
        (dt.datetime(2026, 10, 24, 23, tzinfo=UTC), dt.datetime(2026, 10, 25, 0, tzinfo=UTC), 2),
        (dt.datetime(2026, 10, 25, 0, tzinfo=UTC), dt.datetime(2026, 10, 25, 1, tzinfo=UTC), 3),
        (dt.datetime(2026, 10, 25, 1, tzinfo=UTC), dt.datetime(2026, 10, 25, 2, tzinfo=UTC), 4),
        (dt.datetime(2026, 10, 25, 2, tzinfo=UTC), dt.datetime(2026, 10, 25, 3, tzinfo=UTC), 5),
    ]


def test_a_lone_row_in_the_repeated_hour_is_read_as_the_first_and_flagged(device_api, entrance):
    row = {"start": "2026-10-25 02:15:00", "end": "2026-10-25 02:30:00", "in": 3, "out": 1}
    body = device_api.post(AXIS, {"data": [row]}, format="json").json()
    assert body["results"][0]["warnings"][0]["code"] == "ambiguous_local_time"
    assert CountInterval.objects.get(sensor=entrance).start == dt.datetime(2026, 10, 25, 0, 15, tzinfo=UTC)


def test_an_axis_export_across_the_spring_forward_night(device_api, entrance):
    # given quarter-hours around 2026-03-29 02:00 in Paris, when clocks jump to 03:00
    rows = [
        {"start": "2026-03-29 01:45:00", "end": "2026-03-29 02:00:00", "in": 1, "out": 0},
        {"start": "2026-03-29 02:00:00", "end": "2026-03-29 02:15:00", "in": 9, "out": 0},
        {"start": "2026-03-29 03:00:00", "end": "2026-03-29 03:15:00", "in": 2, "out": 0},
    ]
    body = device_api.post(AXIS, {"data": rows}, format="json").json()
    # then the skipped local time is refused, and the hours on both sides are back to back in UTC
    assert [r["status"] for r in body["results"]] == ["created", "rejected", "created"]
    assert body["results"][1]["errors"][0]["code"] == "nonexistent_local_time"
    starts = list(CountInterval.objects.filter(sensor=entrance).order_by("start").values_list("start", "end"))
    assert starts == [
        (dt.datetime(2026, 3, 29, 0, 45, tzinfo=UTC), dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
        (dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC), dt.datetime(2026, 3, 29, 1, 15, tzinfo=UTC)),
    ]


def test_an_inclusive_end_is_made_half_open(device_api, entrance):
    row = {"start": "2026-03-14 10:00:00", "end": "2026-03-14 10:59:59", "in": 3, "out": 1}
    device_api.post(AXIS, {"data": [row]}, format="json")
    stored = CountInterval.objects.get(sensor=entrance)
    assert stored.end - stored.start == dt.timedelta(hours=1)


def test_axis_for_another_stores_sensor_is_404(device_api, entrance, other_entrance):
    response = device_api.post("/api/v1/footfall/counts/axis?sensor=LYO01-E1", {"data": []}, format="json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_axis_needs_the_sensor_parameter(device_api, entrance):
    response = device_api.post("/api/v1/footfall/counts/axis", {"data": []}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "sensor"


CSV = "/api/v1/footfall/counts/csv"


def test_a_csv_with_a_sensor_column(operator_api, entrance, window):
    text = (
        "sensor,start,end,in,out,samples,samples_expected\n"
        "PAR01-E1,2026-03-14T10:00:00+01:00,2026-03-14T10:15:00+01:00,12,9,900,900\n"
        "PAR01-W1,2026-03-14T10:00:00+01:00,2026-03-14T10:15:00+01:00,140,133,,\n"
        "PAR01-E1,2026-03-14T10:15:00+01:00,2026-03-14T10:30:00+01:00,x,9,,\n"
        "\n"
    )
    body = operator_api.post(CSV, text, content_type="text/csv").json()
    assert [r["status"] for r in body["results"]] == ["created", "created", "rejected"]
    assert body["results"][2]["locator"] == "line 4"
    assert totals(window) == (1, 140, 133)


def test_the_axis_csv_export_with_the_sensor_parameter_in_local_time(device_api, entrance):
    text = "start,end,in,out\n2026-03-14 10:00:00,2026-03-14 10:15:00,12,9\n"
    body = device_api.post(CSV + "?sensor=PAR01-E1", text, content_type="text/csv").json()
    assert body["created"] == 1
    assert CountInterval.objects.get(sensor=entrance).start == dt.datetime(2026, 3, 14, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("when,in,out\n1,2,3\n", "invalid_csv"),
        ("start,end,in,out\n2026-03-14 10:00:00,2026-03-14 10:15:00,1,1\n", "invalid_csv"),
    ],
)
def test_a_csv_without_the_needed_columns_is_a_400(device_api, entrance, text, code):
    response = device_api.post(CSV, text, content_type="text/csv")
    assert response.status_code == 400
    assert response.json()["code"] == code
