"""Sensors as the stores' systems and the operator read them."""

from typing import Any

import pytest

from footfall.models import Sensor, SensorKind
from tests.factories import LocationFactory

URL = "/api/v1/footfall/sensors"


@pytest.mark.parametrize("page_size", [2, 10])
def test_the_sensor_list_runs_the_same_queries_whatever_the_page_size(
    operator_api, db, page_size, django_assert_num_queries: Any
):
    for n in range(10):
        store = LocationFactory.create()
        Sensor.objects.create(store=store, code=f"S{n}", name="Door", kind=SensorKind.ENTRANCE)
    operator_api.get(URL)  # warm the token and caller lookups' caches
    with django_assert_num_queries(2):  # the bearer token, then the page (store joined)
        response = operator_api.get(URL, {"page_size": page_size})
    assert len(response.json()["results"]) == page_size


def test_a_store_lists_and_reads_only_its_sensors(store_api, entrance, window, other_entrance):
    listed = store_api.get(URL).json()["results"]
    assert sorted(s["code"] for s in listed) == ["PAR01-E1", "PAR01-W1"]
    assert store_api.get(f"{URL}/PAR01-E1").json()["kind"] == "entrance"
    assert store_api.get(f"{URL}/LYO01-E1").status_code == 404


def test_sensor_filters(operator_api, entrance, window, other_entrance):
    assert [s["code"] for s in operator_api.get(URL, {"store": "PAR01", "kind": "window"}).json()["results"]] == [
        "PAR01-W1"
    ]
    assert operator_api.get(URL, {"kind": "door"}).status_code == 400
    assert operator_api.get(URL, {"updated_since": "2026-13-01T00:00:00Z"}).status_code == 400
