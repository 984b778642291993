"""Locations: who creates which kind, validation of zones, coordinates and
opening hours, optimistic concurrency, visibility and lists."""

import pytest

from gateway.api.etag import etag_for
from inventory.models import Location, LocationKind
from tests.factories import LocationFactory
from tests.inventory.factories import problem

pytestmark = pytest.mark.django_db

WAREHOUSE = {
    "code": "ACME-WH2",
    "name": "Acme Lille",
    "kind": "warehouse",
    "city": "Lille",
    "latitude": "50.629250",
    "longitude": "3.057256",
    "time_zone": "Europe/Paris",
    "opening_hours": {"1": [["08:00", "12:00"], ["13:30", "18:00"]], "6": [["09:00", "24:00"]]},
    "lead_time_days": 2,
}


def etag_of(location: Location) -> str:
    location.refresh_from_db()
    return etag_for("location", location.pk, location.version)


def test_a_partner_creates_its_own_warehouse(network) -> None:
    response = network.api("partner_a").post("/api/v1/locations", WAREHOUSE, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["owner"], body["kind"], body["lead_time_days"]) == ("acme", "warehouse", 2)
    assert (body["latitude"], body["longitude"]) == (50.62925, 3.057256)
    assert response["Location"] == "/api/v1/locations/ACME-WH2"
    assert response["ETag"] == etag_of(Location.objects.get(code="ACME-WH2"))


def test_stores_are_the_retailers(network) -> None:
    by_partner = network.api("partner_a").post("/api/v1/locations", {**WAREHOUSE, "kind": "store"}, format="json")
    by_operator_for_partner = network.api("operator").post(
        "/api/v1/locations", {**WAREHOUSE, "kind": "store", "owner": "acme"}, format="json"
    )
    by_operator = network.api("operator").post(
        "/api/v1/locations", {**WAREHOUSE, "kind": "store", "click_and_collect": True}, format="json"
    )

    assert by_partner.status_code == by_operator_for_partner.status_code == 422
    assert problem(by_partner)["errors"][0]["field"] == "kind"
    assert (by_operator.status_code, by_operator.json()["owner"]) == (201, None)


def test_partner_stores_are_allowed_to_partners(network) -> None:
    response = network.api("partner_b").post(
        "/api/v1/locations", {**WAREHOUSE, "code": "FRESH-PS1", "kind": "partner_store"}, format="json"
    )

    assert (response.status_code, response.json()["owner"]) == (201, "fresh")


def test_codes_are_unique_network_wide(network) -> None:
    response = network.api("partner_a").post("/api/v1/locations", {**WAREHOUSE, "code": "PAR01"}, format="json")

    assert response.status_code == 409
    assert problem(response)["code"] == "location_code_taken"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time_zone": "Europe/Pariss"}, "time_zone"),
        ({"time_zone": "CET+1"}, "time_zone"),
        ({"latitude": "91"}, "latitude"),
        ({"longitude": "-180.5"}, "longitude"),
        ({"latitude": "48.1234567"}, "latitude"),
        ({"kind": "shop"}, "kind"),
        ({"code": "bad code"}, "code"),
        ({"lead_time_days": -1}, "lead_time_days"),
        ({"country": "France"}, "country"),
        ({"opening_hours": {"8": [["08:00", "12:00"]]}}, "opening_hours"),
        ({"opening_hours": {"1": [["12:00", "08:00"]]}}, "opening_hours"),
        ({"opening_hours": {"1": [["08:00", "13:00"], ["12:00", "18:00"]]}}, "opening_hours"),
        ({"opening_hours": {"1": [["8h", "12h"]]}}, "opening_hours"),
        ({"opening_hours": {"1": [["08:00", "25:00"]]}}, "opening_hours"),
        ({"opening_hours": {"1": "08:00-12:00"}}, "opening_hours"),
        ({"opening_hours": [["08:00", "12:00"]]}, "opening_hours"),
        ({"is_active": "maybe"}, "is_active"),
        ({"subdivision": "CA"}, "subdivision"),  # California is no region of France
        ({"country": "US", "subdivision": "ZZ"}, "subdivision"),
        ({"subdivision": 75}, "subdivision"),
    ],
)
def test_invalid_locations_are_422_naming_the_field(network, change: dict, field: str) -> None:
    response = network.api("partner_a").post("/api/v1/locations", {**WAREHOUSE, **change}, format="json")

    assert response.status_code == 422, response.content
    assert field in {e["field"] for e in problem(response)["errors"]}
    assert not Location.objects.filter(code=WAREHOUSE["code"]).exists()


def test_a_store_names_its_region_for_public_holidays(network) -> None:
    # given a Californian store, and a partner warehouse in Moselle (its own holidays)
    store = {**WAREHOUSE, "code": "SFO01", "kind": "store", "country": "US", "subdivision": "CA"}
    store |= {"time_zone": "America/Los_Angeles"}
    created = network.api("operator").post("/api/v1/locations", store, format="json")
    moselle = network.api("partner_a").post("/api/v1/locations", {**WAREHOUSE, "subdivision": "57"}, format="json")
    # then both are kept, and a country change that leaves the region behind is refused
    assert (created.status_code, created.json()["subdivision"]) == (201, "CA"), created.content
    assert (moselle.status_code, moselle.json()["subdivision"]) == (201, "57"), moselle.content
    tag = etag_of(Location.objects.get(code="SFO01"))
    url = "/api/v1/locations/SFO01"
    moved = network.api("operator").patch(url, {"country": "FR"}, format="json", HTTP_IF_MATCH=tag)
    assert moved.status_code == 422
    assert problem(moved)["errors"][0]["field"] == "subdivision"
    cleared = network.api("operator").patch(
        "/api/v1/locations/SFO01", {"country": "FR", "subdivision": ""}, format="json", HTTP_IF_MATCH=tag
    )
    assert (cleared.status_code, cleared.json()["subdivision"]) == (200, "")


def test_patch_with_if_match_and_the_immutable_fields(network) -> None:
    api = network.api("partner_a")
    url = "/api/v1/locations/ACME-WH1"
    tag = etag_of(network.warehouse_a)

    missing = api.patch(url, {"lead_time_days": 3}, format="json")
    changed = api.patch(url, {"lead_time_days": 3, "name": "Rungis"}, format="json", HTTP_IF_MATCH=tag)
    stale = api.patch(url, {"lead_time_days": 4}, format="json", HTTP_IF_MATCH=tag)
    immutable = api.patch(url, {"kind": "store"}, format="json", HTTP_IF_MATCH=etag_of(network.warehouse_a))

    assert missing.status_code == 428
    assert (changed.status_code, changed.json()["lead_time_days"], changed.json()["version"]) == (200, 3, 2)
    assert stale.status_code == 412
    assert immutable.status_code == 422


def test_visibility_of_locations(network) -> None:
    LocationFactory.create(code="OLD01", is_active=False)

    def codes(who: str) -> set[str]:
        return {loc["code"] for loc in network.api(who).get("/api/v1/locations?page_size=500").json()["results"]}

    stores = {"PAR01", "LYO01"}
    assert codes("operator") == stores | {"ACME-WH1", "FRESH-WH1", "OLD01"}
    assert codes("partner_a") == stores | {"ACME-WH1"}
    assert codes("partner_b") == stores | {"FRESH-WH1"}
    assert codes("shopper") == codes("store") == stores
    assert network.api("partner_b").get("/api/v1/locations/ACME-WH1").status_code == 404


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=warehouse", {"ACME-WH1", "FRESH-WH1"}),
        ("owner=retailer", {"PAR01", "LYO01"}),
        ("owner=fresh", {"FRESH-WH1"}),
        ("q=lyon", {"LYO01"}),
        ("q=par01", {"PAR01"}),
        ("click_and_collect=false", {"ACME-WH1", "FRESH-WH1"}),
    ],
)
def test_location_filters(network, query: str, expected: set[str]) -> None:
    results = network.api("operator").get(f"/api/v1/locations?{query}").json()["results"]

    assert {loc["code"] for loc in results} == expected


@pytest.mark.parametrize("query", ["kind=depot", "click_and_collect=perhaps", "updated_since=now"])
def test_bad_location_filters_are_400(network, query: str) -> None:
    response = network.api("operator").get(f"/api/v1/locations?{query}")

    assert response.status_code == 400
    assert problem(response)["code"] == "invalid_query_parameter"


@pytest.mark.parametrize("who", ["operator", "store"])
def test_the_location_list_runs_a_constant_number_of_queries(network, who: str, django_assert_num_queries) -> None:
    LocationFactory.create_batch(8)
    api = network.api(who)
    expected = 2 if who == "operator" else 3  # token, (the store client's binding), page
    with django_assert_num_queries(expected):
        api.get("/api/v1/locations?page_size=2")
    with django_assert_num_queries(expected):
        api.get("/api/v1/locations?page_size=500")


def test_detail_304(network) -> None:
    api = network.api("shopper")
    first = api.get("/api/v1/locations/PAR01")

    assert first.json()["kind"] == LocationKind.STORE
    assert api.get("/api/v1/locations/PAR01", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
