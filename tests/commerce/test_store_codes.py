"""Every click-and-collect endpoint that takes a store takes its code, as
inventory and footfall do; the numeric id it took first still answers, with
Deprecation, Sunset and a Link to the same request by code (and only then)."""

import datetime as dt
import io
from typing import Any

import pytest
import yaml
from django.core.management import call_command

from commerce.api.v1.stores import STORE_ID_DEPRECATED_AT, STORE_ID_SUNSET
from commerce.models import PickupSlot, SlotException
from inventory.models import Location, LocationKind
from partners.models import CallerKind
from tests.commerce.factories import idempotency_key, shopper, store_with_schedule
from tests.factories import LocationFactory, api_as, make_client

pytestmark = pytest.mark.django_db

# RFC 9745: "@" and the Unix time the id form was deprecated (2026-12-04T00:00:00Z).
DEPRECATION = "@1796342400"
SUNSET = "Thu, 01 Jul 2027 00:00:00 GMT"
WEEKDAYS = [
    {"weekday": day, "opens": "08:00", "closes": "20:00", "slot_minutes": 30, "capacity": 12} for day in range(1, 7)
]


def assert_current(response: Any) -> None:
    """An answer to the code form: nothing deprecated about it."""
    for header in ("Deprecation", "Sunset", "Link"):
        assert header not in response, header


def assert_deprecated(response: Any, successor: str | None) -> None:
    assert response["Deprecation"] == DEPRECATION
    assert response["Sunset"] == SUNSET
    if successor is None:
        assert "Link" not in response
    else:
        assert response["Link"] == f'<{successor}>; rel="successor-version"'


def test_the_sunset_is_at_least_six_months_after_the_deprecation() -> None:
    assert dt.timedelta(days=183) <= STORE_ID_SUNSET - STORE_ID_DEPRECATED_AT


# ---------------------------------------------------------------- pickup schedules (path)


def test_schedule_read_by_code_and_by_deprecated_id(store: Location, store_api: Any) -> None:
    # when the store reads its schedule by code
    by_code = store_api.get(f"/api/v1/pickup-schedules/{store.code}")
    # then it is answered as usual, showing the code beside the id
    assert by_code.status_code == 200
    assert (by_code.json()["store_id"], by_code.json()["store_code"]) == (store.pk, store.code)
    assert_current(by_code)
    # and by its id the same schedule comes with the deprecation headers and a link to the code form
    by_id = store_api.get(f"/api/v1/pickup-schedules/{store.pk}")
    assert by_id.status_code == 200
    assert by_id.json() == by_code.json()
    assert by_id["ETag"] == by_code["ETag"]
    assert_deprecated(by_id, f"/api/v1/pickup-schedules/{store.code}")
    # and a conditional read by code is 304 with the same ETag
    again = store_api.get(f"/api/v1/pickup-schedules/{store.code}", HTTP_IF_NONE_MATCH=by_code["ETag"])
    assert again.status_code == 304


def test_schedule_written_by_code_and_by_deprecated_id(operator_api: Any) -> None:
    store = LocationFactory.create()
    # when the operator creates a schedule by the store's code
    created = operator_api.put(f"/api/v1/pickup-schedules/{store.code}", {"windows": WEEKDAYS}, format="json")
    assert created.status_code == 200, created.json()
    assert created.json()["store_code"] == store.code
    assert_current(created)
    # then replacing it by id works as before, flagged as deprecated
    replaced = operator_api.put(
        f"/api/v1/pickup-schedules/{store.pk}",
        {"days_ahead": 3, "windows": WEEKDAYS[:2]},
        format="json",
        HTTP_IF_MATCH=created["ETag"],
    )
    assert replaced.status_code == 200, replaced.json()
    assert replaced.json()["version"] == 2
    assert_deprecated(replaced, f"/api/v1/pickup-schedules/{store.code}")


def test_schedule_exceptions_by_code_and_by_deprecated_id(store: Location, store_api: Any) -> None:
    # when the store closes a date by code, then another by id
    by_code = store_api.post(
        f"/api/v1/pickup-schedules/{store.code}/exceptions", {"date": "2027-12-25", "closed": True}, format="json"
    )
    assert by_code.status_code == 201, by_code.json()
    assert_current(by_code)
    by_id = store_api.post(
        f"/api/v1/pickup-schedules/{store.pk}/exceptions",
        {"date": "2027-12-24", "capacity": 6},
        format="json",
        HTTP_IDEMPOTENCY_KEY=idempotency_key(),
    )
    assert by_id.status_code == 201, by_id.json()
    assert_deprecated(by_id, f"/api/v1/pickup-schedules/{store.code}/exceptions")
    assert set(SlotException.objects.values_list("date", flat=True)) == {dt.date(2027, 12, 24), dt.date(2027, 12, 25)}
    # then each is removed, one by code and one by id (the link keeps the exception)
    first, second = by_code.json()["id"], by_id.json()["id"]
    removed = store_api.delete(f"/api/v1/pickup-schedules/{store.code}/exceptions/{first}")
    assert removed.status_code == 204
    assert_current(removed)
    removed_by_id = store_api.delete(f"/api/v1/pickup-schedules/{store.pk}/exceptions/{second}")
    assert removed_by_id.status_code == 204
    assert_deprecated(removed_by_id, f"/api/v1/pickup-schedules/{store.code}/exceptions/{second}")
    assert not SlotException.objects.exists()


def test_unknown_or_foreign_store_in_the_path_is_404(store: Location, store_api: Any, operator_api: Any) -> None:
    other = store_with_schedule()
    warehouse = LocationFactory.create(kind=LocationKind.WAREHOUSE)
    for path, api in [
        ("NOPE-404", operator_api),  # no such code
        (warehouse.code, operator_api),  # a location, not a store
        (other.code, store_api),  # another store than the client's
        ("0", operator_api),
        ("99999999999999999999999", operator_api),  # past a bigint: no 500
        ("%00", operator_api),  # no NUL reaches PostgreSQL
        ("x" * 65, operator_api),
    ]:
        response = api.get(f"/api/v1/pickup-schedules/{path}")
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/problem+json", path
        assert response.json()["code"] == "not_found", path
        assert "Link" not in response


def test_an_error_answer_to_the_id_form_is_flagged_too(store: Location, store_api: Any) -> None:
    other = store_with_schedule()
    # a store client naming another store by id: 404 as before, and no link that would reveal its code
    response = store_api.get(f"/api/v1/pickup-schedules/{other.pk}")
    assert response.status_code == 404
    assert response["Deprecation"] == DEPRECATION
    assert response["Sunset"] == SUNSET


# ---------------------------------------------------------------- pickup slots (query)


def test_slots_listed_by_code_and_by_deprecated_id(store: Location, slot: PickupSlot, alice: Any) -> None:
    api = alice[0]
    by_code = api.get(f"/api/v1/pickup-slots?store={store.code}&available=true")
    assert by_code.status_code == 200
    assert [(row["id"], row["store_id"], row["store_code"]) for row in by_code.json()["results"]] == [
        (slot.pk, store.pk, store.code)
    ]
    assert_current(by_code)
    by_id = api.get(f"/api/v1/pickup-slots?store={store.pk}&available=true")
    assert by_id.status_code == 200
    assert by_id.json()["results"] == by_code.json()["results"]
    # the link is the same request, every other parameter kept
    assert_deprecated(by_id, f"/api/v1/pickup-slots?store={store.code}&available=true")


def test_unknown_store_code_in_the_query_is_400(alice: Any) -> None:
    hidden = LocationFactory.create(is_active=False)
    for value in ("NOPE-404", hidden.code, "0", "99999999999999999999999"):
        response = alice[0].get(f"/api/v1/pickup-slots?store={value}")
        assert response.status_code == 400, value
        body = response.json()
        assert body["code"] == "invalid_query_parameter", value
        assert body["errors"][0]["field"] == "store"
    assert alice[0].get("/api/v1/pickup-slots?store=NOPE-404").json()["errors"][0]["code"] == "unknown_store"
    # an id the caller cannot see is what it was before: 404, nothing revealed
    by_id = alice[0].get(f"/api/v1/pickup-slots?store={hidden.pk}")
    assert by_id.status_code == 404
    assert_deprecated(by_id, None)


def test_a_store_that_takes_no_orders_is_404_by_code_as_by_id(alice: Any) -> None:
    plain = LocationFactory.create(click_and_collect=False)
    assert alice[0].get(f"/api/v1/pickup-slots?store={plain.code}").status_code == 404
    assert alice[0].get(f"/api/v1/pickup-slots?store={plain.pk}").status_code == 404


def test_slot_changes_show_the_store_code(store: Location, slot: PickupSlot, store_api: Any) -> None:
    etag = store_api.get(f"/api/v1/pickup-slots/{slot.pk}")["ETag"]
    changed = store_api.patch(f"/api/v1/pickup-slots/{slot.pk}", {"capacity": 7}, format="json", HTTP_IF_MATCH=etag)
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["store_id"], changed.json()["store_code"]) == (store.pk, store.code)


# ---------------------------------------------------------------- orders (query)


def test_orders_filtered_by_code_and_by_deprecated_id(store: Location, slot: PickupSlot, apples: Any) -> None:
    operator = api_as(make_client(CallerKind.OPERATOR))
    shopper_api = shopper()[0]
    placed = shopper_api.post(
        "/api/v1/orders",
        {"slot_id": slot.pk, "lines": [{"product_id": apples.pk, "quantity": 1}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=idempotency_key(),
    )
    assert placed.status_code == 201, placed.json()
    elsewhere = store_with_schedule()
    for api in (operator, shopper_api):
        by_code = api.get(f"/api/v1/orders?store={store.code}")
        assert by_code.status_code == 200
        assert [row["id"] for row in by_code.json()["results"]] == [placed.json()["id"]]
        assert_current(by_code)
        by_id = api.get(f"/api/v1/orders?store={store.pk}&status=placed")
        assert [row["id"] for row in by_id.json()["results"]] == [placed.json()["id"]]
        assert_deprecated(by_id, f"/api/v1/orders?store={store.code}&status=placed")
        assert api.get(f"/api/v1/orders?store={elsewhere.code}").json()["results"] == []
    unknown = operator.get("/api/v1/orders?store=NOPE-404")
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["code"] == "unknown_store"
    # an unknown id filters as before: nothing
    assert operator.get("/api/v1/orders?store=987654321").json()["results"] == []


# ---------------------------------------------------------------- the published schema


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    out = io.StringIO()
    call_command("spectacular", "--api-version", "v1", stdout=out)
    document: dict[str, Any] = yaml.safe_load(out.getvalue())
    return document


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/pickup-schedules/{store}", "get"),
        ("/api/v1/pickup-schedules/{store}", "put"),
        ("/api/v1/pickup-schedules/{store}/exceptions", "post"),
        ("/api/v1/pickup-schedules/{store}/exceptions/{exception_id}", "delete"),
        ("/api/v1/pickup-slots", "get"),
        ("/api/v1/orders", "get"),
    ],
)
def test_the_schema_gives_the_code_and_marks_the_id_deprecated(schema: dict[str, Any], path: str, method: str) -> None:
    operation = schema["paths"][path][method]
    (store,) = [p for p in operation["parameters"] if p["name"] == "store"]
    assert store["in"] == ("path" if "{store}" in path else "query")
    code_form, id_form = store["schema"]["anyOf"]
    assert code_form["type"] == "string"
    assert "deprecated" not in code_form
    assert (id_form["type"], id_form["deprecated"]) == ("integer", True)
    success = next(status for status in operation["responses"] if status.startswith("2"))
    assert {"Deprecation", "Sunset", "Link"} <= set(operation["responses"][success]["headers"])
