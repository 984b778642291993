"""The hot reads' cache (gateway/api/readcache.py) on availability and
products: 304 before any SQL, the next read after every kind of stock writer
shows the new figure, an operator's exact figure never reaches a shopper,
Redis away means computed answers (never a 5xx), and a new epoch retires
every cached answer and ETag.

Writes commit for real (transactional database): the version bumps run on
commit, as in production."""

from decimal import Decimal
from typing import Any

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from gateway.api import ratelimit, readcache
from inventory.models import Location, StockLevel
from inventory.services import stock_set
from partners.services.events import events_fan_out_pending
from tests.factories import LocationFactory
from tests.inventory.factories import stock

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("read_cache_on")]

AVAILABILITY = "/api/v1/availability"


def at_store(api: Any, sku: str = "MILK-1L", store: str = "PAR01", **headers: str) -> Any:
    return api.get(AVAILABILITY, {"sku": sku, "store": store}, **headers)


def near(api: Any, **headers: str) -> Any:
    return api.get(AVAILABILITY, {"sku": "MILK-1L", "lat": 48.8566, "lng": 2.3522}, **headers)


def own_figure(response: Any, code: str = "PAR01") -> int:
    locations = response.json()["results"][0]["locations"]
    return next(loc["available"] for loc in locations if loc["code"] == code)


def forget_answers() -> None:
    """Every process's answers gone, as READ_CACHE_SECONDS after they were computed: this
    process's LRU and the copies shared through Redis."""
    readcache.ANSWERS.clear()
    client = ratelimit.redis_client()
    for name in client.scan_iter(match="gateway:readcache:a:*"):
        client.delete(name)


def level(network: Any) -> StockLevel:
    return StockLevel.objects.get(location=network.store, product=network.retail_product)


@pytest.mark.usefixtures("token_cache")
def test_a_matching_if_none_match_is_answered_304_before_any_sql(network, settings) -> None:
    api = network.api("shopper")
    first = at_store(api)
    assert first.status_code == 200
    etag = first["ETag"]
    assert first["Cache-Control"] == "private, no-cache"
    at_store(api, HTTP_IF_NONE_MATCH=etag)  # the token is now in the process's cache

    with CaptureQueriesContext(connection) as queries:
        again = at_store(api, HTTP_IF_NONE_MATCH=etag)
        hit = at_store(api)

    assert again.status_code == 304
    assert again["ETag"] == etag
    assert again.content == b""
    assert hit.status_code == 200  # the process's cached answer
    assert hit.json() == first.json()
    assert len(queries) == 0, [q["sql"] for q in queries.captured_queries]


@pytest.mark.usefixtures("token_cache")
def test_an_answer_one_process_computed_is_served_by_another_without_sql(network) -> None:
    """Answers are shared through Redis: after a bump, the first process to compute a key
    serves the others (here, this process with its own LRU emptied), byte for byte."""
    api = network.api("shopper")
    first = at_store(api)
    at_store(api, HTTP_IF_NONE_MATCH=first["ETag"])  # the token is now in the process's cache
    readcache.ANSWERS.clear()  # another process: nothing of its own

    with CaptureQueriesContext(connection) as queries:
        shared = at_store(api)
    assert shared.status_code == 200
    assert shared.content == first.content
    assert shared["ETag"] == first["ETag"]
    assert len(queries) == 0, [q["sql"] for q in queries.captured_queries]


def test_a_shared_answer_is_never_served_after_a_change(network) -> None:
    api, operator = network.api("shopper"), network.api("operator")
    warm = at_store(operator)
    assert own_figure(warm) == 28
    changed = operator.put(
        "/api/v1/locations/PAR01/stock/MILK-1L", {"on_hand": 10, "expected_on_hand": 30}, format="json"
    )
    assert changed.status_code == 200, changed.content
    readcache.ANSWERS.clear()  # another process, which finds only the shared answers
    assert own_figure(at_store(operator)) == 8
    assert own_figure(at_store(api)) == 8


def test_without_the_shared_answers_another_process_computes_its_own(network, settings) -> None:
    """The control of the test above: the zero comes from the shared answer."""
    settings.READ_CACHE_SHARED = False
    api = network.api("operator")
    at_store(api)
    readcache.ANSWERS.clear()
    with CaptureQueriesContext(connection) as queries:
        assert at_store(api).status_code == 200
    assert len(queries) > 0


@pytest.mark.usefixtures("token_cache")
def test_without_the_cache_every_read_runs_its_query(network, settings) -> None:
    """The control of the test above: the zero comes from the cache."""
    settings.READ_CACHE_SECONDS = 0
    api = network.api("shopper")
    at_store(api)
    with CaptureQueriesContext(connection) as queries:
        assert at_store(api).status_code == 200
    assert len(queries) > 0


def test_a_stock_set_through_the_api_shows_on_the_next_read(network) -> None:
    api, store_api = network.api("shopper"), network.api("operator")
    before = at_store(store_api)
    assert own_figure(before) == 28
    assert own_figure(near(api)) == 20  # capped for the shopper

    changed = store_api.put(
        "/api/v1/locations/PAR01/stock/MILK-1L", {"on_hand": 7, "expected_on_hand": 30}, format="json"
    )
    assert changed.status_code == 200, changed.content

    after = at_store(store_api, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    assert own_figure(after) == 5
    assert own_figure(near(api)) == 5


def test_a_change_at_another_store_keeps_this_stores_answer_and_its_etag(network) -> None:
    """Answers at a store depend on the SKU there and at the supply
    locations: a sale in Lyon does not retire what Paris answered."""
    api = network.api("operator")
    paris = at_store(api)
    lyon = at_store(api, store="LYO01")
    assert own_figure(lyon, "LYO01") == 5
    changed = api.put("/api/v1/locations/LYO01/stock/MILK-1L", {"on_hand": 1, "expected_on_hand": 5}, format="json")
    assert changed.status_code == 200, changed.content

    assert at_store(api, HTTP_IF_NONE_MATCH=paris["ETag"]).status_code == 304
    after = at_store(api, store="LYO01", HTTP_IF_NONE_MATCH=lyon["ETag"])
    assert after.status_code == 200
    assert own_figure(after, "LYO01") == 1


def test_a_change_at_a_warehouse_shows_at_every_store_at_once(network) -> None:
    api = network.api("operator")
    answers = {code: at_store(api, sku="ACME-GRANOLA", store=code) for code in ("PAR01", "LYO01")}
    for answer in answers.values():
        assert own_figure(answer, "ACME-WH1") == 100
    changed = api.put(
        "/api/v1/locations/ACME-WH1/stock/ACME-GRANOLA", {"on_hand": 60, "expected_on_hand": 100}, format="json"
    )
    assert changed.status_code == 200, changed.content

    for code, answer in answers.items():
        after = at_store(api, sku="ACME-GRANOLA", store=code, HTTP_IF_NONE_MATCH=answer["ETag"])
        assert after.status_code == 200
        assert own_figure(after, "ACME-WH1") == 60


def test_a_change_at_a_warehouse_found_by_the_outbox_fan_out_shows_at_every_store(network) -> None:
    """The backstop of the test above: the keys of a warehouse's event, bumped again by the fan-out."""
    api = network.api("operator")
    warm = at_store(api, sku="ACME-GRANOLA")
    with transaction.atomic():
        stock_set(location=network.warehouse_a, product=network.product_a, on_hand=70)
        connection.run_on_commit = [entry for entry in connection.run_on_commit if entry[1] is not readcache._flush]
    assert own_figure(at_store(api, sku="ACME-GRANOLA"), "ACME-WH1") == 100  # nothing told the cache yet
    assert events_fan_out_pending().events >= 1
    after = at_store(api, sku="ACME-GRANOLA", HTTP_IF_NONE_MATCH=warm["ETag"])
    assert after.status_code == 200
    assert own_figure(after, "ACME-WH1") == 70


def test_an_adjustment_shows_on_the_next_read(network) -> None:
    api = network.api("operator")
    assert own_figure(at_store(api)) == 28
    response = api.post(
        "/api/v1/locations/PAR01/stock/MILK-1L/adjustments",
        {"delta": -20, "reason": "sale"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="adjust-read-cache",
    )
    assert response.status_code == 200, response.content
    assert own_figure(at_store(api)) == 8


def test_a_bulk_sync_shows_on_the_next_read(network) -> None:
    api = network.api("operator")
    warm = at_store(api)
    assert own_figure(warm) == 28
    response = api.post(
        "/api/v1/stock/sync",
        {"lines": [{"sku": "MILK-1L", "location": "PAR01", "on_hand": 3}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="sync-read-cache",
    )
    assert response.status_code == 200, response.content
    assert at_store(api, HTTP_IF_NONE_MATCH=warm["ETag"]).status_code == 200
    assert own_figure(at_store(api)) == 1


def deactivate(network: Any) -> None:
    """The operator deactivates the retailer's product (MILK-1L) through the API."""
    api = network.api("operator")
    product = api.get(f"/api/v1/products/{network.retail_product.pk}")
    changed = api.patch(
        f"/api/v1/products/{network.retail_product.pk}",
        {"is_active": False},
        format="json",
        HTTP_IF_MATCH=product["ETag"],
    )
    assert changed.status_code == 200, changed.content


def test_a_product_deactivated_leaves_availability_at_once(network) -> None:
    api = network.api("operator")
    assert at_store(api).json()["results"]
    deactivate(network)
    assert at_store(api).json()["results"] == []
    assert at_store(network.api("shopper")).json()["unknown_skus"] == ["MILK-1L"]


def test_a_store_closed_to_click_and_collect_leaves_near_answers_at_once(network) -> None:
    api = network.api("operator")
    assert [loc["code"] for loc in near(api).json()["results"][0]["locations"]] == ["PAR01"]
    current = api.get("/api/v1/locations/PAR01")
    changed = api.patch(
        "/api/v1/locations/PAR01", {"click_and_collect": False}, format="json", HTTP_IF_MATCH=current["ETag"]
    )
    assert changed.status_code == 200, changed.content
    assert near(api).json()["results"][0]["locations"] == []


def test_an_operators_exact_figure_is_never_served_to_a_shopper(network) -> None:
    level_row = level(network)
    level_row.on_hand, level_row.reserved = 500, 0
    level_row.save()
    operator, shopper = network.api("operator"), network.api("shopper")
    exact = at_store(operator)
    assert own_figure(exact) == 500
    # The shopper asks the very same question, even with the operator's ETag.
    capped = at_store(shopper, HTTP_IF_NONE_MATCH=exact["ETag"])
    assert capped.status_code == 200
    assert own_figure(capped) == 20
    assert capped["ETag"] != exact["ETag"]
    # and the store client sees its own store exactly, other stores capped
    store_view = at_store(network.api("store"))
    assert own_figure(store_view) == 500
    assert own_figure(at_store(shopper)) == 20


def test_a_partner_sees_its_products_from_its_own_cache(network) -> None:
    mine = network.api("partner_a").get(f"/api/v1/products/{network.product_a.pk}")
    assert mine.status_code == 200
    theirs = network.api("partner_b").get(f"/api/v1/products/{network.product_a.pk}", HTTP_IF_NONE_MATCH=mine["ETag"])
    assert theirs.status_code == 404  # never a 304 that would tell the product exists


@pytest.mark.usefixtures("token_cache")
def test_product_reads_keep_their_etag_and_revalidate(network, settings) -> None:
    api = network.api("shopper")
    url = f"/api/v1/products/{network.retail_product.pk}"
    first = api.get(url)
    assert first.status_code == 200
    assert first["ETag"] == f'"product-{network.retail_product.pk}-v{network.retail_product.version}"'
    assert first["Cache-Control"] == "private, max-age=30"
    with CaptureQueriesContext(connection) as queries:
        assert api.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert len(queries) == 0, [q["sql"] for q in queries.captured_queries]

    operator = network.api("operator")
    changed = operator.patch(url, {"name_fr": "Lait entier 1 L"}, format="json", HTTP_IF_MATCH=first["ETag"])
    assert changed.status_code == 200
    after = api.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200
    assert after.json()["name_fr"] == "Lait entier 1 L"
    assert after["ETag"] == changed["ETag"]


@pytest.mark.usefixtures("token_cache")
def test_a_product_revalidated_after_its_answer_left_the_lru_is_304_before_any_sql(network, settings) -> None:
    settings.AUTH_TOKEN_CACHE_SECONDS = 5
    api = network.api("shopper")
    url = f"/api/v1/products/{network.retail_product.pk}"
    first = api.get(url)
    api.get(url, HTTP_IF_NONE_MATCH=first["ETag"])  # the token is now in the process's cache
    forget_answers()  # as after READ_CACHE_SECONDS (15 s), shorter than max-age (30 s)
    with CaptureQueriesContext(connection) as queries:
        again = api.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]
    assert again["Cache-Control"] == "private, max-age=30"
    assert len(queries) == 0, [q["sql"] for q in queries.captured_queries]

    # A change of the product retires the ETag kept; deactivated, shoppers no longer see it.
    changed = network.api("operator").patch(url, {"is_active": False}, format="json", HTTP_IF_MATCH=first["ETag"])
    assert changed.status_code == 200, changed.content
    forget_answers()
    assert api.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 404


def test_one_bump_adds_one_to_each_key_named_once_however_many_keys() -> None:
    # given version keys as the apps name them (a store's level, a SKU, slots of a day), one of them bumped before
    keys = [readcache.sku_level_key("MILK-1L", "PAR01"), readcache.sku_key("MILK-1L"), "slots:7:2026-12-24"]
    keys += [readcache.sku_key(f"BULK-{n:05d}") for n in range(5000)]
    readcache.VERSIONS.bump([keys[0]])
    # when one call bumps them all, the first twice over
    readcache.VERSIONS.bump([*keys, keys[0]])
    # then each key went up by one in that call, the first twice in all, and no other key appeared
    values = readcache.VERSIONS.read(keys)
    assert values is not None
    assert values[1:] == ("2", "1", "1", *("1",) * 5000)
    stored = redis.Redis.from_url(settings.REDIS_URL).keys(readcache._PREFIX + "*")
    assert len(stored) == len(keys)


def test_a_bump_that_did_not_reach_redis_retires_every_answer_once_it_answers(network, monkeypatch) -> None:
    api = network.api("operator")
    warm = at_store(api)
    assert own_figure(warm) == 28

    original_client = ratelimit.redis_client

    class Down:
        def pipeline(self, **kwargs: Any) -> Any:
            raise redis.ConnectionError("down")

        def __getattr__(self, name: str) -> Any:
            raise redis.ConnectionError("down")

    # The stock change commits while Redis cannot be reached: its bump is lost.
    monkeypatch.setattr(readcache, "redis_client", lambda: Down())
    changed = api.put("/api/v1/locations/PAR01/stock/MILK-1L", {"on_hand": 4, "expected_on_hand": 30}, format="json")
    assert changed.status_code == 200
    assert readcache.VERSIONS._lost
    # Redis answers again: this process replaces the epoch first.
    monkeypatch.setattr(readcache, "redis_client", original_client)
    assert own_figure(at_store(api, HTTP_IF_NONE_MATCH=warm["ETag"])) == 2
    assert not readcache.VERSIONS._lost


def test_with_redis_unreachable_reads_answer_200_from_the_database(network, monkeypatch) -> None:
    api = network.api("shopper")
    warm = at_store(api)
    # A Redis that does not answer (a closed port, short timeouts as in production).
    monkeypatch.setattr(settings, "REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(ratelimit, "_client", None)
    level_row = level(network)
    level_row.on_hand = 12  # a change no bump reports
    level_row.save()
    try:
        answer = at_store(api, HTTP_IF_NONE_MATCH=warm["ETag"])
        assert answer.status_code == 200
        assert own_figure(answer) == 10
        assert "ETag" not in answer  # no version ETag without the versions
        product = api.get(f"/api/v1/products/{network.retail_product.pk}")
        assert product.status_code == 200
        assert product["ETag"]
    finally:
        ratelimit._client = None


def test_a_new_epoch_retires_every_cached_answer_and_etag(network) -> None:
    api = network.api("shopper")
    warm = at_store(api)
    assert at_store(api, HTTP_IF_NONE_MATCH=warm["ETag"]).status_code == 304
    level_row = level(network)
    level_row.on_hand = 12  # as after a bump lost with a process that died
    level_row.save()
    assert own_figure(at_store(api)) == 20  # still the cached answer: nothing told the cache
    redis.Redis.from_url(settings.REDIS_URL).delete(readcache.EPOCH)  # as a Redis restarted empty
    fresh = at_store(api, HTTP_IF_NONE_MATCH=warm["ETag"])
    assert fresh.status_code == 200
    assert own_figure(fresh) == 10
    assert fresh["ETag"] != warm["ETag"]


def test_the_last_unit_gone_leaves_near_answers_at_once(network) -> None:
    api = network.api("shopper")
    warm = near(api)
    assert [loc["code"] for loc in warm.json()["results"][0]["locations"]] == ["PAR01"]
    response = network.api("operator").put(
        "/api/v1/locations/PAR01/stock/MILK-1L", {"on_hand": 2, "expected_on_hand": 30}, format="json"
    )
    assert response.status_code == 200  # 2 on hand, 2 reserved: nothing left to sell
    after = near(api, HTTP_IF_NONE_MATCH=warm["ETag"])
    assert after.status_code == 200
    assert after.json()["results"][0]["locations"] == []


def test_the_outbox_fan_out_bumps_again_what_a_dead_process_did_not(network) -> None:
    api = network.api("operator")
    warm = at_store(api)
    assert own_figure(warm) == 28
    # A stock change commits, and its process dies before its own bump (the after-commit hook is dropped).
    with transaction.atomic():
        stock_set(location=network.store, product=network.retail_product, on_hand=9)
        connection.run_on_commit = [entry for entry in connection.run_on_commit if entry[1] is not readcache._flush]
    assert own_figure(at_store(api)) == 28  # nothing told the cache yet
    # The outbox fan-out (woken by the doorbell, or the sweep within 15 s) dispatches the event.
    assert events_fan_out_pending().events >= 1
    assert own_figure(at_store(api, HTTP_IF_NONE_MATCH=warm["ETag"])) == 7


def catalogue(api: Any, **headers: str) -> Any:
    return api.get("/api/v1/products", {"page_size": 50}, **headers)


def skus(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(row["sku"] for row in response.json()["results"])


@pytest.mark.usefixtures("token_cache")
def test_a_catalogue_page_is_answered_304_before_any_sql(network, settings) -> None:
    api = network.api("shopper")
    first = catalogue(api)
    assert first["Cache-Control"] == "private, max-age=30"
    catalogue(api, HTTP_IF_NONE_MATCH=first["ETag"])  # the token is now in the process's cache
    with CaptureQueriesContext(connection) as queries:
        again = catalogue(api, HTTP_IF_NONE_MATCH=first["ETag"])
        hit = catalogue(api)
    assert again.status_code == 304
    assert hit.json() == first.json()
    assert len(queries) == 0, [q["sql"] for q in queries.captured_queries]


def test_a_product_created_or_changed_shows_in_the_catalogue_at_once(network) -> None:
    shopper, operator = network.api("shopper"), network.api("operator")
    warm = catalogue(shopper)
    assert "ACME-GRANOLA" in skus(warm)
    created = operator.post(
        "/api/v1/products",
        {"sku": "BREAD-1", "name_fr": "Pain", "category": "bakery", "price": {"amount": "1.20", "currency": "EUR"}},
        format="json",
    )
    assert created.status_code == 201, created.content
    after = catalogue(shopper, HTTP_IF_NONE_MATCH=warm["ETag"])
    assert after.status_code == 200
    assert "BREAD-1" in skus(after)

    url = f"/api/v1/products/{network.product_a.pk}"
    etag = operator.get(url)["ETag"]
    assert operator.patch(url, {"is_active": False}, format="json", HTTP_IF_MATCH=etag).status_code == 200
    assert "ACME-GRANOLA" not in skus(catalogue(shopper))


def test_each_caller_class_has_its_own_catalogue_pages(network) -> None:
    assert skus(catalogue(network.api("partner_a"))) == ["ACME-GRANOLA"]
    assert skus(catalogue(network.api("partner_b"))) == ["FRESH-EGGS"]
    assert len(skus(catalogue(network.api("operator")))) == 3


def test_a_cached_page_links_to_the_host_it_was_asked_through(network) -> None:
    """A page's ``next`` is an absolute URL: an instance asked directly and
    through the balancer under another name keeps one answer per host."""
    api = network.api("operator")
    direct = api.get("/api/v1/products", {"page_size": 1}, HTTP_HOST="127.0.0.1")
    balanced = api.get("/api/v1/products", {"page_size": 1}, HTTP_HOST="localhost")
    assert direct.json()["next"].startswith("http://127.0.0.1/")
    assert balanced.json()["next"].startswith("http://localhost/")


# ---------------------------------------------------------------- near answers keyed by their reach


def near_two(api: Any, **headers: str) -> Any:
    """Near the Paris point, the two nearest stores holding the SKU."""
    return api.get(AVAILABILITY, {"sku": "MILK-1L", "lat": 48.8566, "lng": 2.3522, "limit": 2}, **headers)


def codes(response: Any) -> list[str]:
    return [loc["code"] for loc in response.json()["results"][0]["locations"]]


@pytest.fixture
def around_paris(network: Any) -> dict[str, Any]:
    """Around the point: PAR01 on it (28 available), an empty store 160 m away
    (in reach of the two nearest), NEAR1 380 m away (10), FAR1 2.6 km away (10):
    with ``limit=2`` the answer lists PAR01 and NEAR1, and its reach is the
    stores within 380 m."""
    made = {
        code: LocationFactory.create(code=code, latitude=Decimal(lat), longitude=Decimal("2.352200"))
        for code, lat in (("EMPTY1", "48.858000"), ("NEAR1", "48.860000"), ("FAR1", "48.880000"))
    }
    stock(made["NEAR1"], network.retail_product, 10)
    stock(made["FAR1"], network.retail_product, 10)
    return made


def asked_twice(api: Any, operator: Any) -> Any:
    """The question's first answer on a process is kept under the SKU's
    stock at every store; a sale far away retires it, and the second answer
    is kept under its reach (and taught to the other processes)."""
    near_two(api)
    set_level(operator, "FAR1", 9, 10)
    return near_two(api)


def set_level(api: Any, code: str, on_hand: int, expected: int) -> None:
    changed = api.put(
        f"/api/v1/locations/{code}/stock/MILK-1L", {"on_hand": on_hand, "expected_on_hand": expected}, format="json"
    )
    assert changed.status_code == 200, changed.content


@pytest.mark.usefixtures("token_cache", "around_paris")
def test_a_change_beyond_a_near_answers_reach_keeps_it_and_its_etag(network) -> None:
    """A sale at a store farther than the last one listed cannot change the
    answer: it is revalidated with no SQL. A sale at a store listed can."""
    api, operator = network.api("shopper"), network.api("operator")
    first = asked_twice(api, operator)
    assert codes(first) == ["PAR01", "NEAR1"]
    near_two(api, HTTP_IF_NONE_MATCH=first["ETag"])  # the token is now in the process's cache

    set_level(operator, "FAR1", 3, 9)
    with CaptureQueriesContext(connection) as queries:
        again = near_two(api, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert len(queries) == 0, [q["sql"] for q in queries.captured_queries]

    set_level(operator, "NEAR1", 4, 10)
    after = near_two(api, HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200
    assert own_figure(after, "NEAR1") == 4


@pytest.mark.usefixtures("around_paris")
def test_past_the_most_stores_a_reach_names_a_sale_anywhere_retires_the_answer(network, monkeypatch) -> None:
    """The control of the test above: with a reach too wide to name, the
    answer depends on the SKU's stock at every store."""
    from inventory.selectors import availability

    monkeypatch.setattr(availability, "REACH_MAX", 1)
    api, operator = network.api("shopper"), network.api("operator")
    first = asked_twice(api, operator)
    set_level(operator, "FAR1", 3, 9)
    assert near_two(api, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


@pytest.mark.usefixtures("around_paris")
def test_a_questions_first_answer_is_kept_under_the_skus_stock_at_every_store(network) -> None:
    """A question asked once (as most near a shopper's own position are)
    costs nothing to teach: its answer is kept under the SKU's stock at
    every store, which any sale retires."""
    api = network.api("shopper")
    first = near_two(api)
    set_level(network.api("operator"), "FAR1", 3, 10)
    assert near_two(api, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


@pytest.mark.usefixtures("token_cache", "around_paris")
def test_the_reach_one_process_learnt_lets_another_revalidate_without_sql(network) -> None:
    api = network.api("shopper")
    first = asked_twice(api, network.api("operator"))
    near_two(api, HTTP_IF_NONE_MATCH=first["ETag"])  # the token is now in the process's cache
    readcache.ANSWERS.clear()  # another process: nothing of its own
    readcache.LEARNED_KEYS.clear()
    with CaptureQueriesContext(connection) as queries:
        again = near_two(api, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert len(queries) == 0, [q["sql"] for q in queries.captured_queries]


@pytest.mark.usefixtures("token_cache", "around_paris")
def test_without_shared_answers_a_process_learns_the_reach_itself(network, settings) -> None:
    """The control of the test above: the reach came from the other process."""
    settings.READ_CACHE_SHARED = False
    api = network.api("shopper")
    first = asked_twice(api, network.api("operator"))
    near_two(api, HTTP_IF_NONE_MATCH=first["ETag"])
    readcache.ANSWERS.clear()
    readcache.LEARNED_KEYS.clear()
    with CaptureQueriesContext(connection) as queries:
        again = near_two(api, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200  # computed, kept under the SKU's stock at every store
    assert len(queries) > 0


@pytest.mark.usefixtures("around_paris")
def test_a_store_in_reach_that_had_no_stock_shows_once_it_has_some(network) -> None:
    """The reach counts the stores without stock: the empty store nearer than
    the last one listed enters the list the moment it holds the SKU."""
    api = network.api("shopper")
    first = near_two(api)
    assert codes(first) == ["PAR01", "NEAR1"]
    set_level(network.api("operator"), "EMPTY1", 6, 0)
    after = near_two(api, HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200
    assert codes(after) == ["PAR01", "EMPTY1"]


@pytest.mark.usefixtures("around_paris")
def test_with_fewer_stores_than_the_limit_the_reach_is_the_radius(network) -> None:
    api = network.api("shopper")
    edge = LocationFactory.create(code="EDGE1", latitude=Decimal("48.920000"), longitude=Decimal("2.352200"))
    first = near(api)  # limit 10, radius 10 km: three stores listed, so every store within 10 km is in reach
    assert codes(first) == ["PAR01", "NEAR1", "FAR1"]
    stock(edge, network.retail_product, 2)  # 7 km away, within the radius
    after = near(api, HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200
    assert codes(after) == ["PAR01", "NEAR1", "FAR1", "EDGE1"]


@pytest.mark.parametrize("seen_before", [False, True], ids=["first-answer", "reach-changed"])
@pytest.mark.usefixtures("around_paris")
def test_a_change_committed_while_a_near_answer_is_computed_is_not_hidden(network, monkeypatch, seen_before) -> None:
    """A sale commits (and bumps) after the query read the stock but before
    the answer is kept. Kept under its keys with versions read after the
    sale, the answer would hide it. The question's first answer is kept
    under the SKU's stock at every store, with the versions read before the
    query; a later one whose reach changed (a store nearer than the last
    listed got stock) is given but not kept. Either way the next read shows
    the sale."""
    from inventory.api.v1.views import availability as view

    real = view.availability_near
    empty = Location.objects.get(code="EMPTY1")
    racing_now: list[bool] = []
    raced: list[bool] = []

    def racing(**kwargs: Any) -> Any:
        answer = real(**kwargs)
        if racing_now and not raced:
            raced.append(True)
            stock(empty, network.retail_product, 2)
        return answer

    monkeypatch.setattr(view, "availability_near", racing)
    api, operator = network.api("shopper"), network.api("operator")
    if seen_before:
        asked_twice(api, operator)  # learnt: PAR01, EMPTY1 and NEAR1 in reach
    set_level(operator, "EMPTY1", 6, 0)  # listed second: the reach is PAR01 and EMPTY1
    racing_now.append(True)
    assert own_figure(near_two(api), "EMPTY1") == 6  # read before the sale
    assert raced
    assert own_figure(near_two(api), "EMPTY1") == 2


@pytest.mark.usefixtures("around_paris")
def test_a_product_deactivated_leaves_near_answers_at_once(network) -> None:
    api = network.api("shopper")
    assert codes(near_two(api)) == ["PAR01", "NEAR1"]
    deactivate(network)
    assert near_two(api).json()["unknown_skus"] == ["MILK-1L"]
