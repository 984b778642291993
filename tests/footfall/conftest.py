"""Fixtures of the footfall tests: a Paris store with opening hours, its
sensors, a device client bound to it, and the operator."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from footfall.models import Sensor, SensorKind
from inventory.models import Location
from partners.models import ApiClient, CallerKind
from tests.factories import LocationFactory, api_as, make_client

OPENING_HOURS = {str(day): [["09:00", "20:00"]] for day in range(1, 7)}  # Monday to Saturday, closed on Sunday


@pytest.fixture
def store(db: Any) -> Location:
    return LocationFactory.create(code="PAR01", opening_hours=OPENING_HOURS, time_zone="Europe/Paris")


@pytest.fixture
def other_store(db: Any) -> Location:
    return LocationFactory.create(code="LYO01", opening_hours=OPENING_HOURS, time_zone="Europe/Paris")


@pytest.fixture
def entrance(store: Location) -> Sensor:
    return Sensor.objects.create(
        store=store,
        code="PAR01-E1",
        name="Main door",
        kind=SensorKind.ENTRANCE,
        device_serial="00:6E:02:01:A2:3F",
        channel="1000",
    )


@pytest.fixture
def window(store: Location) -> Sensor:
    return Sensor.objects.create(store=store, code="PAR01-W1", name="Shop window", kind=SensorKind.WINDOW)


@pytest.fixture
def other_entrance(other_store: Location) -> Sensor:
    return Sensor.objects.create(store=other_store, code="LYO01-E1", name="Door", kind=SensorKind.ENTRANCE)


@pytest.fixture
def device(store: Location) -> ApiClient:
    return make_client(CallerKind.DEVICE, store=store)


@pytest.fixture
def device_api(device: ApiClient) -> APIClient:
    return api_as(device)


@pytest.fixture
def operator_api(db: Any) -> APIClient:
    return api_as(make_client(CallerKind.OPERATOR))


@pytest.fixture
def store_api(store: Location) -> APIClient:
    return api_as(make_client(CallerKind.STORE, store=store))
