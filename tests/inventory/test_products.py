"""Products: creation by owners, GTIN and price validation, optimistic
concurrency (ETag / If-Match / If-None-Match), languages, filters, pagination."""

import datetime as dt

import pytest
from django.utils import timezone

from gateway.api.etag import etag_for
from inventory.models import Product
from partners.models import Event
from tests.inventory.factories import ProductFactory, gtin13, problem

pytestmark = pytest.mark.django_db

NEW = {"sku": "ACME-MUESLI", "name_fr": "Muesli aux fruits", "price": {"amount": "3.20", "currency": "EUR"}}


def etag_of(product: Product) -> str:
    product.refresh_from_db()
    return etag_for("product", product.pk, product.version)


# ---------------------------------------------------------------- create


def test_a_partner_creates_its_own_product_and_the_event_goes_to_it(network) -> None:
    response = network.api("partner_a").post("/api/v1/products", NEW, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner"] == "acme"
    assert body["price"] == {"amount": "3.20", "currency": "EUR"}
    assert body["version"] == 1
    assert response["ETag"] == etag_for("product", body["id"], 1)
    assert response["Location"] == f"/api/v1/products/{body['id']}"
    event = Event.objects.filter(type="product.changed").latest("id")
    assert (event.partner_id, event.payload["sku"], event.payload["change"]) == (
        network.partner_a.pk,
        NEW["sku"],
        "created",
    )


def test_the_operator_creates_retailer_products_and_partner_products(network) -> None:
    api = network.api("operator")
    retail = api.post("/api/v1/products", NEW, format="json")
    for_partner = api.post("/api/v1/products", {**NEW, "owner": "fresh"}, format="json")
    unknown = api.post("/api/v1/products", {**NEW, "sku": "X-1", "owner": "nobody"}, format="json")

    assert (retail.status_code, retail.json()["owner"]) == (201, None)
    assert (for_partner.status_code, for_partner.json()["owner"]) == (201, "fresh")
    assert unknown.status_code == 422
    assert problem(unknown)["errors"][0]["field"] == "owner"


def test_a_partner_cannot_create_for_another_owner(network) -> None:
    response = network.api("partner_a").post("/api/v1/products", {**NEW, "owner": "fresh"}, format="json")

    assert response.status_code == 422
    assert problem(response)["errors"][0]["field"] == "owner"
    assert not Product.objects.filter(sku=NEW["sku"]).exists()


def test_skus_are_unique_per_owner_only(network) -> None:
    first = network.api("partner_a").post("/api/v1/products", NEW, format="json")
    again = network.api("partner_a").post("/api/v1/products", NEW, format="json")
    other_owner = network.api("partner_b").post("/api/v1/products", NEW, format="json")

    assert first.status_code == 201
    assert again.status_code == 409
    assert problem(again)["code"] == "sku_taken"
    assert other_owner.status_code == 201


@pytest.mark.parametrize(
    "gtin",
    [
        "96385074",  # GTIN-8 (EAN-8)
        "036000291452",  # GTIN-12 (UPC-A)
        "4006381333931",  # GTIN-13 (EAN-13)
        "00012345600012",  # GTIN-14
        "",  # no GTIN
    ],
)
def test_valid_gtins_are_accepted(network, gtin: str) -> None:
    response = network.api("partner_a").post("/api/v1/products", {**NEW, "gtin": gtin}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["gtin"] == gtin


@pytest.mark.parametrize(
    ("gtin", "code"),
    [
        ("4006381333932", "invalid_gtin_check_digit"),
        ("036000291453", "invalid_gtin_check_digit"),
        ("96385075", "invalid_gtin_check_digit"),
        ("12345", "invalid_gtin"),
        ("40063813339a1", "invalid_gtin"),
        ("40063813339", "invalid_gtin"),
    ],
)
def test_bad_gtins_are_422_with_a_field_error(network, gtin: str, code: str) -> None:
    response = network.api("partner_a").post("/api/v1/products", {**NEW, "gtin": gtin}, format="json")

    assert response.status_code == 422
    assert problem(response)["errors"] == [
        {"field": "gtin", "code": code, "message": response.json()["errors"][0]["message"]}
    ]


@pytest.mark.parametrize(
    "price",
    [
        {"amount": "1.005", "currency": "EUR"},
        {"amount": "-1.00", "currency": "EUR"},
        {"amount": "1.00", "currency": "USD"},
        {"amount": "1e400", "currency": "EUR"},
        {"amount": "NaN", "currency": "EUR"},
        {"amount": "10000000000.00", "currency": "EUR"},
        {"amount": "1.00"},
        "1.00",
    ],
)
def test_bad_prices_are_422(network, price) -> None:
    response = network.api("partner_a").post("/api/v1/products", {**NEW, "price": price}, format="json")

    assert response.status_code == 422
    assert problem(response)["errors"][0]["field"].startswith("price")


def test_unknown_fields_are_refused_not_ignored(network) -> None:
    response = network.api("partner_a").post("/api/v1/products", {**NEW, "version": 9}, format="json")

    assert response.status_code == 422
    assert problem(response)["errors"][0]["field"] == "version"


# ---------------------------------------------------------------- read


def test_detail_carries_an_etag_and_answers_304_to_if_none_match(network) -> None:
    api = network.api("shopper")
    url = f"/api/v1/products/{network.retail_product.pk}"
    first = api.get(url)
    again = api.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    stale = api.get(url, HTTP_IF_NONE_MATCH=etag_for("product", network.retail_product.pk, 99))

    assert first.status_code == 200
    assert first["ETag"] == etag_of(network.retail_product)
    assert (again.status_code, again.content) == (304, b"")
    assert again["ETag"] == first["ETag"]
    assert stale.status_code == 200


def test_names_follow_accept_language_french_by_default(network) -> None:
    api = network.api("shopper")
    url = f"/api/v1/products/{network.retail_product.pk}"
    french = api.get(url)
    english = api.get(url, HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")

    assert (french.json()["name"], french["Content-Language"]) == ("Lait demi-écrémé 1 L", "fr")
    assert (english.json()["name"], english["Content-Language"]) == ("Semi-skimmed milk 1 L", "en")
    assert english.json()["name_fr"] == "Lait demi-écrémé 1 L"


def test_english_falls_back_to_french_when_no_english_name(network) -> None:
    product = ProductFactory.create(name_fr="Baguette tradition", name_en="")

    body = network.api("shopper").get(f"/api/v1/products/{product.pk}", HTTP_ACCEPT_LANGUAGE="en").json()

    assert body["name"] == "Baguette tradition"


def test_lists_show_each_caller_its_catalogue(network) -> None:
    ProductFactory.create(sku="OLD-1", is_active=False)

    def skus(who: str) -> set[str]:
        return {p["sku"] for p in network.api(who).get("/api/v1/products").json()["results"]}

    assert skus("operator") == {"MILK-1L", "ACME-GRANOLA", "FRESH-EGGS", "OLD-1"}
    assert skus("partner_a") == {"ACME-GRANOLA"}
    assert skus("partner_b") == {"FRESH-EGGS"}
    assert skus("shopper") == skus("store") == {"MILK-1L", "ACME-GRANOLA", "FRESH-EGGS"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("category=dairy", {"MILK-1L"}),
        ("q=lait", {"MILK-1L"}),
        ("q=MILK", {"MILK-1L"}),
        ("q=oeufs", {"FRESH-EGGS"}),
        ("sku=ACME-GRANOLA", {"ACME-GRANOLA"}),
        ("owner=retailer", {"MILK-1L"}),
        ("owner=acme", {"ACME-GRANOLA"}),
    ],
)
def test_list_filters(network, query: str, expected: set[str]) -> None:
    Product.objects.filter(pk=network.retail_product.pk).update(category="dairy")

    results = network.api("operator").get(f"/api/v1/products?{query}").json()["results"]

    assert {p["sku"] for p in results} == expected


def test_gtin_filter(network) -> None:
    gtin = gtin13("376000099999")
    ProductFactory.create(sku="G-1", gtin=gtin)

    results = network.api("operator").get(f"/api/v1/products?gtin={gtin}").json()["results"]

    assert [p["sku"] for p in results] == ["G-1"]


def test_owner_filter_is_ignored_for_partners(network) -> None:
    results = network.api("partner_a").get("/api/v1/products?owner=fresh").json()["results"]

    assert [p["sku"] for p in results] == ["ACME-GRANOLA"]


def test_updated_since_returns_rows_changed_at_or_after(network) -> None:
    long_ago = timezone.now() - dt.timedelta(days=3)
    Product.objects.exclude(pk=network.product_a.pk).update(updated_at=long_ago)
    since = (timezone.now() - dt.timedelta(days=1)).astimezone(dt.timezone(dt.timedelta(hours=2))).isoformat()

    api = network.api("operator")
    encoded = api.get("/api/v1/products", {"updated_since": since})
    raw_plus = api.get(f"/api/v1/products?updated_since={since}")  # '+' unencoded arrives as a space

    assert {p["sku"] for p in encoded.json()["results"]} == {"ACME-GRANOLA"}
    assert {p["sku"] for p in raw_plus.json()["results"]} == {"ACME-GRANOLA"}


@pytest.mark.parametrize("value", ["yesterday", "2026-03-29T00:00:00", "2026-03-29", "2026-13-40T00:00:00Z"])
def test_bad_updated_since_is_400(network, value: str) -> None:
    response = network.api("operator").get("/api/v1/products", {"updated_since": value})

    assert response.status_code == 400
    assert problem(response)["code"] == "invalid_query_parameter"
    assert response.json()["errors"][0]["field"] == "updated_since"


def test_pagination_walks_every_product_once(network) -> None:
    ProductFactory.create_batch(7)
    api = network.api("operator")
    seen: list[int] = []
    url: str | None = "/api/v1/products?page_size=3"
    while url:
        body = api.get(url).json()
        assert len(body["results"]) <= 3
        seen.extend(p["id"] for p in body["results"])
        url = body["next"]

    assert sorted(seen) == sorted(Product.objects.values_list("id", flat=True))
    assert len(seen) == len(set(seen)) == 10


@pytest.mark.parametrize("who", ["operator", "partner_a", "shopper"])
def test_the_list_runs_a_constant_number_of_queries(network, who: str, django_assert_num_queries) -> None:
    ProductFactory.create_batch(12, owner=network.partner_a)
    api = network.api(who)
    with django_assert_num_queries(2):  # token, page
        small = api.get("/api/v1/products?page_size=2")
    with django_assert_num_queries(2):
        large = api.get("/api/v1/products?page_size=500")
    assert len(small.json()["results"]) == 2
    assert len(large.json()["results"]) > 2


# ---------------------------------------------------------------- update


def test_patch_needs_if_match(network) -> None:
    response = network.api("partner_a").patch(
        f"/api/v1/products/{network.product_a.pk}", {"name_fr": "Nouveau"}, format="json"
    )

    assert response.status_code == 428
    assert problem(response)["code"] == "precondition_required"


def test_patch_with_the_current_etag_changes_and_bumps_the_version(network) -> None:
    api = network.api("partner_a")
    url = f"/api/v1/products/{network.product_a.pk}"
    tag = etag_of(network.product_a)

    response = api.patch(
        url,
        {"name_en": "Crunchy granola", "price": {"amount": "5.10", "currency": "EUR"}},
        format="json",
        HTTP_IF_MATCH=tag,
    )
    stale = api.patch(url, {"name_fr": "Encore"}, format="json", HTTP_IF_MATCH=tag)

    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    assert response.json()["price"] == {"amount": "5.10", "currency": "EUR"}
    assert response["ETag"] == etag_of(network.product_a) != tag
    assert stale.status_code == 412
    assert problem(stale)["code"] == "precondition_failed"
    network.product_a.refresh_from_db()
    assert (network.product_a.name_en, network.product_a.name_fr) == ("Crunchy granola", "Granola")
    assert (
        Event.objects.filter(type="product.changed", payload__change="updated", partner=network.partner_a).count() == 1
    )


def test_weak_or_foreign_etags_do_not_match(network) -> None:
    api = network.api("partner_a")
    url = f"/api/v1/products/{network.product_a.pk}"
    current = etag_of(network.product_a)

    assert api.patch(url, {"brand": "x"}, format="json", HTTP_IF_MATCH="W/" + current).status_code == 412
    assert api.patch(url, {"brand": "x"}, format="json", HTTP_IF_MATCH='"product-1-v1x"').status_code == 412
    assert api.patch(url, {"brand": "x"}, format="json", HTTP_IF_MATCH="*").status_code == 200


def test_sku_and_owner_never_change(network) -> None:
    response = network.api("operator").patch(
        f"/api/v1/products/{network.product_a.pk}",
        {"sku": "NEW", "owner": None},
        format="json",
        HTTP_IF_MATCH=etag_of(network.product_a),
    )

    assert response.status_code == 422
    assert {e["field"] for e in problem(response)["errors"]} == {"sku", "owner"}


def test_a_partial_price_is_refused(network) -> None:
    response = network.api("partner_a").patch(
        f"/api/v1/products/{network.product_a.pk}",
        {"price": {"amount": "1.00"}},
        format="json",
        HTTP_IF_MATCH=etag_of(network.product_a),
    )

    assert response.status_code == 422


def test_only_the_operator_changes_the_retailers_products(network) -> None:
    url = f"/api/v1/products/{network.retail_product.pk}"
    tag = etag_of(network.retail_product)

    by_partner = network.api("partner_a").patch(url, {"brand": "X"}, format="json", HTTP_IF_MATCH=tag)
    by_operator = network.api("operator").patch(url, {"brand": "Y"}, format="json", HTTP_IF_MATCH=tag)

    assert by_partner.status_code == 404
    assert by_operator.status_code == 200
    network.retail_product.refresh_from_db()
    assert network.retail_product.brand == "Y"


def test_a_deactivated_product_leaves_the_shoppers_catalogue(network) -> None:
    url = f"/api/v1/products/{network.product_a.pk}"
    network.api("partner_a").patch(url, {"is_active": False}, format="json", HTTP_IF_MATCH=etag_of(network.product_a))

    assert network.api("shopper").get(url).status_code == 404
    assert network.api("partner_a").get(url).status_code == 200
