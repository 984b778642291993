"""Management commands: the CSV import with a column mapping (the CalIt2
layout is rebuilt here: the project reads no file outside it), the notifier run
on demand, and the periodic task's fan-out."""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from footfall.models import Anomaly, CountDay, CountInterval, Sensor
from footfall.tasks import check_anomalies, check_store_anomalies
from gateway.celery import app


def calit2_like(path: Path) -> Path:
    """Two days of 30-minute counts in the CalIt2 layout: no header,
    flow_id (7 = out, 9 = in), MM/DD/YY date, time, count."""
    lines = []
    for day in ("07/25/05", "07/26/05"):  # a Monday and a Tuesday
        for slot in range(48):
            time = f"{slot // 2:02d}:{30 * (slot % 2):02d}:00"
            lines.append(f"7,{day},{time},{slot % 5}")
            lines.append(f"9,{day},{time},{slot % 7}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_calit2_layout_lands_in_one_sensor_shifted_by_whole_weeks(store, entrance, tmp_path):
    # given the file and a target end date (a Saturday)
    source = calit2_like(tmp_path / "calit2.csv")
    # when it is imported with the preset, to end on 2026-11-21
    call_command(
        "footfall_import_csv", str(source), "--sensor", "PAR01-E1", "--preset", "calit2", "--end-on", "2026-11-21"
    )
    # then 96 half-hours are stored, moved by whole weeks so Monday stays Monday
    rows = CountInterval.objects.filter(sensor=entrance).order_by("start")
    assert rows.count() == 96
    days = sorted(CountDay.objects.filter(sensor=entrance).values_list("day", flat=True))
    assert days == [dt.date(2026, 11, 16), dt.date(2026, 11, 17)]
    assert days[0].weekday() == 0
    # flow 9 is in, flow 7 is out, read in the store's zone
    first = rows.first()
    assert first is not None
    assert first.start == dt.datetime(2026, 11, 15, 23, 0, tzinfo=dt.UTC)  # 00:00 in Paris (UTC+1)
    assert first.end - first.start == dt.timedelta(minutes=30)
    assert sum(r.in_count for r in rows) == 2 * sum(s % 7 for s in range(48))
    assert sum(r.out_count for r in rows) == 2 * sum(s % 5 for s in range(48))


def test_importing_twice_changes_nothing(store, entrance, tmp_path, capsys):
    source = calit2_like(tmp_path / "calit2.csv")
    args = [str(source), "--sensor", "PAR01-E1", "--preset", "calit2", "--date-offset-days", "7665"]
    call_command("footfall_import_csv", *args)
    call_command("footfall_import_csv", *args)
    assert "unchanged 96" in capsys.readouterr().out
    assert CountInterval.objects.filter(sensor=entrance).count() == 96


def test_a_wide_file_with_a_header(store, entrance, tmp_path):
    source = tmp_path / "door.csv"
    source.write_text("timestamp;entries;exits\n2026-03-10 10:00:00;5;3\n".replace(";", ","))
    call_command(
        "footfall_import_csv",
        str(source),
        "--sensor",
        "PAR01-E1",
        "--start-column",
        "timestamp",
        "--in-column",
        "entries",
        "--out-column",
        "exits",
        "--interval-minutes",
        "60",
    )
    stored = CountInterval.objects.get(sensor=entrance)
    assert (stored.start, stored.in_count, stored.out_count) == (dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC), 5, 3)


WIDE = ["--sensor", "PAR01-E1", "--start-column", "timestamp", "--in-column", "in", "--out-column", "out"]


def test_the_import_prints_every_warning_and_rejection_then_a_summary(store, entrance, tmp_path, capsys):
    # given a file with a quarter-hour of the hour repeated when Paris clocks go back (a warning), one of the
    # hour skipped when they go forward (rejected) and one in 2099 (rejected), besides two plain ones
    source = tmp_path / "door.csv"
    source.write_text(
        "timestamp,in,out\n"
        "2026-03-10 10:00:00,5,3\n"
        "2026-03-29 02:15:00,1,1\n"
        "2026-10-25 02:30:00,4,2\n"
        "2099-01-01 10:00:00,1,1\n"
        "2026-11-20 18:00:00,8,6\n"
    )
    # when it is imported
    call_command("footfall_import_csv", str(source), *WIDE)
    out = capsys.readouterr().out.splitlines()
    # then each warning and rejection has its own line, naming the interval as the file did
    assert [line.split(" (")[0] for line in out if line.startswith(("warning ", "rejected "))] == [
        "rejected 2026-03-29 02:15: nonexistent_local_time",
        "warning 2026-10-25 02:30: ambiguous_local_time",
        "rejected 2099-01-01 10:00: in_future",
    ]
    # and the summary adds them up
    assert out[-6:] == [
        "rows read: 5",
        "intervals: created 3, updated 0, unchanged 0, rejected 2",
        "warnings: ambiguous_local_time 1",
        "rejections: in_future 1, nonexistent_local_time 1",
        "sensors touched: PAR01-E1",
        "time range (stored intervals, UTC): 2026-03-10T09:00:00Z .. 2026-11-20T17:15:00Z",
    ]
    assert CountInterval.objects.filter(sensor=entrance).count() == 3


def test_a_second_import_touches_no_sensor(store, entrance, tmp_path, capsys):
    source = tmp_path / "door.csv"
    source.write_text("timestamp,in,out\n2026-03-10 10:00:00,5,3\n")
    call_command("footfall_import_csv", str(source), *WIDE)
    capsys.readouterr()

    call_command("footfall_import_csv", str(source), *WIDE)

    out = capsys.readouterr().out
    assert "intervals: created 0, updated 0, unchanged 1, rejected 0" in out
    assert "sensors touched: none" in out
    assert "time range (stored intervals, UTC): 2026-03-10T09:00:00Z .. 2026-03-10T09:15:00Z" in out


def test_a_retired_sensor_refuses_the_whole_file_line_by_line(store, entrance, tmp_path, capsys):
    Sensor.objects.filter(pk=entrance.pk).update(is_active=False)
    source = tmp_path / "door.csv"
    source.write_text("timestamp,in,out\n2026-03-10 10:00:00,5,3\n2026-03-10 10:15:00,2,2\n")

    call_command("footfall_import_csv", str(source), *WIDE)

    out = capsys.readouterr().out
    assert out.count("sensor_inactive") == 3  # two lines and the summary
    assert "time range (stored intervals, UTC): none" in out
    assert not CountInterval.objects.exists()


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("a,b\n1,2\n", ["--sensor", "NOPE"], "No sensor"),
        (
            "timestamp,in,out\nnot a date,1,2\n",
            ["--sensor", "PAR01-E1", "--start-column", "timestamp", "--in-column", "in", "--out-column", "out"],
            "line 1",
        ),
    ],
)
def test_import_errors_are_clear(store, entrance, tmp_path, content, args, message):
    source = tmp_path / "bad.csv"
    source.write_text(content)
    with pytest.raises(CommandError, match=message):
        call_command("footfall_import_csv", str(source), *args)


@pytest.fixture
def eager_celery() -> Iterator[None]:
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


def test_the_periodic_check_fans_out_per_store_with_sensors(store, entrance, other_store, eager_celery):
    assert check_anomalies() == 1  # only PAR01 has a sensor
    assert check_store_anomalies(999_999) == 0  # a store gone since: nothing to do


def test_the_notifier_command(store, entrance, capsys):
    # a sensor set up five days ago that never sent anything has missing data over the last days' opening hours
    Sensor.objects.filter(pk=entrance.pk).update(created_at=timezone.now() - dt.timedelta(days=5))
    call_command("footfall_check_anomalies", "--store", "PAR01", "--hours", "96")
    assert "PAR01: 1 new anomaly" in capsys.readouterr().out
    assert Anomaly.objects.get(sensor=entrance).kind == "missing_data"
    # and the same fault is not reported twice
    call_command("footfall_check_anomalies", "--store", "PAR01", "--hours", "96")
    assert "PAR01: 0 new anomalies" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("footfall_check_anomalies", "--store", "NOPE")
