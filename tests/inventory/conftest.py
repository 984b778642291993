"""A small network shared by the inventory tests: the retailer's stores, two
partners with their warehouses and products, and one client of every kind."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from inventory.models import Location, LocationKind, Product
from partners.models import ApiClient, CallerKind, Partner
from tests.factories import LocationFactory, PartnerFactory, UserFactory, api_as, make_client
from tests.inventory.factories import ProductFactory, stock


@dataclass
class Network:
    partner_a: Partner
    partner_b: Partner
    store: Location  # the store client's store (Paris)
    other_store: Location
    warehouse_a: Location
    warehouse_b: Location
    retail_product: Product
    product_a: Product
    product_b: Product
    clients: dict[str, ApiClient]
    shopper_user: Any

    def api(self, who: str, scopes: list[str] | None = None) -> APIClient:
        if who == "anonymous":
            return APIClient()
        user = self.shopper_user if who == "shopper" else None
        return api_as(self.clients[who], scopes=scopes, user=user)


@pytest.fixture
def network(db: Any) -> Network:
    partner_a = PartnerFactory.create(slug="acme", name="Acme Foods")
    partner_b = PartnerFactory.create(slug="fresh", name="Fresh Farm")
    store = LocationFactory.create(code="PAR01", name="Paris Bastille")
    other_store = LocationFactory.create(
        code="LYO01", name="Lyon Part-Dieu", latitude=Decimal("45.760600"), longitude=Decimal("4.859700")
    )
    warehouse_a = LocationFactory.create(
        code="ACME-WH1", kind=LocationKind.WAREHOUSE, owner=partner_a, click_and_collect=False, lead_time_days=2
    )
    warehouse_b = LocationFactory.create(
        code="FRESH-WH1", kind=LocationKind.WAREHOUSE, owner=partner_b, click_and_collect=False, lead_time_days=1
    )
    retail_product = ProductFactory.create(
        sku="MILK-1L", name_fr="Lait demi-écrémé 1 L", name_en="Semi-skimmed milk 1 L"
    )
    product_a = ProductFactory.create(owner=partner_a, sku="ACME-GRANOLA", name_fr="Granola", name_en="Granola")
    product_b = ProductFactory.create(
        owner=partner_b, sku="FRESH-EGGS", name_fr="Oeufs frais x6", name_en="Fresh eggs x6"
    )
    stock(store, retail_product, 30, reserved=2)
    stock(other_store, retail_product, 5)
    stock(warehouse_a, product_a, 100)
    stock(warehouse_b, product_b, 40)
    clients = {
        "operator": make_client(CallerKind.OPERATOR),
        "partner_a": make_client(CallerKind.PARTNER, partner=partner_a),
        "partner_b": make_client(CallerKind.PARTNER, partner=partner_b),
        "store": make_client(CallerKind.STORE, store=store),
        "device": make_client(CallerKind.DEVICE, store=store),
        "shopper": make_client(CallerKind.SHOPPER),
    }
    return Network(
        partner_a=partner_a,
        partner_b=partner_b,
        store=store,
        other_store=other_store,
        warehouse_a=warehouse_a,
        warehouse_b=warehouse_b,
        retail_product=retail_product,
        product_a=product_a,
        product_b=product_b,
        clients=clients,
        shopper_user=UserFactory.create(),
    )
