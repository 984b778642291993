"""What devices send, read into one shape: ``CountRecord``.

Adapters only read: they check each record's fields and types and leave
sensors, time zones, overlaps and storage to ``footfall.services.ingest``.
A bad record carries its errors and never stops the others; only an envelope
that cannot be read at all raises ``InvalidBatch``. Formats (field lists in
the footfall reference, section B.4):

- canonical JSON: ``{"intervals": [{"sensor", "start", "end", "in", "out",
  "samples"?, "samples_expected"?}]}``;
- Xovis LOGICS push (firmware 5, ``logics_data``): one envelope or an array;
  per logic, records with ``from``/``to`` (RFC 3339 or Unix seconds or
  milliseconds) and counts named ``fw``/``bw`` (or with ids ``logic*1000+1``
  and ``+2``); the box is named by ``sensor_info.serial_number``, the line by
  the logic id;
- Axis people-counter export ``{"data": [{"start", "end", "in", "out"}]}``
  with local times without offset;
- CSV with a header naming ``start,end,in,out`` and optionally ``sensor``,
  ``samples``, ``samples_expected`` (the Axis CSV export is such a file)."""

import csv
import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from footfall.errors import BatchTooLarge, InvalidBatch, InvalidCsv
from footfall.services.formats import (
    AXIS,
    CANONICAL,
    CSV,
    MAX_BATCH_RECORDS,
    MAX_COUNT,
    MAX_CUMULATIVE,
    MAX_SAMPLES,
    XOVIS,
    IntervalFormat,
    parse_timestamp,
    whole_number,
)
from gateway.api.strict import is_clean_text

__all__ = ["MAX_BATCH_RECORDS", "MAX_COUNT", "MAX_CUMULATIVE", "MAX_SAMPLES", "parse_timestamp"]


@dataclass(slots=True)
class CountRecord:
    """One interval as received. ``start``/``end`` are aware, or naive when
    the source gives store-local time. ``in_value``/``out_value`` are counts
    of the interval, or running totals when the batch is cumulative."""

    locator: str
    sensor_code: str | None = None
    device_serial: str | None = None
    channel: str | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    in_value: int | None = None
    out_value: int | None = None
    samples: int | None = None
    samples_expected: int | None = None
    errors: list[dict[str, str]] = field(default_factory=list)

    def fail(self, field_name: str, code: str, message: str) -> None:
        self.errors.append({"field": field_name, "code": code, "message": message})


def check_batch_size(count: int) -> None:
    if count > MAX_BATCH_RECORDS:
        raise BatchTooLarge(
            _("A batch holds at most %(max)d records; this one has %(count)d. Split it.")
            % {"max": MAX_BATCH_RECORDS, "count": count},
            extra={"max_records": MAX_BATCH_RECORDS},
        )


# ------------------------------------------------------------------ fields


def _read_time(record: CountRecord, data: Mapping[str, Any], key: str, name: str) -> dt.datetime | None:
    raw = data.get(key)
    if raw is None:
        record.fail(name, "required", _("This field is required."))
        return None
    try:
        return parse_timestamp(raw)
    except (ValueError, OverflowError, OSError):
        record.fail(name, "invalid_datetime", _("Expected an RFC 3339 date-time such as 2026-03-29T10:15:00+02:00."))
        return None


def _read_count(record: CountRecord, data: Mapping[str, Any], key: str, name: str, *, limit: int) -> int | None:
    value = data.get(key)
    if value is None:
        record.fail(name, "required", _("This field is required."))
        return None
    # A JSON integer, the common case, is taken without a call (5,000 records, 10,000 counts a batch).
    number = value if type(value) is int else whole_number(value)
    if number is None or not 0 <= number <= limit:
        record.fail(name, "invalid_count", _("Expected a whole number from 0 to %(max)d.") % {"max": limit})
        return None
    return number


def _read_samples(record: CountRecord, data: Mapping[str, Any], form: IntervalFormat) -> None:
    got_rule, want_rule = form.samples, form.samples_expected
    if data.get(got_rule.key) in (None, "") and data.get(want_rule.key) in (None, ""):
        return
    got = _read_count(record, data, got_rule.key, got_rule.name, limit=got_rule.maximum)
    want = _read_count(record, data, want_rule.key, want_rule.name, limit=want_rule.maximum)
    if got is None or want is None:
        return
    if want == 0 or got > want:
        record.fail(
            "samples", "invalid_completeness", _("Need 0 <= samples <= samples_expected and samples_expected > 0.")
        )
        return
    record.samples, record.samples_expected = got, want


def _read_interval(record: CountRecord, data: Mapping[str, Any], form: IntervalFormat, limit: int) -> None:
    """Times, counts and completeness of a record, by the format's rules
    (``footfall.services.formats``: the schema is written from them too)."""
    start_key, start_name, end_key, end_name, in_key, in_name, out_key, out_name = form.reading
    record.start = _read_time(record, data, start_key, start_name)
    record.end = _read_time(record, data, end_key, end_name)
    record.in_value = _read_count(record, data, in_key, in_name, limit=limit)
    record.out_value = _read_count(record, data, out_key, out_name, limit=limit)
    _read_samples(record, data, form)


def _limit(cumulative: bool) -> int:
    return MAX_CUMULATIVE if cumulative else MAX_COUNT


# ------------------------------------------------------------------ formats


def canonical_records(payload: Any, *, cumulative: bool = False) -> list[CountRecord]:
    key = CANONICAL.batch_key or ""
    if not isinstance(payload, dict) or not isinstance(payload.get(key), list):
        raise InvalidBatch(_('Expected an object {"intervals": [...]}.'))
    items = payload[key]
    check_batch_size(len(items))
    records = []
    for index, item in enumerate(items):
        record = CountRecord(locator=f"/{key}/{index}")
        if not isinstance(item, dict):
            record.fail("", "invalid", _("Each interval is an object."))
        else:
            code = item.get(CANONICAL.sensor.key) if CANONICAL.sensor else None
            if not isinstance(code, str) or not code:
                record.fail("sensor", "required", _("The sensor code is required."))
            elif not is_clean_text(code):
                record.fail("sensor", "invalid_characters", _("Control characters are not allowed."))
            else:
                record.sensor_code = code
            _read_interval(record, item, CANONICAL, _limit(cumulative))
        records.append(record)
    return records


def axis_records(payload: Any, *, sensor_code: str, cumulative: bool = False) -> list[CountRecord]:
    key = AXIS.batch_key or ""
    if not isinstance(payload, dict) or not isinstance(payload.get(key), list):
        raise InvalidBatch(_('Expected the Axis export object {"data": [{"start", "end", "in", "out"}]}.'))
    items = payload[key]
    check_batch_size(len(items))
    records = []
    for index, item in enumerate(items):
        record = CountRecord(locator=f"/{key}/{index}", sensor_code=sensor_code)
        if not isinstance(item, dict):
            record.fail("", "invalid", _("Each row is an object."))
        else:
            _read_interval(record, item, AXIS, _limit(cumulative))
        records.append(record)
    return records


def _xovis_envelopes(payload: Any) -> list[tuple[str, dict[str, Any]]]:
    if isinstance(payload, dict):
        return [("", payload)]
    if isinstance(payload, list) and all(isinstance(item, dict) for item in payload):
        return [(f"/{index}", item) for index, item in enumerate(payload)]
    raise InvalidBatch(_("Expected a Xovis push: one envelope object or an array of them."))


def _xovis_logics(prefix: str, envelope: dict[str, Any]) -> tuple[str | None, list[tuple[str, Any, list[Any]]]]:
    data = envelope["logics_data"]
    if not isinstance(data, dict) or not isinstance(data.get("logics"), list):
        raise InvalidBatch(_("%(path)s/logics_data needs a list of logics.") % {"path": prefix})
    info = data.get("sensor_info")
    serial = info.get("serial_number") if isinstance(info, dict) else None
    logics = []
    for index, logic in enumerate(data["logics"]):
        if not isinstance(logic, dict) or not isinstance(logic.get("records"), list):
            raise InvalidBatch(
                _("%(path)s needs a list of records.") % {"path": f"{prefix}/logics_data/logics/{index}"}
            )
        logics.append((f"{prefix}/logics_data/logics/{index}", logic.get("id"), logic["records"]))
    return (serial if isinstance(serial, str) and serial and is_clean_text(serial) else None), logics


_XOVIS_DIRECTIONS = {"fw": "in", "forward": "in", "bw": "out", "backward": "out"}


def _xovis_counts(logic_id: Any, counts: Any) -> dict[str, Any]:
    """``{"in": value, "out": value}`` from a record's counts, by name
    (fw/bw) or by counter id (logic id x 1000 + 1 forward, + 2 backward)."""
    found: dict[str, Any] = {}
    if not isinstance(counts, list):
        return found
    by_id = {}
    if isinstance(logic_id, int):
        by_id = {logic_id * 1000 + 1: "in", logic_id * 1000 + 2: "out"}
    for count in counts:
        if not isinstance(count, dict):
            continue
        name = count.get("name")
        direction = _XOVIS_DIRECTIONS.get(name.lower()) if isinstance(name, str) else None
        counter_id = count.get("id")
        if direction is None and isinstance(counter_id, int):
            direction = by_id.get(counter_id)
        if direction and direction not in found:
            found[direction] = count.get("value")
    return found


def xovis_records(payload: Any, *, cumulative: bool = False) -> tuple[list[CountRecord], list[str]]:
    """Records of every ``logics_data`` envelope, and the types of the
    envelopes that carry no counts (``status_data``, ``connection_test``...)."""
    envelopes = _xovis_envelopes(payload)
    ignored: list[str] = []
    parsed = []
    for prefix, envelope in envelopes:
        if "logics_data" not in envelope:
            ignored.append(next(iter(envelope), "empty"))
            continue
        parsed.append(_xovis_logics(prefix, envelope))
    check_batch_size(sum(len(rows) for _, logics in parsed for _, _, rows in logics))
    records = []
    for serial, logics in parsed:
        for path, logic_id, rows in logics:
            for index, row in enumerate(rows):
                records.append(_xovis_record(f"{path}/records/{index}", serial, logic_id, row, cumulative))
    return records, ignored


def _xovis_record(locator: str, serial: str | None, logic_id: Any, row: Any, cumulative: bool) -> CountRecord:
    record = CountRecord(locator=locator, device_serial=serial, channel=None if logic_id is None else str(logic_id))
    if serial is None:
        record.fail("sensor_info.serial_number", "required", _("The envelope does not name the sensor box."))
    if logic_id is None:
        record.fail("logic.id", "required", _("The logic has no id."))
    if not isinstance(row, dict):
        record.fail("", "invalid", _("Each record is an object."))
        return record
    fields = dict(row) | _xovis_counts(logic_id, row.get(XOVIS.counts_key or ""))
    _read_interval(record, fields, XOVIS, _limit(cumulative))
    return record


def csv_records(text: str, *, sensor_code: str | None, cumulative: bool = False) -> list[CountRecord]:
    """Rows of a CSV file with a header; ``sensor_code`` names the sensor when
    the file has no ``sensor`` column."""
    lines = text.splitlines()
    check_batch_size(max(len([line for line in lines if line.strip()]) - 1, 0))
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    missing = {CSV.start.key, CSV.end.key, CSV.entries.key, CSV.exits.key} - set(header)
    if missing:
        raise InvalidCsv(
            _("The header must name start, end, in and out; missing: %(m)s.") % {"m": ", ".join(sorted(missing))}
        )
    if (CSV.sensor is None or CSV.sensor.key not in header) and not sensor_code:
        raise InvalidCsv(_("Name the sensor with a sensor column or the sensor query parameter."))
    reader.fieldnames = header
    records = []
    for row in reader:
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue
        record = CountRecord(locator=f"line {reader.line_num}")
        clean = {key: value.strip() for key, value in row.items() if isinstance(key, str) and isinstance(value, str)}
        record.sensor_code = (clean.get(CSV.sensor.key) if CSV.sensor else None) or sensor_code
        if not record.sensor_code:
            record.fail("sensor", "required", _("The sensor code is required."))
        elif not is_clean_text(record.sensor_code):
            record.fail("sensor", "invalid_characters", _("Control characters are not allowed."))
            record.sensor_code = None
        _read_interval(record, {k: v for k, v in clean.items() if v != ""}, CSV, _limit(cumulative))
        records.append(record)
    return records
