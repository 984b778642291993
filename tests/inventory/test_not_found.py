"""Selectors raise inventory's domain NotFound errors, never Django's Http404,
and clients see exactly the answer Http404 gave: 404 ``not_found`` with
DRF's detail, in French and in English."""

import pytest
from django.http import Http404
from django.utils import translation
from rest_framework.test import APIRequestFactory

from gateway.api.errors import problem_exception_handler
from inventory.errors import LocationNotFound, NotFound, ProductNotFound, StockLevelNotFound
from inventory.selectors.locations import location_get, location_get_for_edit, stock_location_get
from inventory.selectors.products import product_get
from inventory.selectors.stock import product_at_location, stock_level_get, stock_levels_of_product
from partners.callers import Caller

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("error", [NotFound, ProductNotFound, LocationNotFound, StockLevelNotFound])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_domain_not_found_answers_as_http404_did(error: type[NotFound], language: str) -> None:
    # given the same absence raised as Django's Http404 (before) and as the domain error (now)
    request = APIRequestFactory().get("/api/v1/products/4242")
    with translation.override(language):
        # when both are answered
        before = problem_exception_handler(Http404(), {"request": request})
        now = problem_exception_handler(error(), {"request": request})
    # then the client cannot tell them apart
    assert before is not None
    assert now is not None
    assert before.status_code == now.status_code == 404
    assert before.data == now.data
    assert now.data["code"] == "not_found"


def _caller(network, who: str) -> Caller:
    return Caller(client=network.clients[who], scopes=frozenset())


@pytest.mark.parametrize(
    ("read", "error"),
    [
        (lambda n, c: product_get(caller=c, product_id=n.product_b.pk), ProductNotFound),
        (lambda n, c: location_get(caller=c, code=n.warehouse_b.code), LocationNotFound),
        (lambda n, c: location_get_for_edit(caller=c, code=n.store.code), LocationNotFound),
        (lambda n, c: stock_location_get(caller=c, code=n.store.code), LocationNotFound),
        (lambda n, c: product_at_location(location=n.warehouse_a, sku="NOPE"), ProductNotFound),
        (lambda n, c: stock_level_get(caller=c, code=n.warehouse_a.code, sku="ACME-GRANOLA-X"), ProductNotFound),
    ],
)
def test_selectors_raise_domain_errors_for_what_the_caller_may_not_see(network, read, error) -> None:
    # given partner A, who sees neither partner B's objects nor may edit the retailer's stores
    caller = _caller(network, "partner_a")
    # when it reads them, then the selector answers with inventory's own error
    with pytest.raises(error):
        read(network, caller)


def test_a_stock_level_not_held_is_a_stock_level_not_found(network) -> None:
    # given a product of partner A that its warehouse does not hold
    from tests.inventory.factories import ProductFactory

    ProductFactory.create(owner=network.partner_a, sku="ACME-UNHELD")
    # when partner A reads that level, then it does not exist
    with pytest.raises(StockLevelNotFound):
        stock_level_get(caller=_caller(network, "partner_a"), code=network.warehouse_a.code, sku="ACME-UNHELD")


def test_a_shopper_reads_no_exact_stock_of_a_product(network) -> None:
    with pytest.raises(NotFound):
        stock_levels_of_product(caller=_caller(network, "shopper"), product_id=network.retail_product.pk)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_api_answers_an_unseen_product_as_before(network, language: str) -> None:
    # given partner A asking for partner B's product
    api = network.api("partner_a")
    # when it asks
    response = api.get(f"/api/v1/products/{network.product_b.pk}", HTTP_ACCEPT_LANGUAGE=language)
    # then it gets the not-found problem Http404 gave, detail in its language
    request = APIRequestFactory().get(f"/api/v1/products/{network.product_b.pk}")
    with translation.override(language):
        expected = problem_exception_handler(Http404(), {"request": request})
    assert expected is not None
    body = response.json()
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
    assert {k: v for k, v in body.items() if k != "request_id"} == {
        k: v for k, v in expected.data.items() if k != "request_id"
    }
