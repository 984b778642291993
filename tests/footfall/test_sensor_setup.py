"""Setting a store's sensors up through the API: create (operator for any
store, a store client for its own), change (If-Match), move while there is
no history, retire (history kept, counts refused), with a precise problem
for each bad request."""

import datetime as dt
from typing import Any

import pytest
from rest_framework.test import APIClient

from footfall.models import CountDay, CountInterval, Sensor, SensorKind
from footfall.selectors.aggregates import footfall_aggregates
from footfall.services.sensors import sensor_update
from gateway.api.etag import etag_for
from gateway.api.problems import FieldInvalid
from inventory.models import Location
from partners.models import ApiClient, CallerKind
from tests.factories import api_as, make_client
from tests.footfall.helpers import interval
from tests.footfall.test_adapters import START, XOVIS, xovis_push, xovis_record

URL = "/api/v1/footfall/sensors"
COUNTS = "/api/v1/footfall/counts"


def new_sensor(**extra: Any) -> dict[str, Any]:
    return {"code": "PAR01-E2", "name": "Side door", "kind": "entrance", "store": "PAR01", **extra}


def if_match(sensor: Sensor) -> dict[str, str]:
    sensor.refresh_from_db()
    return {"HTTP_IF_MATCH": etag_for("sensor", sensor.pk, sensor.version)}


def a_quarter_hour(api: APIClient, code: str) -> Any:
    return api.post(COUNTS, {"intervals": [interval(code, "2026-03-14T10:00:00+01:00", in_=9, out=4)]}, format="json")


# ---------------------------------------------------------------- create


def test_the_operator_sets_up_a_sensor_in_any_store(operator_api, store, other_store):
    response = operator_api.post(
        URL, new_sensor(store="LYO01", device_serial="00:6E:02:01:B7:10", channel="1000"), format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body | {"created_at": None, "updated_at": None} == {
        "code": "PAR01-E2",
        "name": "Side door",
        "kind": "entrance",
        "store": "LYO01",
        "device_serial": "00:6E:02:01:B7:10",
        "channel": "1000",
        "device": None,
        "is_active": True,
        "version": 1,
        "created_at": None,
        "updated_at": None,
    }
    sensor = Sensor.objects.get(code="PAR01-E2")
    assert response["Location"] == f"{URL}/PAR01-E2"
    assert response["ETag"] == etag_for("sensor", sensor.pk, 1)
    assert operator_api.get(f"{URL}/PAR01-E2").json() == body


def test_a_store_client_sets_up_sensors_of_its_own_store_only(store_api, store, other_store):
    own = store_api.post(URL, new_sensor(), format="json")
    other = store_api.post(URL, new_sensor(code="LYO01-E9", store="LYO01"), format="json")
    unknown = store_api.post(URL, new_sensor(code="X-1", store="NOPE1"), format="json")

    assert own.status_code == 201, own.json()
    # another store answers exactly as a store that does not exist: nothing to probe
    assert other.status_code == unknown.status_code == 422
    assert other.json()["errors"] == unknown.json()["errors"]
    assert [(e["field"], e["code"]) for e in other.json()["errors"]] == [("store", "unknown_store")]
    assert list(Sensor.objects.values_list("code", flat=True)) == ["PAR01-E2"]


def test_partners_and_devices_may_not_set_sensors_up(store, device_api):
    partner = api_as(make_client(CallerKind.PARTNER, scopes=["inventory:write"]))

    as_partner = partner.post(URL, new_sensor(), format="json")
    as_device = device_api.post(URL, new_sensor(), format="json")

    assert (as_partner.status_code, as_partner.json()["code"]) == (403, "permission_denied")
    assert (as_device.status_code, as_device.json()["code"]) == (403, "insufficient_scope")
    assert as_device.json()["required_scopes"] == ["inventory:write"]
    assert not Sensor.objects.exists()


def test_codes_and_active_devices_are_unique(operator_api, entrance):
    taken_code = operator_api.post(URL, new_sensor(code="PAR01-E1"), format="json")
    taken_device = operator_api.post(
        URL, new_sensor(device_serial=entrance.device_serial, channel=entrance.channel), format="json"
    )
    other_channel = operator_api.post(
        URL, new_sensor(device_serial=entrance.device_serial, channel="1001"), format="json"
    )

    assert (taken_code.status_code, taken_code.json()["code"]) == (409, "sensor_code_taken")
    assert taken_code.headers["Content-Type"] == "application/problem+json"
    assert (taken_device.status_code, taken_device.json()["code"]) == (409, "sensor_device_taken")
    assert entrance.device_serial in taken_device.json()["detail"]
    assert other_channel.status_code == 201  # one box, two counting lines


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        (new_sensor(kind="door"), "kind", "invalid_choice"),
        (new_sensor(colour="red"), "colour", "unknown_field"),
        (new_sensor(code="has space"), "code", "invalid"),
        (new_sensor(code="x" * 65), "code", "invalid"),
        (new_sensor(name=7), "name", "invalid"),
        (new_sensor(name="bell\x07"), "name", "invalid_characters"),
        (new_sensor(channel="1000"), "channel", "invalid"),
        (new_sensor(device="no-such-client"), "device", "unknown_device"),
        ({"code": "PAR01-E2", "kind": "entrance", "store": "PAR01"}, "name", "required"),
    ],
)
def test_bad_bodies_are_422_naming_the_field(operator_api, store, body, field, code):
    response = operator_api.post(URL, body, format="json")

    assert response.status_code == 422, response.json()
    assert response.json()["code"] == "validation_failed"
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(field, code)]


def test_a_device_client_of_another_store_cannot_own_the_sensor(operator_api, store, other_store, device):
    elsewhere = make_client(CallerKind.DEVICE, store=other_store)

    refused = operator_api.post(URL, new_sensor(device=elsewhere.client_id), format="json")
    accepted = operator_api.post(URL, new_sensor(device=device.client_id), format="json")

    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [("device", "unknown_device")]
    assert accepted.status_code == 201
    assert accepted.json()["device"] == device.client_id


def test_a_create_retried_with_its_idempotency_key_replays_the_answer(store_api, store):
    first = store_api.post(URL, new_sensor(), format="json", HTTP_IDEMPOTENCY_KEY="setup-e2")
    again = store_api.post(URL, new_sensor(), format="json", HTTP_IDEMPOTENCY_KEY="setup-e2")
    reused = store_api.post(URL, new_sensor(name="Other"), format="json", HTTP_IDEMPOTENCY_KEY="setup-e2")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert again["Location"] == first["Location"]
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")
    assert Sensor.objects.filter(code="PAR01-E2").count() == 1


# ---------------------------------------------------------------- change


def test_a_change_needs_the_etag_read(operator_api, entrance):
    url = f"{URL}/PAR01-E1"
    read = operator_api.get(url)
    stale = {"HTTP_IF_MATCH": etag_for("sensor", entrance.pk, 99)}

    missing = operator_api.patch(url, {"name": "Front door"}, format="json")
    outdated = operator_api.patch(url, {"name": "Front door"}, format="json", **stale)
    changed = operator_api.patch(url, {"name": "Front door"}, format="json", HTTP_IF_MATCH=read["ETag"])
    not_modified = operator_api.get(url, HTTP_IF_NONE_MATCH=changed["ETag"])

    assert (missing.status_code, missing.json()["code"]) == (428, "precondition_required")
    assert (outdated.status_code, outdated.json()["code"]) == (412, "precondition_failed")
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["name"], changed.json()["version"]) == ("Front door", 2)
    assert changed["ETag"] != read["ETag"]
    assert not_modified.status_code == 304


def test_a_device_serial_channel_and_client_change_together(operator_api, entrance, window, device):
    response = operator_api.patch(
        f"{URL}/PAR01-W1",
        {"device_serial": "00:6E:02:01:C0:01", "channel": "2000", "device": device.client_id},
        format="json",
        **if_match(window),
    )
    clash = operator_api.patch(
        f"{URL}/PAR01-W1",
        {"device_serial": entrance.device_serial, "channel": entrance.channel},
        format="json",
        **if_match(window),
    )
    cleared = operator_api.patch(f"{URL}/PAR01-W1", {"device": None}, format="json", **if_match(window))

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["device_serial"], body["channel"], body["device"]) == ("00:6E:02:01:C0:01", "2000", device.client_id)
    assert (clash.status_code, clash.json()["code"]) == (409, "sensor_device_taken")
    assert cleared.json()["device"] is None


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [({"kind": "window"}, "kind", "unknown_field"), ({"code": "NEW"}, "code", "unknown_field")],
)
def test_code_and_kind_never_change(operator_api, entrance, body, field, code):
    response = operator_api.patch(f"{URL}/PAR01-E1", body, format="json", **if_match(entrance))

    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(field, code)]


def test_a_store_client_changes_only_its_own_sensors_and_keeps_them(store_api, entrance, other_entrance):
    foreign = store_api.patch(f"{URL}/LYO01-E1", {"name": "x"}, format="json", **if_match(other_entrance))
    away = store_api.patch(f"{URL}/PAR01-E1", {"store": "LYO01"}, format="json", **if_match(entrance))

    assert (foreign.status_code, foreign.json()["code"]) == (404, "not_found")
    assert [(e["field"], e["code"]) for e in away.json()["errors"]] == [("store", "unknown_store")]
    entrance.refresh_from_db()
    assert entrance.store.code == "PAR01"


# ---------------------------------------------------------------- move


def test_a_sensor_without_history_moves_to_another_store(operator_api, window, other_store):
    response = operator_api.patch(f"{URL}/PAR01-W1", {"store": "LYO01"}, format="json", **if_match(window))

    assert response.status_code == 200, response.json()
    assert response.json()["store"] == "LYO01"
    assert Sensor.objects.get(code="PAR01-W1").store == other_store


def test_a_sensor_with_history_keeps_its_store_and_its_past(operator_api, device_api, store, entrance, other_store):
    # given a quarter-hour counted at PAR01
    assert a_quarter_hour(device_api, "PAR01-E1").json()["created"] == 1
    day = dt.date(2026, 3, 14)
    before = footfall_aggregates(store=store, granularity="day", first=day, last=day, kind=None)
    # when the operator tries to move the sensor to LYO01
    response = operator_api.patch(f"{URL}/PAR01-E1", {"store": "LYO01"}, format="json", **if_match(entrance))
    # then it is refused, and the count is still PAR01's, not LYO01's
    assert (response.status_code, response.json()["code"]) == (409, "sensor_has_history")
    assert "PAR01-E1" in response.json()["detail"]
    assert footfall_aggregates(store=store, granularity="day", first=day, last=day, kind=None) == before
    assert [row.in_total for row in before if row.in_total] == [9]
    lyon = footfall_aggregates(store=other_store, granularity="day", first=day, last=day, kind=None)
    assert all(row.in_total is None for row in lyon)


def test_a_move_leaving_the_device_client_at_the_old_store_is_refused(store, entrance, device, other_store):
    sensor_update(sensor=entrance, expected_version=1, changes={"device": device})

    with pytest.raises(FieldInvalid) as raised:
        sensor_update(sensor=entrance, expected_version=2, changes={"store": other_store})

    assert [(e["field"], e["code"]) for e in raised.value.extra["errors"]] == [("device", "unknown_device")]
    moved = sensor_update(sensor=entrance, expected_version=2, changes={"store": other_store, "device": None})
    assert (moved.store, moved.device, moved.version) == (other_store, None, 3)


# ---------------------------------------------------------------- retire


def test_a_retired_sensor_keeps_its_history_and_refuses_new_counts(operator_api, device_api, entrance):
    a_quarter_hour(device_api, "PAR01-E1")

    retired = operator_api.delete(f"{URL}/PAR01-E1")
    again = operator_api.delete(f"{URL}/PAR01-E1")
    late = a_quarter_hour(device_api, "PAR01-E1")

    assert retired.status_code == again.status_code == 204
    shown = operator_api.get(f"{URL}/PAR01-E1").json()
    assert (shown["is_active"], shown["version"]) == (False, 2)  # the second DELETE changed nothing
    assert late.json()["results"][0]["errors"][0]["code"] == "sensor_inactive"
    assert CountInterval.objects.filter(sensor=entrance).count() == 1
    assert CountDay.objects.filter(sensor=entrance).count() == 1


def test_a_conditional_retire_refuses_a_stale_etag(store_api, entrance):
    stale = store_api.delete(f"{URL}/PAR01-E1", HTTP_IF_MATCH=etag_for("sensor", entrance.pk, 7))
    current = store_api.delete(f"{URL}/PAR01-E1", **if_match(entrance))

    assert (stale.status_code, stale.json()["code"]) == (412, "precondition_failed")
    assert current.status_code == 204


def test_a_store_client_cannot_retire_another_stores_sensor(store_api, other_entrance):
    assert store_api.delete(f"{URL}/LYO01-E1").status_code == 404
    other_entrance.refresh_from_db()
    assert other_entrance.is_active


def test_a_replacement_takes_the_retired_sensors_device_and_its_counts(operator_api, device_api, entrance):
    # given the door's sensor retired and a new one on the same Xovis line
    operator_api.delete(f"{URL}/PAR01-E1")
    created = operator_api.post(
        URL, new_sensor(device_serial=entrance.device_serial, channel=entrance.channel), format="json"
    )
    assert created.status_code == 201, created.json()
    # when the device pushes
    response = device_api.post(XOVIS, xovis_push([xovis_record(START, 5, 1)]), format="json")
    # then the counts go to the active sensor
    assert response.json()["created"] == 1
    assert CountInterval.objects.get().sensor.code == "PAR01-E2"
    # and the retired sensor cannot come back while its line is taken
    back = operator_api.patch(f"{URL}/PAR01-E1", {"is_active": True}, format="json", **if_match(entrance))
    assert (back.status_code, back.json()["code"]) == (409, "sensor_device_taken")


def test_the_sensor_list_shows_retired_sensors_and_their_device(operator_api, entrance, device: ApiClient):
    sensor_update(sensor=entrance, expected_version=1, changes={"device": device, "is_active": False})

    listed = operator_api.get(URL).json()["results"]

    assert [(s["code"], s["is_active"], s["device"]) for s in listed] == [("PAR01-E1", False, device.client_id)]


def test_an_unknown_store_for_the_operator_is_422(operator_api, db):
    response = operator_api.post(URL, new_sensor(store="NOPE1"), format="json")

    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("store", "unknown_store")]


def test_a_sensor_may_be_set_up_before_its_store_opens(operator_api, store: Location):
    Location.objects.filter(pk=store.pk).update(is_active=False)

    assert operator_api.post(URL, new_sensor(), format="json").status_code == 201
    assert Sensor.objects.get(code="PAR01-E2").kind == SensorKind.ENTRANCE


def test_a_device_line_feeds_the_active_sensor_whichever_row_is_newer(operator_api, device_api, entrance):
    # given the line moved to a new sensor and back: the retired sensor is the newer row
    operator_api.delete(f"{URL}/PAR01-E1")
    line = {"device_serial": entrance.device_serial, "channel": entrance.channel}
    assert operator_api.post(URL, new_sensor(**line), format="json").status_code == 201
    operator_api.delete(f"{URL}/PAR01-E2")
    back = operator_api.patch(f"{URL}/PAR01-E1", {"is_active": True}, format="json", **if_match(entrance))
    assert back.status_code == 200, back.json()
    retired = Sensor.objects.get(code="PAR01-E2")
    renamed = operator_api.patch(f"{URL}/PAR01-E2", {"name": "Old side door"}, format="json", **if_match(retired))
    assert renamed.status_code == 200  # the retired row written last: the first a plain scan meets last
    # when the device pushes, then its counts go to the active sensor
    assert device_api.post(XOVIS, xovis_push([xovis_record(START, 5, 1)]), format="json").json()["created"] == 1
    assert CountInterval.objects.get().sensor.code == "PAR01-E1"
