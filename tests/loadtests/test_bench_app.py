"""The lab stays outside production: its commands and the bare-DRF ceiling
exist only under the bench settings, and there they work as the benchmarks
use them."""

import datetime as dt
import json

import pytest
from django.core.management import call_command, get_commands
from django.test import Client
from django.urls import reverse

from commerce.models import Order, OrderStatus, PickupSlot
from footfall.models import CollectedOrderSale, SalesDay, SalesInterval, Sensor
from gateway.settings import bench, production
from inventory.models import Location, StockLevel
from partners.models import CallerKind
from tests.factories import api_as, make_client
from tests.gateway.test_errors import assert_problem

pytestmark = pytest.mark.django_db

LAB_COMMANDS = {
    "seed_bench_stock",
    "seed_midnight_release",
    "seed_collected_orders",
    "footfall_seed_bench",
    "reset_bench_database",
}


def test_production_knows_no_bench_commands_nor_routes() -> None:
    assert "loadtests" not in production.INSTALLED_APPS
    assert production.ROOT_URLCONF == "gateway.urls"
    assert not LAB_COMMANDS & set(get_commands())
    api = api_as(make_client(CallerKind.OPERATOR))

    assert_problem(api.get("/api/v1/bench/bare"), 404, "not_found")


def test_bench_settings_are_production_plus_the_lab() -> None:
    assert [*production.INSTALLED_APPS, "loadtests"] == bench.INSTALLED_APPS
    assert bench.ROOT_URLCONF == "loadtests.urls"
    assert bench.DEBUG is False


@pytest.mark.usefixtures("bench_settings")
def test_bench_settings_install_the_commands_and_the_ceiling_endpoint() -> None:
    assert {name: app for name, app in get_commands().items() if name in LAB_COMMANDS} == dict.fromkeys(
        LAB_COMMANDS, "loadtests"
    )
    reader = api_as(make_client(CallerKind.OPERATOR), scopes=["inventory:read"])

    response = reader.get("/api/v1/bench/bare")

    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok"}
    # the ceiling pays what every endpoint pays: authentication and the scope check
    assert_problem(Client().get("/api/v1/bench/bare"), 401, "not_authenticated")
    writer = api_as(make_client(CallerKind.OPERATOR), scopes=["inventory:write"])
    assert_problem(writer.get("/api/v1/bench/bare"), 403, "insufficient_scope")
    # the production routes and error handlers are all still there
    assert reverse("v1:bench-bare") == "/api/v1/bench/bare"
    assert reader.get(reverse("v1:location-list")).status_code == 200
    assert_problem(Client().get("/api/v1/nothing-here"), 404, "not_found")


@pytest.mark.usefixtures("bench_settings")
def test_footfall_seed_bench_seeds_stores_sensors_sales_and_collected_orders() -> None:
    call_command(
        "footfall_seed_bench", "--stores", "2", "--first-day", "2026-10-01", "--days", "2", "--collected-per-day", "3"
    )

    stores = Location.objects.filter(code__in=["BENCH0001", "BENCH0002"])
    assert stores.count() == 2
    assert Sensor.objects.filter(store__in=stores).count() == 4
    assert SalesInterval.objects.filter(store__in=stores).count() == 2 * 2 * 11  # stores x days x open hours
    # seed_collected_orders, called by name: 3 collected, 2 cancelled, 1 no-show per store and day
    orders = Order.objects.filter(store__in=stores)
    assert orders.count() == 2 * 2 * 6
    assert orders.filter(status=OrderStatus.COLLECTED).count() == 2 * 2 * 3
    assert CollectedOrderSale.objects.filter(store__in=stores).count() == 2 * 2 * 3
    days = {(row.store_id, row.day): row.tickets for row in SalesDay.objects.filter(store__in=stores)}
    assert set(days) == {(store.pk, dt.date(2026, 10, d)) for store in stores for d in (1, 2)}
    for (store_id, day), tickets in days.items():
        till = sum(
            SalesInterval.objects.filter(store_id=store_id, start__date__gte=day, start__date__lte=day).values_list(
                "tickets", flat=True
            )
        )
        assert tickets == till + 3


@pytest.mark.usefixtures("bench_settings")
def test_seed_midnight_release_writes_a_plan_the_load_test_can_follow(tmp_path) -> None:
    plan_path = tmp_path / "plan.json"

    call_command(
        "seed_midnight_release",
        "--shoppers",
        "4",
        "--stores",
        "1",
        "--products",
        "2",
        "--capacity",
        "5",
        "--release-in",
        "30",
        "--out",
        str(plan_path),
    )

    plan = json.loads(plan_path.read_text())
    assert len(plan["tokens"]) == len(set(plan["tokens"])) == 4
    (store,) = plan["stores"]
    assert len(store["product_ids"]) == 2
    assert StockLevel.objects.filter(location_id=store["id"], product_id__in=store["product_ids"]).count() == 2
    slots = PickupSlot.objects.filter(pk__in=store["slot_ids"])
    assert slots.count() == len(store["slot_ids"]) > 0
    assert {slot.capacity for slot in slots} == {5}
