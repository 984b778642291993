"""Exact stock: reads per location and per product, compare-and-swap sets and
idempotent delta adjustments, each change with its movement and event."""

import pytest

from gateway.api.etag import etag_for
from inventory.models import MovementReason, StockLevel, StockMovement
from partners.models import Event
from tests.factories import LocationFactory
from tests.inventory.factories import ProductFactory, problem, stock

pytestmark = pytest.mark.django_db

LEVEL_URL = "/api/v1/locations/ACME-WH1/stock/ACME-GRANOLA"


def level_of(network) -> StockLevel:
    return StockLevel.objects.get(location=network.warehouse_a, product=network.product_a)


def etag_of(level: StockLevel) -> str:
    level.refresh_from_db()
    return etag_for("stock", level.pk, level.version)


def movements(level: StockLevel) -> list[tuple[str, int, int, int]]:
    return list(
        StockMovement.objects.filter(stock_level=level)
        .order_by("id")
        .values_list("reason", "delta_on_hand", "delta_reserved", "on_hand_after")
    )


# ---------------------------------------------------------------- reads


def test_stock_at_a_location(network) -> None:
    body = network.api("store").get("/api/v1/locations/PAR01/stock").json()

    assert body["results"] == [
        {
            "sku": "MILK-1L",
            "product_id": network.retail_product.pk,
            "location": "PAR01",
            "on_hand": 30,
            "reserved": 2,
            "available": 28,
            "version": 3,
            "updated_at": body["results"][0]["updated_at"],
        }
    ]


def test_stock_of_a_product_shows_the_levels_the_caller_reads(network) -> None:
    def codes(who: str) -> list[str]:
        response = network.api(who).get(f"/api/v1/products/{network.retail_product.pk}/stock")
        return sorted(level["location"] for level in response.json()["results"])

    assert codes("operator") == ["LYO01", "PAR01"]
    assert codes("store") == ["PAR01"]


def test_level_detail_etag_and_304(network) -> None:
    api = network.api("partner_a")
    first = api.get(LEVEL_URL)

    assert first.json()["on_hand"] == 100
    assert first["ETag"] == etag_of(level_of(network))
    assert api.get(LEVEL_URL, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_a_level_not_held_is_404_while_the_product_exists(network) -> None:
    product = ProductFactory.create(owner=network.partner_a, sku="ACME-NEW")

    assert network.api("partner_a").get(f"/api/v1/locations/ACME-WH1/stock/{product.sku}").status_code == 404


@pytest.mark.parametrize("who", ["operator", "partner_a", "store"])
def test_stock_lists_run_a_constant_number_of_queries(network, who: str, django_assert_num_queries) -> None:
    code = "PAR01" if who == "store" else "ACME-WH1"
    location = network.store if who == "store" else network.warehouse_a
    owner = None if who == "store" else network.partner_a
    for product in ProductFactory.create_batch(6, owner=owner):
        stock(location, product, 3)
    api = network.api(who)
    expected = {"operator": 3, "partner_a": 3, "store": 4}[who]  # token, (binding), location, page
    with django_assert_num_queries(expected):
        api.get(f"/api/v1/locations/{code}/stock?page_size=2")
    with django_assert_num_queries(expected):
        api.get(f"/api/v1/locations/{code}/stock?page_size=500")


# ---------------------------------------------------------------- absolute set (compare-and-swap)


def test_a_set_needs_if_match_or_expected_on_hand(network) -> None:
    response = network.api("partner_a").put(LEVEL_URL, {"on_hand": 90}, format="json")

    assert response.status_code == 428
    assert level_of(network).on_hand == 100


def test_a_set_with_expected_on_hand_swaps_and_records_one_movement_and_event(network) -> None:
    level = level_of(network)
    response = network.api("partner_a").put(LEVEL_URL, {"on_hand": 90, "expected_on_hand": 100}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["on_hand"], response.json()["version"]) == (90, 3)
    assert response["ETag"] == etag_of(level)
    assert movements(level)[-1] == (MovementReason.ADJUSTMENT, -10, 0, 90)
    event = Event.objects.filter(type="stock.changed", subject="stock:ACME-WH1:ACME-GRANOLA").latest("id")
    assert event.partner_id == network.partner_a.pk
    assert (event.payload["on_hand"], event.payload["available"], event.payload["version"]) == (90, 90, 3)


def test_a_set_with_a_stale_expectation_is_412_and_changes_nothing(network) -> None:
    level = level_of(network)
    before = movements(level)
    response = network.api("partner_a").put(LEVEL_URL, {"on_hand": 90, "expected_on_hand": 99}, format="json")

    assert response.status_code == 412
    assert problem(response)["current"]["on_hand"] == 100
    assert level_of(network).on_hand == 100
    assert movements(level) == before


def test_a_set_with_if_match(network) -> None:
    api = network.api("partner_a")
    tag = etag_of(level_of(network))

    first = api.put(LEVEL_URL, {"on_hand": 80}, format="json", HTTP_IF_MATCH=tag)
    second = api.put(LEVEL_URL, {"on_hand": 70}, format="json", HTTP_IF_MATCH=tag)

    assert first.status_code == 200
    assert second.status_code == 412
    assert level_of(network).on_hand == 80


def test_a_set_below_reserved_is_409(network) -> None:
    response = network.api("store").put(
        "/api/v1/locations/PAR01/stock/MILK-1L", {"on_hand": 1, "expected_on_hand": 30}, format="json"
    )

    assert response.status_code == 409
    assert problem(response)["code"] == "below_reserved"
    assert StockLevel.objects.get(location=network.store, product=network.retail_product).on_hand == 30


def test_a_set_to_the_current_figure_records_nothing(network) -> None:
    level = level_of(network)
    before, events = movements(level), Event.objects.count()

    response = network.api("partner_a").put(LEVEL_URL, {"on_hand": 100, "expected_on_hand": 100}, format="json")

    assert response.status_code == 200
    assert movements(level) == before
    assert Event.objects.count() == events


def test_a_first_set_creates_the_level(network) -> None:
    product = ProductFactory.create(owner=network.partner_a, sku="ACME-NEW")
    url = f"/api/v1/locations/ACME-WH1/stock/{product.sku}"

    wrong = network.api("partner_a").put(url, {"on_hand": 12, "expected_on_hand": 5}, format="json")
    right = network.api("partner_a").put(url, {"on_hand": 12, "expected_on_hand": 0}, format="json")

    assert wrong.status_code == 412
    assert right.status_code == 200
    level = StockLevel.objects.get(location=network.warehouse_a, product=product)
    assert (level.on_hand, movements(level)) == (12, [(MovementReason.ADJUSTMENT, 12, 0, 12)])


def test_a_sku_names_the_location_owners_product(network) -> None:
    # the retailer and the partner may use the same SKU; at the partner's warehouse it is the partner's
    ProductFactory.create(sku="ACME-GRANOLA")
    response = network.api("operator").put(LEVEL_URL, {"on_hand": 7, "expected_on_hand": 100}, format="json")

    assert response.json()["product_id"] == network.product_a.pk
    assert network.api("operator").get("/api/v1/locations/PAR01/stock/FRESH-EGGS").status_code == 404


# ---------------------------------------------------------------- delta adjustments


def adjust(api, body: dict, key: str = "adj-1", url: str = LEVEL_URL + "/adjustments"):
    return api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_an_adjustment_needs_an_idempotency_key(network) -> None:
    response = network.api("partner_a").post(
        LEVEL_URL + "/adjustments", {"delta": 5, "reason": "adjustment"}, format="json"
    )

    assert response.status_code == 428
    assert problem(response)["code"] == "idempotency_key_required"


def test_an_adjustment_moves_on_hand_once_even_when_replayed(network) -> None:
    api = network.api("partner_a")
    level = level_of(network)

    first = adjust(api, {"delta": -3, "reason": "adjustment", "reference": "count:7"})
    replay = adjust(api, {"delta": -3, "reason": "adjustment", "reference": "count:7"})
    reused = adjust(api, {"delta": -4, "reason": "adjustment"})

    assert first.status_code == 200
    assert first.json()["on_hand"] == 97
    assert (replay.status_code, replay["Idempotent-Replayed"], replay.json()) == (200, "true", first.json())
    assert reused.status_code == 422
    assert level_of(network).on_hand == 97
    movement = StockMovement.objects.filter(stock_level=level).latest("id")
    assert (movement.delta_on_hand, movement.idempotency_key, movement.reference) == (-3, "adj-1", "count:7")
    assert movement.actor_id == network.clients["partner_a"].pk


def test_a_till_sale_and_a_return_at_the_store(network) -> None:
    api = network.api("store")
    url = "/api/v1/locations/PAR01/stock/MILK-1L/adjustments"

    sale = adjust(api, {"delta": -5, "reason": "sale"}, "sale-1", url)
    back = adjust(api, {"delta": 1, "reason": "return"}, "return-1", url)

    assert (sale.json()["on_hand"], back.json()["on_hand"], back.json()["reserved"]) == (25, 26, 2)


def test_an_adjustment_never_takes_reserved_units(network) -> None:
    response = adjust(
        network.api("store"), {"delta": -29, "reason": "sale"}, url="/api/v1/locations/PAR01/stock/MILK-1L/adjustments"
    )

    assert response.status_code == 409
    assert problem(response)["code"] == "insufficient_stock"
    assert StockLevel.objects.get(location=network.store, product=network.retail_product).on_hand == 30


@pytest.mark.parametrize(
    "body",
    [
        {"delta": 5, "reason": "sale"},
        {"delta": -5, "reason": "return"},
        {"delta": 0, "reason": "adjustment"},
        {"delta": 5, "reason": "reservation"},
        {"delta": 5, "reason": "sync"},
        {"delta": 1.5, "reason": "adjustment"},
        {"delta": 2**63, "reason": "adjustment"},
        {"delta": "5", "reason": "adjustment", "owner": "x"},
        {"reason": "adjustment"},
    ],
)
def test_bad_adjustments_are_422(network, body: dict) -> None:
    response = adjust(network.api("partner_a"), body)

    assert response.status_code == 422
    assert problem(response)["code"] == "validation_failed"
    assert level_of(network).on_hand == 100


def test_a_positive_adjustment_may_start_a_level_a_negative_one_may_not(network) -> None:
    product = ProductFactory.create(owner=network.partner_a, sku="ACME-NEW")
    url = f"/api/v1/locations/ACME-WH1/stock/{product.sku}/adjustments"

    down = adjust(network.api("partner_a"), {"delta": -1, "reason": "adjustment"}, "a", url)
    up = adjust(network.api("partner_a"), {"delta": 4, "reason": "return"}, "b", url)

    assert down.status_code == 409
    assert (up.status_code, up.json()["on_hand"]) == (200, 4)


def test_stock_of_another_store_is_404_for_a_store_client(network) -> None:
    LocationFactory.create(code="PAR02")
    response = network.api("store").get("/api/v1/locations/LYO01/stock")

    assert response.status_code == 404
    assert problem(response)["code"] == "not_found"


def test_a_first_set_to_zero_lists_the_product_at_zero(network) -> None:
    product = ProductFactory.create(owner=network.partner_a, sku="ACME-NEW")

    response = network.api("partner_a").put(
        f"/api/v1/locations/ACME-WH1/stock/{product.sku}", {"on_hand": 0, "expected_on_hand": 0}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["on_hand"], response.json()["version"]) == (0, 1)
    assert not StockMovement.objects.filter(stock_level__product=product).exists()
