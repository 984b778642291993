"""Footfall's selectors raise its domain NotFound errors, never Django's
Http404, and clients see exactly the answer Http404 gave: 404 ``not_found``
with DRF's detail, in French and in English."""

import pytest
from django.http import Http404
from django.utils import translation
from rest_framework.test import APIRequestFactory

from footfall import selectors
from footfall.errors import AnomalyNotFound, NotFound, SensorNotFound, StoreNotFound
from gateway.api.errors import problem_exception_handler
from partners.callers import Caller
from partners.models import CallerKind
from tests.factories import api_as, make_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("error", [NotFound, StoreNotFound, SensorNotFound, AnomalyNotFound])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_domain_not_found_answers_as_http404_did(error: type[NotFound], language: str) -> None:
    # given the same absence raised as Django's Http404 (before) and as the domain error (now)
    request = APIRequestFactory().get("/api/v1/footfall/sensors/NOPE")
    with translation.override(language):
        # when both are answered
        before = problem_exception_handler(Http404(), {"request": request})
        now = problem_exception_handler(error(), {"request": request})
    # then the client cannot tell them apart
    assert before is not None
    assert now is not None
    assert before.status_code == now.status_code == 404
    assert before.data == now.data


def test_selectors_raise_domain_errors(store, other_entrance, device) -> None:
    # given a device of PAR01 and a store client of PAR01
    device_caller = Caller(client=device, scopes=frozenset())
    store_caller = Caller(client=make_client(CallerKind.STORE, store=store), scopes=frozenset())
    operator = Caller(client=make_client(CallerKind.OPERATOR), scopes=frozenset())
    # when they read what is not theirs, or the operator names no store, then footfall's own errors
    with pytest.raises(SensorNotFound):
        selectors.sensor_for_writing(caller=device_caller, code=other_entrance.code)
    with pytest.raises(SensorNotFound):
        selectors.sensor_get(caller=store_caller, code=other_entrance.code)
    with pytest.raises(StoreNotFound):
        selectors.store_for_reading(caller=store_caller, code=other_entrance.store.code)
    with pytest.raises(StoreNotFound):
        selectors.store_for_reading(caller=operator, code=None)
    with pytest.raises(AnomalyNotFound):
        selectors.anomaly_get(caller=operator, anomaly_id=424242)


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize(
    ("method", "path", "query"),
    [
        ("get", "/api/v1/footfall/sensors/LYO01-E1", {}),
        ("get", "/api/v1/footfall/anomalies/424242", {}),
        ("get", "/api/v1/footfall/kpis", {"store": "LYO01", "from": "2026-03-01", "to": "2026-03-02"}),
        ("get", "/api/v1/footfall/aggregates", {"store": "LYO01", "from": "2026-03-01", "to": "2026-03-02"}),
    ],
)
def test_the_api_answers_what_the_caller_may_not_see_as_before(store, other_entrance, language, method, path, query):
    # given a store client of PAR01 asking for Lyon's sensor, an unknown anomaly, Lyon's figures
    api = api_as(make_client(CallerKind.STORE, store=store))
    # when it asks
    response = getattr(api, method)(path, query, HTTP_ACCEPT_LANGUAGE=language)
    # then it gets the not-found problem Http404 gave, detail in its language
    with translation.override(language):
        expected = problem_exception_handler(Http404(), {"request": APIRequestFactory().get(path)})
    assert expected is not None
    body = response.json()
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
    assert {k: v for k, v in body.items() if k != "request_id"} == {
        k: v for k, v in expected.data.items() if k != "request_id"
    }


def test_a_device_posting_for_a_foreign_sensor_gets_the_same_404(device_api, other_entrance) -> None:
    response = device_api.post(
        "/api/v1/footfall/counts/axis?sensor=LYO01-E1", {"data": []}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 404
    assert (response.json()["code"], response.json()["detail"]) == ("not_found", "Not found.")
