"""The schema of the count ingest bodies is written from the rules the
adapters read records with (footfall.services.formats), and the two agree:
a record the committed schema accepts is read without an error, and a record
it refuses gets one (rejected on its own), value by value over a corpus of
good and bad values of every field."""

import datetime as dt
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from footfall.services import adapters, formats
from footfall.services.formats import MAX_COUNT, MAX_CUMULATIVE

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = yaml.safe_load((ROOT / "schema" / "openapi-v1.yaml").read_text())
COMPONENTS = SCHEMA["components"]["schemas"]
START, END = "2026-03-14T09:00:00+01:00", "2026-03-14T09:15:00+01:00"

TIMES_GOOD = [
    START,
    "2026-03-14T08:00:00Z",
    "2026-03-14 09:00:00",
    "2026-03-14T09:00",
    "2026-03-14T09:00:00.5+01:00",
    "2026-03-14T09:00:00+0100",
    1773475200,
    1773475200000,
]
TIMES_BAD: list[Any] = [
    "yesterday",
    "",
    "2026-03-14",
    "14/03/2026 09:00",
    None,
    True,
    12.5,
    [],
    {},
    "2026-03-14T09:00:00UTC",
]
COUNTS_GOOD = [0, 12, MAX_CUMULATIVE, "12", " 7 "]
COUNTS_BAD = [-1, MAX_CUMULATIVE + 1, 1.5, "1.5", "", "abc", "-3", True, None, [], {}, "\u00b2", "\u0661\u0662"]
CODES_GOOD = ["PAR01-E1", "a"]
CODES_BAD = ["", 5, None, ["PAR01-E1"], "PAR01\u0007E1"]
SAMPLES_GOOD = [(None, None), (9, 10), ("9", "10"), (10, 10), (0, 1)]
SAMPLES_BAD = [(9, None), (None, 10), (0, 0), (-1, 10), (9, 40000), ("x", 10), (1.5, 10)]
MISSING = object()


def _valid(component: str, record: dict[str, Any]) -> bool:
    schema = {"$ref": f"#/components/schemas/{component}", "components": SCHEMA["components"]}
    return jsonschema.Draft202012Validator(schema).is_valid(record)


def _with(record: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = dict(record)
    for key, value in changes.items():
        if value is MISSING:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def _variants(base: dict[str, Any], form: formats.IntervalFormat) -> list[tuple[dict[str, Any], bool]]:
    """(record, whether the rules accept it) for every value of the corpus in every field."""
    out: list[tuple[dict[str, Any], bool]] = [(base, True), (_with(base, vendor_field="x"), True)]
    if form.sensor is not None:
        out += [(_with(base, **{form.sensor.key: v}), True) for v in CODES_GOOD]
        out += [(_with(base, **{form.sensor.key: v}), False) for v in [*CODES_BAD, MISSING]]
    for time in (form.start, form.end):
        out += [(_with(base, **{time.key: v}), True) for v in TIMES_GOOD]
        out += [(_with(base, **{time.key: v}), False) for v in [*TIMES_BAD, MISSING]]
    if form.counts_key is None:
        for count in (form.entries, form.exits):
            out += [(_with(base, **{count.key: v}), True) for v in COUNTS_GOOD]
            out += [(_with(base, **{count.key: v}), False) for v in [*COUNTS_BAD, MISSING]]
    pair = (form.samples.key, form.samples_expected.key)
    out += [(_with(base, **dict(zip(pair, values, strict=True))), True) for values in SAMPLES_GOOD]
    out += [(_with(base, **dict(zip(pair, values, strict=True))), False) for values in SAMPLES_BAD]
    out += [(_with(base, **{pair[0]: 5}), False), (_with(base, **{pair[1]: 5}), False)]
    return out


def _canonical_ok(record: dict[str, Any]) -> bool:
    return not adapters.canonical_records({"intervals": [record]}, cumulative=True)[0].errors


def _axis_ok(record: dict[str, Any]) -> bool:
    return not adapters.axis_records({"data": [record]}, sensor_code="PAR01-E1", cumulative=True)[0].errors


def _xovis_push(record: Any) -> dict[str, Any]:
    logic = {"id": 1000, "records": [record]}
    return {"logics_data": {"sensor_info": {"serial_number": "00:6E:02:01:A2:3F"}, "logics": [logic]}}


def _xovis_ok(record: dict[str, Any]) -> bool:
    records, _ignored = adapters.xovis_records(_xovis_push(record), cumulative=True)
    return not records[0].errors


CANONICAL_BASE = {"sensor": "PAR01-E1", "start": START, "end": END, "in": 42, "out": 35}
AXIS_BASE = {"start": "2026-03-14 09:00:00", "end": "2026-03-14 09:15:00", "in": 42, "out": 35}
XOVIS_BASE = {"from": START, "to": END, "counts": [{"name": "fw", "value": 42}, {"name": "bw", "value": 35}]}


@pytest.mark.parametrize(
    ("component", "form", "base", "read_ok"),
    [
        ("CountIntervalInputRequest", formats.CANONICAL, CANONICAL_BASE, _canonical_ok),
        ("AxisRowRequest", formats.AXIS, AXIS_BASE, _axis_ok),
        ("XovisRecordRequest", formats.XOVIS, XOVIS_BASE, _xovis_ok),
    ],
    ids=["canonical", "axis", "xovis"],
)
def test_the_schema_and_the_adapters_agree_on_every_record(component, form, base, read_ok) -> None:
    # given records that change one field of a good record to each value of the corpus
    variants = _variants(base, form)
    # when the committed schema and the adapter judge each one
    disagreements = [
        (record, expected, schema_ok, adapter_ok)
        for record, expected in variants
        if not (schema_ok := _valid(component, record)) == (adapter_ok := read_ok(record)) == expected
    ]
    # then both say what the rules say
    assert not disagreements, "\n".join(map(repr, disagreements))


@pytest.mark.parametrize("value", [*COUNTS_GOOD, *COUNTS_BAD])
def test_xovis_counter_values_agree(value) -> None:
    record = _with(XOVIS_BASE, counts=[{"name": "fw", "value": value}, {"id": 1000 * 1000 + 2, "value": 1}])
    assert _valid("XovisRecordRequest", record) == _xovis_ok(record) == (value in COUNTS_GOOD)


def test_the_components_are_the_rules() -> None:
    # The committed components are written from the rules (bin/schema), not by hand.
    assert COMPONENTS["CountIntervalInputRequest"] == formats.CANONICAL.schema()
    assert COMPONENTS["AxisRowRequest"] == formats.AXIS.schema()
    assert COMPONENTS["CountBatchInputRequest"]["required"] == [formats.CANONICAL.batch_key]
    assert COMPONENTS["AxisExportInputRequest"]["required"] == [formats.AXIS.batch_key]


def test_what_the_schema_cannot_say_is_checked_by_ingest() -> None:
    # A day that does not exist, samples above samples_expected and, in interval mode,
    # more than MAX_COUNT people: valid JSON by the schema, rejected record by record.
    for record in (
        _with(CANONICAL_BASE, start="2026-02-30T09:00:00+01:00"),
        _with(CANONICAL_BASE, samples=11, samples_expected=10),
    ):
        assert _valid("CountIntervalInputRequest", record)
        assert not _canonical_ok(record)
    crowd = _with(CANONICAL_BASE, **{"in": MAX_COUNT + 1})
    assert _valid("CountIntervalInputRequest", crowd)
    assert adapters.canonical_records({"intervals": [crowd]})[0].errors[0]["code"] == "invalid_count"


def test_a_count_of_unusual_digits_is_a_record_error_not_a_server_error(device_api, entrance) -> None:
    # given a count written with a superscript digit, which str.isdigit() took for a number
    record = _with(CANONICAL_BASE, **{"in": "\u00b2"})
    # when it is sent
    response = device_api.post("/api/v1/footfall/counts", {"intervals": [record]}, format="json")
    # then that record is rejected with invalid_count (the old reading answered 500)
    assert response.status_code == 200, response.content
    assert response.json()["results"][0]["errors"][0]["code"] == "invalid_count"


def test_unix_times_are_documented_and_read() -> None:
    record = _with(CANONICAL_BASE, start=1773475200, end=1773476100)
    assert _valid("CountIntervalInputRequest", record)
    read = adapters.canonical_records({"intervals": [record]})[0]
    assert read.start == dt.datetime(2026, 3, 14, 8, 0, tzinfo=dt.UTC)


# ------------------------------------------------------------------ till sales

SALES_BASE = {
    "store": "PAR01",
    "register": "T1",
    "start": START,
    "end": END,
    "tickets": 10,
    "revenue": {"amount": "123.45", "currency": "EUR"},
}
# Times with an offset (or Unix time) on both sides: a local time beside an
# offset is mixed_offsets, and an end not after its start invalid_period,
# rules between fields that ingest checks and the descriptions state.
SALES_STARTS = [START, "2026-03-14T08:00:00Z", "2026-03-14T09:00:00.5+01:00", "2026-03-14T09:00:00+0100", 1773475200]
SALES_ENDS = [END, "2026-03-14T08:15:00Z", 1773476100, 1773476100000]
REVENUES_GOOD = [
    {"amount": "12.50", "currency": "EUR"},
    {"amount": "-3", "currency": "EUR"},
    {"amount": "999999999999.99", "currency": "EUR"},
    {"amount": "0.5", "currency": "EUR", "note": "ignored"},
]
REVENUES_BAD: list[Any] = [
    {"amount": 12.5, "currency": "EUR"},
    {"amount": "1.234", "currency": "EUR"},
    {"amount": "1e3", "currency": "EUR"},
    {"amount": "12.", "currency": "EUR"},
    {"amount": "1000000000000", "currency": "EUR"},
    {"amount": "12.50", "currency": "eur"},
    {"amount": "12.50"},
    {"currency": "EUR"},
    "12.50",
    None,
]


def _sales_variants() -> list[tuple[dict[str, Any], bool]]:
    base = SALES_BASE
    out: list[tuple[dict[str, Any], bool]] = [(base, True), (_with(base, vendor_field=1), True)]
    out += [(_with(base, store=v), False) for v in [5, None, ["PAR01"]]]
    out += [(_with(base, register=v), True) for v in ["", "x" * 40, MISSING]]
    out += [(_with(base, register=v), False) for v in ["x" * 41, 5, None, "T\u00071"]]
    out += [(_with(base, start=v), True) for v in SALES_STARTS]
    out += [(_with(base, start=v), False) for v in [*TIMES_BAD, MISSING]]
    out += [(_with(base, end=v), True) for v in SALES_ENDS]
    out += [(_with(base, end=v), False) for v in [*TIMES_BAD, MISSING]]
    out += [(_with(base, tickets=v), True) for v in [0, formats.MAX_TICKETS]]
    out += [(_with(base, tickets=v), False) for v in [-1, formats.MAX_TICKETS + 1, "10", 1.5, True, None, MISSING]]
    out += [(_with(base, revenue=v), True) for v in REVENUES_GOOD]
    out += [(_with(base, revenue=v), False) for v in [*REVENUES_BAD, MISSING]]
    return out


def test_the_schema_and_the_sales_ingest_agree_on_every_record(store) -> None:
    from footfall.services.sales import sales_intervals_ingest

    # given records that change one field of a good till record to each value of the corpus
    disagreements = []
    for record, expected in _sales_variants():
        # when the committed schema and the sales ingest (the project itself: every store) judge it
        schema_ok = _valid("SalesIntervalInputRequest", record)
        result = sales_intervals_ingest(
            caller=None, payload={"intervals": [record]}, now=dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
        )[0]
        if not schema_ok == (result.status != "rejected") == expected:
            disagreements.append((record, expected, schema_ok, result.errors))
    # then both say what the rules say
    assert not disagreements, "\n".join(map(repr, disagreements))
