"""Bad bodies to the footfall ingest endpoints answer 4xx problem+json,
never a 500: a NUL (or another control character, or a lone surrogate) in
a code, a key or any text of a JSON body is a 422 naming where it is; in a
CSV body, a 422 naming the line. Nothing is stored."""

import json
from typing import Any

import pytest

from footfall.models import CountInterval, SalesInterval
from footfall.services import adapters
from tests.inventory.factories import problem

pytestmark = pytest.mark.django_db

START, END = "2026-03-14T09:00:00+01:00", "2026-03-14T09:15:00+01:00"


def count(sensor: str = "PAR01-E1", **extra: Any) -> dict[str, Any]:
    return {"sensor": sensor, "start": START, "end": END, "in": 3, "out": 2, **extra}


def sale(**extra: Any) -> dict[str, Any]:
    return {
        "store": "PAR01",
        "start": START,
        "end": END,
        "tickets": 4,
        "revenue": {"amount": "52.10", "currency": "EUR"},
        **extra,
    }


def xovis(serial: str) -> dict[str, Any]:
    record = {"from": START, "to": END, "counts": [{"name": "fw", "value": 3}, {"name": "bw", "value": 1}]}
    return {"logics_data": {"sensor_info": {"serial_number": serial}, "logics": [{"id": 1000, "records": [record]}]}}


BODIES = [
    # (url, body, the field the 422 names)
    ("/api/v1/footfall/counts", {"intervals": [count(), count("PAR01\x00E1")]}, "intervals.1.sensor"),
    ("/api/v1/footfall/counts", {"intervals": [count("\x00")]}, "intervals.0.sensor"),
    ("/api/v1/footfall/counts", {"intervals": [count("PAR01-E1\ud800")]}, "intervals.0.sensor"),
    ("/api/v1/footfall/counts", {"intervals": [{**count(), "no\x00te": 1}]}, "intervals.0.no\ufffdte"),
    ("/api/v1/footfall/counts?counting=cumulative", {"intervals": [count("PAR01-E1\x00")]}, "intervals.0.sensor"),
    ("/api/v1/footfall/counts/xovis", xovis("00:6E:02:01:A2:3F\x00"), "logics_data.sensor_info.serial_number"),
    ("/api/v1/footfall/counts/axis?sensor=PAR01-E1", {"data": [{**count(), "start": "\x00"}]}, "data.0.start"),
    ("/api/v1/footfall/sales", {"intervals": [sale(store="PAR01\x00")]}, "intervals.0.store"),
    ("/api/v1/footfall/sales", {"intervals": [sale(register="till\x001")]}, "intervals.0.register"),
    ("/api/v1/footfall/sales", {"intervals": [sale(revenue={"amount": "1", "currency": "EU\x00"})]}, None),
]


@pytest.mark.parametrize(("url", "body", "field"), BODIES, ids=[f"{u} {f}" for u, _b, f in BODIES])
def test_a_control_character_in_a_json_body_is_a_422_naming_the_field(
    operator_api, entrance, url: str, body: Any, field: str | None
) -> None:
    raw = json.dumps(body)  # \u escapes: the test client cannot encode a lone surrogate itself
    response = operator_api.post(url, raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY="nul-1")
    replay = operator_api.post(url, raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY="nul-1")

    assert response.status_code == 422, response.content[:300]
    errors = problem(response)["errors"]
    assert errors[0]["code"] == "invalid_characters"
    assert errors[0]["field"] == (field or "intervals.0.revenue.currency")
    assert "\x00" not in response.content.decode()
    assert replay.status_code == 422
    assert replay.json() == response.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert not CountInterval.objects.exists()
    assert not SalesInterval.objects.exists()


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("sensor,start,end,in,out\nPAR01-E1\x00," + START + "," + END + ",3,2\n", "line 2"),
        ("sensor,start,end,in,out\nPAR01-E1," + START + "," + END + ",3,2\nPAR01-E1\x07,x,y,1,1\n", "line 3"),
        ("sensor,start\x00,end,in,out\n", "line 1"),
    ],
)
def test_a_control_character_in_a_csv_body_is_a_422_naming_the_line(operator_api, entrance, text, line) -> None:
    response = operator_api.generic("POST", "/api/v1/footfall/counts/csv", text.encode(), content_type="text/csv")

    assert response.status_code == 422, response.content[:300]
    errors = problem(response)["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [(line, "invalid_characters")]
    assert not CountInterval.objects.exists()


def test_tabs_and_crlf_line_ends_in_a_csv_body_are_accepted(operator_api, entrance) -> None:
    text = "sensor,start,end,in,out\r\nPAR01-E1,\t" + START + "," + END + ",3,\t2\r\n"

    response = operator_api.generic("POST", "/api/v1/footfall/counts/csv", text.encode(), content_type="text/csv")

    assert response.status_code == 200, response.content[:300]
    assert response.json()["created"] == 1


def test_a_sales_amount_is_a_decimal_string(operator_api, store) -> None:
    amounts = [12.5, "1e3", "NaN", "Infinity", " 1", "1.", "+1"]
    body = {"intervals": [sale(revenue={"amount": amount, "currency": "EUR"}) for amount in amounts]}

    response = operator_api.post("/api/v1/footfall/sales", body, format="json")

    assert response.status_code == 200, response.content[:300]
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["rejected"] * len(amounts)
    assert {e["field"] for r in results for e in r["errors"]} == {"revenue.amount"}
    assert not SalesInterval.objects.exists()


def test_the_adapters_refuse_a_code_with_a_control_character_record_by_record() -> None:
    # Callers other than the API (import commands, demo data) get a per-record
    # error, never a NUL sent to PostgreSQL.
    canonical = adapters.canonical_records({"intervals": [count("PAR01\x00E1"), count()]})
    from_csv = adapters.csv_records("start,end,in,out\n" + START + "," + END + ",1,1\n", sensor_code="E\x001")

    assert [r.errors[0]["code"] if r.errors else None for r in canonical] == ["invalid_characters", None]
    assert [r.sensor_code for r in canonical] == [None, "PAR01-E1"]
    assert from_csv[0].errors[0]["code"] == "invalid_characters"
    assert from_csv[0].sensor_code is None
