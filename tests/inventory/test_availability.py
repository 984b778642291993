"""Network availability: stores near a point (distance order, radius,
click-and-collect only), the capped figures of others, and the day partner
stock reaches a store, in the store's time zone across DST changes."""

from decimal import Decimal

import pytest
from django.test import override_settings

from inventory.models import LocationKind
from tests.factories import LocationFactory
from tests.inventory.factories import ProductFactory, problem, stock

pytestmark = pytest.mark.django_db

# A point in central Paris; stores due north of it at known distances
# (one degree of latitude is 111.195 km on the IUGG mean sphere).
LAT, LNG = 48.8566, 2.3522


def north(km: float) -> Decimal:
    return Decimal(f"{LAT + km / 111.195:.6f}")


@pytest.fixture
def stores_near(network):
    """Stores at 1, 5 and 15 km holding ``network.retail_product``, and some that must never show."""
    near = {}
    for km, code in [(5, "N05"), (1, "N01"), (15, "N15")]:
        near[code] = LocationFactory.create(code=code, latitude=north(km), longitude=Decimal(str(LNG)))
        stock(near[code], network.retail_product, 40 + km)
    hidden = [
        LocationFactory.create(code="NOCC", latitude=north(2), longitude=Decimal(str(LNG)), click_and_collect=False),
        LocationFactory.create(code="SHUT", latitude=north(2), longitude=Decimal(str(LNG)), is_active=False),
        LocationFactory.create(code="EMPTY", latitude=north(3), longitude=Decimal(str(LNG))),
    ]
    for location in hidden[:2]:
        stock(location, network.retail_product, 10)
    stock(hidden[2], network.retail_product, 4, reserved=4)  # nothing available
    return near


def near(api, radius: float | None = None, **params):
    query = {"sku": "MILK-1L", "lat": LAT, "lng": LNG, **params}
    if radius is not None:
        query["radius_km"] = radius
    return api.get("/api/v1/availability", query)


def codes_of(response) -> list[str]:
    return [loc["code"] for loc in response.json()["results"][0]["locations"]]


def test_near_lists_click_and_collect_stores_with_stock_nearest_first(network, stores_near) -> None:
    response = near(network.api("shopper"), radius=10)

    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "near"
    # PAR01 of the network fixture sits on the point itself
    assert codes_of(response) == ["PAR01", "N01", "N05"]
    distances = [loc["distance_km"] for loc in body["results"][0]["locations"]]
    assert distances == sorted(distances)
    assert distances[0] == 0
    assert distances[1] == pytest.approx(1.0, abs=0.01)
    assert distances[2] == pytest.approx(5.0, abs=0.01)


def test_the_radius_bounds_the_answer(network, stores_near) -> None:
    assert codes_of(near(network.api("shopper"), radius=20)) == ["PAR01", "N01", "N05", "N15"]
    assert codes_of(near(network.api("shopper"), radius=0.5)) == ["PAR01"]
    assert codes_of(near(network.api("shopper"))) == ["PAR01", "N01", "N05"]  # default 10 km


def test_the_limit_keeps_the_nearest(network, stores_near) -> None:
    assert codes_of(near(network.api("shopper"), radius=20, limit=2)) == ["PAR01", "N01"]


def test_figures_of_others_are_capped_and_the_operator_sees_them_exact(network, stores_near) -> None:
    def figures(who: str) -> list[int]:
        return [loc["available"] for loc in near(network.api(who), radius=20).json()["results"][0]["locations"]]

    assert figures("operator") == [28, 41, 45, 55]
    assert figures("shopper") == figures("partner_a") == [20, 20, 20, 20]
    assert figures("store") == [28, 20, 20, 20]  # its own store exactly
    assert near(network.api("shopper")).json()["quantity_cap"] == 20
    assert near(network.api("operator")).json()["quantity_cap"] is None


@override_settings(AVAILABILITY_QUANTITY_CAP=50)
def test_the_cap_is_a_setting(network, stores_near) -> None:
    figures = [loc["available"] for loc in near(network.api("shopper"), radius=20).json()["results"][0]["locations"]]

    assert figures == [28, 41, 45, 50]


def test_several_skus_and_unknown_ones(network, stores_near) -> None:
    body = (
        network.api("shopper")
        .get("/api/v1/availability", {"sku": ["NOPE", "MILK-1L,ACME-GRANOLA"], "lat": LAT, "lng": LNG})
        .json()
    )

    assert [r["sku"] for r in body["results"]] == ["MILK-1L", "ACME-GRANOLA"]
    assert body["results"][1]["locations"] == []  # partner stock sits in a warehouse, not a store
    assert body["unknown_skus"] == ["NOPE"]


def test_names_follow_accept_language(network) -> None:
    api = network.api("shopper")
    query = {"sku": "MILK-1L", "store": "PAR01"}

    assert api.get("/api/v1/availability", query).json()["results"][0]["name"] == "Lait demi-écrémé 1 L"
    english = api.get("/api/v1/availability", query, HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["results"][0]["name"] == "Semi-skimmed milk 1 L"


@pytest.mark.parametrize(("who", "queries"), [("shopper", 2), ("operator", 2), ("store", 3)])
def test_near_runs_a_constant_number_of_queries(network, stores_near, who, queries, django_assert_num_queries) -> None:
    ProductFactory.create(sku="MORE-1")
    api = network.api(who)
    with django_assert_num_queries(queries):  # token, (store binding), one availability statement
        api.get("/api/v1/availability", {"sku": "MILK-1L", "lat": LAT, "lng": LNG})
    with django_assert_num_queries(queries):
        api.get("/api/v1/availability", {"sku": "MILK-1L,MORE-1,X,Y", "lat": LAT, "lng": LNG, "radius_km": 100})


# ---------------------------------------------------------------- at a store, with supply lead times


@pytest.fixture
def supply(network):
    """PAR01 opens Monday to Saturday; Acme's warehouse (lead 2 days) holds the granola."""
    network.store.opening_hours = {str(day): [["08:30", "20:30"]] for day in range(1, 7)}
    network.store.save(update_fields=["opening_hours"])
    return network


def at_store(api, at: str, sku: str = "ACME-GRANOLA", store: str = "PAR01"):
    return api.get("/api/v1/availability", {"sku": sku, "store": store, "at": at})


def supply_entry(response) -> dict:
    locations = response.json()["results"][0]["locations"]
    assert locations[0]["source"] == "store"
    return locations[1]


@pytest.mark.parametrize(
    ("at", "local_date", "delivery"),
    [
        # Friday morning: +2 days is Sunday, when the store is closed, so Monday
        ("2026-03-27T10:00:00Z", "2026-03-27", "2026-03-30"),
        # Saturday 23:30 UTC is already Sunday 00:30 in Paris (UTC+1, the night DST starts):
        # Sunday + 2 = Tuesday (a UTC date would give Monday)
        ("2026-03-28T23:30:00Z", "2026-03-29", "2026-03-31"),
        # Saturday 22:30 UTC in late October is Sunday 00:30 in Paris, still on summer time (UTC+2):
        # Tuesday (assuming winter's +1 would give Saturday 23:30, so Monday)
        ("2026-10-24T22:30:00Z", "2026-10-25", "2026-10-27"),
        # the next evening, back on UTC+1: Sunday 23:30 in Paris, so Tuesday again
        # (assuming summer's +2 would give Monday 00:30, so Wednesday)
        ("2026-10-25T22:30:00Z", "2026-10-25", "2026-10-27"),
        # an offset given by the client is honoured
        ("2026-03-29T01:30:00+02:00", "2026-03-29", "2026-03-31"),
    ],
)
def test_partner_stock_reaches_the_store_on_a_store_local_day(supply, at: str, local_date: str, delivery: str) -> None:
    response = at_store(supply.api("shopper"), at)

    assert response.status_code == 200, response.content
    assert response.json()["store"]["local_date"] == local_date
    entry = supply_entry(response)
    assert (entry["code"], entry["lead_time_days"], entry["available_on"]) == ("ACME-WH1", 2, delivery)


def test_a_store_in_another_zone_uses_its_own_calendar(network) -> None:
    LocationFactory.create(
        code="NYC01",
        time_zone="America/New_York",
        latitude=Decimal("40.712800"),
        longitude=Decimal("-74.006000"),
        opening_hours={},
    )
    # 04:30 UTC on 8 March 2026 is 23:30 on the 7th in New York (EST, before that night's DST start)
    response = at_store(network.api("shopper"), "2026-03-08T04:30:00Z", store="NYC01")

    assert response.json()["store"]["local_date"] == "2026-03-07"
    assert supply_entry(response)["available_on"] == "2026-03-09"


def test_the_store_itself_comes_first_even_without_stock(supply) -> None:
    locations = at_store(supply.api("operator"), "2026-03-27T10:00:00Z").json()["results"][0]["locations"]

    assert locations[0] == {
        "code": "PAR01",
        "name": "Paris Bastille",
        "kind": LocationKind.STORE,
        "source": "store",
        "available": 0,
        "lead_time_days": 0,
        "available_on": None,
    }
    assert locations[1]["available"] == 100


def test_supply_figures_are_capped_except_for_the_owner_and_the_operator(supply) -> None:
    def figure(who: str) -> int:
        return supply_entry(at_store(supply.api(who), "2026-03-27T10:00:00Z"))["available"]

    assert figure("operator") == figure("partner_a") == 100
    assert figure("partner_b") == figure("shopper") == figure("store") == 20


def test_the_stores_own_stock_at_the_store(supply) -> None:
    body = at_store(supply.api("store"), "2026-03-27T10:00:00Z", sku="MILK-1L").json()
    own = body["results"][0]["locations"][0]

    assert (own["code"], own["available"], own["available_on"]) == ("PAR01", 28, "2026-03-27")


def test_supply_excludes_stores_and_empty_warehouses(supply) -> None:
    empty = LocationFactory.create(code="ACME-WH9", kind=LocationKind.WAREHOUSE, owner=supply.partner_a)
    stock(empty, supply.product_a, 0)

    locations = at_store(supply.api("operator"), "2026-03-27T10:00:00Z").json()["results"][0]["locations"]

    assert [loc["code"] for loc in locations] == ["PAR01", "ACME-WH1"]


# ---------------------------------------------------------------- bad questions


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "sku"),
        ("sku=MILK-1L", "lat"),
        ("sku=MILK-1L&lat=48.8", "lat"),
        ("sku=MILK-1L&lat=91&lng=2", "lat"),
        ("sku=MILK-1L&lat=48&lng=nan", "lng"),
        ("sku=MILK-1L&lat=48&lng=inf", "lng"),
        ("sku=MILK-1L&lat=48&lng=2&radius_km=101", "radius_km"),
        ("sku=MILK-1L&lat=48&lng=2&radius_km=0", "radius_km"),
        ("sku=MILK-1L&lat=48&lng=2&limit=0", "limit"),
        ("sku=MILK-1L&store=PAR01&lat=48&lng=2", "store"),
        ("sku=MILK-1L&store=NOWHERE", "store"),
        ("sku=MILK-1L&store=ACME-WH1", "store"),
        ("sku=MILK-1L&store=PAR01&at=2026-03-29T10:00:00", "at"),
        ("sku=" + ",".join(f"S{i}" for i in range(51)) + "&store=PAR01", "sku"),
    ],
)
def test_bad_questions_are_400_naming_the_parameter(network, query: str, field: str) -> None:
    response = network.api("shopper").get(f"/api/v1/availability?{query}")

    assert response.status_code == 400
    assert problem(response)["code"] == "invalid_query_parameter"
    assert response.json()["errors"][0]["field"] == field
