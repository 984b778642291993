"""Fixtures of the click-and-collect tests: a store with a released slot,
stocked products, a shopper app and signed-in shoppers."""

from typing import Any

import pytest

from commerce.models import PickupSlot
from inventory.models import Location, Product
from partners.models import ApiClient, CallerKind
from tests.commerce.factories import open_slot, shopper, shopper_app, stocked_product, store_with_schedule
from tests.factories import api_as, make_client


@pytest.fixture
def store() -> Location:
    return store_with_schedule()


@pytest.fixture
def slot(store: Location) -> PickupSlot:
    return open_slot(store, capacity=5)


@pytest.fixture
def apples(store: Location) -> Product:
    return stocked_product(store, on_hand=20, price="0.45", name_fr="Pomme", name_en="Apple")


@pytest.fixture
def bread(store: Location) -> Product:
    return stocked_product(store, on_hand=5, price="1.35", name_fr="Pain", name_en="Bread")


@pytest.fixture
def app() -> ApiClient:
    return shopper_app()


@pytest.fixture
def alice(app: ApiClient) -> tuple[Any, Any]:
    return shopper(app)


@pytest.fixture
def bob(app: ApiClient) -> tuple[Any, Any]:
    return shopper(app)


@pytest.fixture
def store_client(store: Location) -> ApiClient:
    return make_client(CallerKind.STORE, store=store)


@pytest.fixture
def store_api(store_client: ApiClient) -> Any:
    return api_as(store_client)


@pytest.fixture
def operator_api() -> Any:
    return api_as(make_client(CallerKind.OPERATOR))
