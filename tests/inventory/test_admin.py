"""The back office: ledger and levels are read only; a location or product
saved there goes through the services (version bump, product event)."""

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from inventory.models import Location, Product, StockLevel
from partners.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> Client:
    user = get_user_model().objects.create_superuser("admin", "admin@example.com", "admin-password-123")
    client = Client()
    client.force_login(user)
    return client


def test_every_inventory_page_opens(staff, network) -> None:
    level = StockLevel.objects.first()
    assert level is not None
    for path in [
        "/admin/inventory/location/",
        "/admin/inventory/product/",
        "/admin/inventory/stocklevel/",
        "/admin/inventory/stockmovement/",
        f"/admin/inventory/stocklevel/{level.pk}/change/",
        f"/admin/inventory/product/{network.product_a.pk}/change/",
    ]:
        assert staff.get(path).status_code == 200, path


def test_levels_and_movements_cannot_be_changed_there(staff, network) -> None:
    level = StockLevel.objects.get(location=network.store, product=network.retail_product)

    response = staff.post(f"/admin/inventory/stocklevel/{level.pk}/change/", {"on_hand": 999, "reserved": 0})

    assert response.status_code == 403
    level.refresh_from_db()
    assert level.on_hand == 30
    assert staff.get("/admin/inventory/stockmovement/add/").status_code == 403


def location_form(location: Location, **changes: Any) -> dict[str, Any]:
    """The admin's change form of ``location`` as a browser posts it, with ``changes``."""
    return {
        "code": location.code,
        "name": location.name,
        "kind": location.kind,
        "owner": location.owner_id or "",
        "address": "",
        "city": "",
        "postal_code": "",
        "country": "FR",
        "latitude": "48.856600",
        "longitude": "2.352200",
        "time_zone": "Europe/Paris",
        "opening_hours": json.dumps({}),
        "lead_time_days": location.lead_time_days,
        "is_active": "on",
        **changes,
    }


def test_a_location_saved_in_the_admin_bumps_its_version(staff, network) -> None:
    location = network.warehouse_a
    form = location_form(location, name="Renamed in the back office", lead_time_days=3)

    response = staff.post(f"/admin/inventory/location/{location.pk}/change/", form)

    assert response.status_code == 302, response.content[:2000]
    location.refresh_from_db()
    assert (location.name, location.lead_time_days, location.version) == ("Renamed in the back office", 3, 2)


def test_a_locations_code_and_kind_cannot_be_changed_in_the_admin(staff, network) -> None:
    """As through the API: the read cache's keys rely on a code naming one kind for good."""
    store = network.store
    form = location_form(store, code="RENAMED", kind="warehouse", click_and_collect="on")

    response = staff.post(f"/admin/inventory/location/{store.pk}/change/", form)

    assert response.status_code == 302, response.content[:2000]
    store.refresh_from_db()
    assert (store.code, store.kind) == ("PAR01", "store")
    page = staff.get(f"/admin/inventory/location/{store.pk}/change/").content.decode()
    assert 'name="kind"' not in page
    assert 'name="code"' not in page
    assert staff.get(f"/admin/inventory/location/{store.pk}/delete/").status_code == 403


def test_a_product_saved_in_the_admin_records_its_event(staff, network) -> None:
    product = network.product_a
    form = {
        "gtin": product.gtin,
        "brand": "Acme",
        "category": product.category,
        "price_amount": "3.10",
        "price_currency": "EUR",
        "name_fr": product.name_fr,
        "name_en": product.name_en,
        "description_fr": "",
        "description_en": "",
        "is_active": "on",
    }

    response = staff.post(f"/admin/inventory/product/{product.pk}/change/", form)

    assert response.status_code == 302, response.content[:2000]
    product = Product.objects.get(pk=product.pk)
    assert (product.brand, product.version) == ("Acme", 2)
    assert Event.objects.filter(
        type="product.changed", payload__change="updated", subject=f"product:{product.pk}"
    ).exists()
    assert Location.objects.filter(code="ACME-WH1").exists()
