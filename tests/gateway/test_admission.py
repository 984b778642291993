"""Admission control (gateway/api/admission.py): a request stamped by the
balancer that waited longer than its class's budget is answered 503
``overloaded`` with Retry-After, without touching the database or Redis;
probes are never shed, checkouts may wait longer than browsing, a busy caller
is shed first, a standing queue shortens the standard budget until a request
finds a thread at once, and stamps that are malformed, from the future or not
credible shed nothing."""

import time
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from gateway.api import admission, metrics
from gateway.api.admission import AdmissionMiddleware, QueueWatch, queue_wait, stamp_seconds
from gateway.api.problems import PROBLEM_CONTENT_TYPE
from partners.models import CallerKind
from tests.commerce.factories import idempotency_key, open_slot, shopper, stocked_product, store_with_schedule
from tests.factories import api_as, make_client

pytestmark = pytest.mark.django_db
ME = "/api/v1/partners/me"


@pytest.fixture(autouse=True)
def budgets(settings: Any) -> None:
    settings.ADMISSION_ENABLED = True
    settings.ADMISSION_WAIT_MS = 200
    settings.ADMISSION_CHECKOUT_WAIT_MS = 2000
    settings.ADMISSION_RETRY_AFTER_S = 3
    # The standing-queue budget no shorter than the standard one: the tests below that do not
    # test it send waits that would make a queue stand.
    settings.ADMISSION_STANDING_WAIT_MS = 200
    settings.ADMISSION_TARGET_MS = 25
    settings.ADMISSION_INTERVAL_MS = 100
    admission.QUEUE.reset()


def stamp(age_s: float) -> str:
    """What nginx sends (``t=${msec}``) for a request passed on ``age_s`` seconds ago."""
    return f"t={time.time() - age_s:.3f}"


def shed_count(kind: str, reason: str) -> float:
    return float(metrics.ADMISSION_SHED.labels(kind, reason)._value.get())


def test_a_request_that_waited_past_its_budget_is_shed_with_retry_after_and_no_query(
    django_assert_num_queries: Any, settings: Any
) -> None:
    # given a partner's client, and Redis out of reach (a shed must not need it)
    api = api_as(make_client(CallerKind.PARTNER))
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    before = shed_count("standard", "wait")
    # when its read reaches a thread half a second after the balancer passed it on
    with django_assert_num_queries(0):
        response = api.get(ME, HTTP_X_REQUEST_START=stamp(0.5), HTTP_X_REQUEST_ID="shed-1")
    # then it is answered at once: 503 overloaded, problem+json, with a jittered Retry-After
    assert response.status_code == 503
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    body = response.json()
    assert body["code"] == "overloaded"
    assert body["type"] == "/problems/overloaded"
    assert body["request_id"] == response["X-Request-ID"] == "shed-1"
    assert 3 <= int(response["Retry-After"]) <= 6
    assert body["retry_after"] == int(response["Retry-After"])
    assert response["Cache-Control"] == "no-store"
    assert "RateLimit" not in response  # the limiter was never asked
    # and counted by class and reason
    assert shed_count("standard", "wait") == before + 1


def test_a_shed_is_not_logged_as_a_server_error(caplog: Any) -> None:
    # one access line per request says it; an error line per shed would add to the overload
    api = api_as(make_client(CallerKind.PARTNER))
    with caplog.at_level("INFO"):
        assert api.get(ME, HTTP_X_REQUEST_START=stamp(0.5)).status_code == 503
    assert [record.status for record in caplog.records if record.name == "gateway.access"] == [503]
    assert not [record for record in caplog.records if record.name == "django.request"]


def test_the_overload_answer_is_in_french_by_default() -> None:
    api = api_as(make_client(CallerKind.PARTNER))
    body = api.get(ME, HTTP_X_REQUEST_START=stamp(0.5)).json()
    assert body["title"] == "Service surchargé, réessayez dans un instant"
    assert body["detail"].startswith("Le service est surchargé")


def test_a_fresh_request_passes() -> None:
    api = api_as(make_client(CallerKind.PARTNER))
    response = api.get(ME, HTTP_X_REQUEST_START=stamp(0.05))
    assert response.status_code == 200
    assert "RateLimit" in response
    assert api.get(ME, HTTP_X_REQUEST_START=stamp(0.5)).status_code == 503


def test_without_the_stamp_nothing_is_shed() -> None:
    api = api_as(make_client(CallerKind.PARTNER))
    assert api.get(ME, HTTP_X_REQUEST_START=stamp(5)).status_code == 503
    assert api.get(ME).status_code == 200


def test_switched_off_nothing_is_shed(settings: Any) -> None:
    api = api_as(make_client(CallerKind.PARTNER))
    assert api.get(ME, HTTP_X_REQUEST_START=stamp(5)).status_code == 503
    settings.ADMISSION_ENABLED = False
    assert api.get(ME, HTTP_X_REQUEST_START=stamp(5)).status_code == 200


@pytest.mark.parametrize("path", ["/health/live", "/health/ready", "/metrics"])
def test_probes_and_the_scrape_are_never_shed(client: Any, path: str) -> None:
    # a request as old as this is shed anywhere else
    assert api_as(make_client(CallerKind.PARTNER)).get(ME, HTTP_X_REQUEST_START=stamp(30)).status_code == 503
    response = client.get(path, HTTP_X_REQUEST_START=stamp(30))
    assert response.status_code == 200


def test_checkouts_may_wait_longer_than_browsing() -> None:
    # given a shopper with a basket for an open slot
    store = store_with_schedule()
    slot = open_slot(store, capacity=10)
    product = stocked_product(store, on_hand=10)
    api, _user = shopper()
    body = {"slot_id": slot.pk, "lines": [{"product_id": product.pk, "quantity": 1}]}
    late = stamp(1.0)  # past the browsing budget (0.2 s), within the checkout budget (2 s)
    # when browsing, a new hold and the order all waited a second for a thread
    browse = api.get("/api/v1/orders", HTTP_X_REQUEST_START=late)
    hold = api.post(
        "/api/v1/pickup-holds",
        {"slot_id": slot.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY=idempotency_key(),
        HTTP_X_REQUEST_START=late,
    )
    order = api.post(
        "/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY=idempotency_key(), HTTP_X_REQUEST_START=late
    )
    # then the reads and the hold (the start of a checkout) are shed, the order goes through
    assert (browse.status_code, browse.json()["code"]) == (503, "overloaded")
    assert (hold.status_code, hold.json()["code"]) == (503, "overloaded")
    assert order.status_code == 201, order.json()
    # and past the checkout budget the order is shed too
    again = api.post(
        "/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY=idempotency_key(), HTTP_X_REQUEST_START=stamp(3)
    )
    assert (again.status_code, again.json()["code"]) == (503, "overloaded")


def test_staff_status_changes_are_checkouts() -> None:
    request = RequestFactory().post("/api/v1/orders/7d8e9f00-0000-4000-8000-000000000000/status")
    assert admission.admission_class(request) == admission.CHECKOUT
    assert admission.admission_class(RequestFactory().get("/api/v1/orders")) == admission.STANDARD
    assert admission.admission_class(RequestFactory().post("/api/v1/stock/sync")) == admission.STANDARD
    assert admission.admission_class(RequestFactory().get("/no/such/path")) == admission.STANDARD
    assert admission.admission_class(RequestFactory().get("/health/ready")) == admission.NEVER


@pytest.mark.parametrize(
    "value",
    ["t=abc", "t=", "t=nan", "t=inf", "t=1e9", "t=-5", "t=1733470000.1234567", "t=" + "9" * 40, "1733470000123.5"],
)
def test_malformed_stamps_are_ignored(value: str) -> None:
    assert stamp_seconds(value) is None
    response = api_as(make_client(CallerKind.PARTNER)).get(ME, HTTP_X_REQUEST_START=value)
    assert response.status_code == 200


def test_milliseconds_and_microseconds_stamps_are_read_too() -> None:
    now = time.time()
    assert queue_wait(f"t={round((now - 0.5) * 1000)}", now) == pytest.approx(0.5, abs=0.002)
    assert queue_wait(f"{round((now - 0.5) * 1_000_000)}", now) == pytest.approx(0.5, abs=0.002)
    api = api_as(make_client(CallerKind.PARTNER))
    assert api.get(ME, HTTP_X_REQUEST_START=f"t={round((time.time() - 1) * 1000)}").status_code == 503


def test_a_stamp_from_the_future_counts_as_no_wait() -> None:
    # a clock a little ahead, or a forged stamp: clamped to 0, never a negative wait
    now = time.time()
    assert queue_wait(f"t={now + 3600:.3f}", now) == 0.0
    assert queue_wait(f"t={now + 0.02:.3f}", now) == 0.0
    response = api_as(make_client(CallerKind.PARTNER)).get(ME, HTTP_X_REQUEST_START=f"t={time.time() + 3600:.3f}")
    assert response.status_code == 200


def test_a_stamp_too_old_to_be_a_queue_is_ignored() -> None:
    # an hour: the balancer's clock is wrong; shedding everything would be an outage
    assert queue_wait(f"t={time.time() - 3600:.3f}", time.time()) is None
    assert queue_wait(f"t={time.time() - 200:.3f}", time.time()) == pytest.approx(200, abs=1)
    assert api_as(make_client(CallerKind.PARTNER)).get(ME, HTTP_X_REQUEST_START=stamp(3600)).status_code == 200


def _running_inside(inner: list[HttpResponse], request_for_inner: HttpRequest) -> AdmissionMiddleware:
    """Admission in front of a view that, while it runs, has admission take ``request_for_inner``
    (a second request arriving while the first holds a thread)."""
    nested = AdmissionMiddleware(lambda request: HttpResponse("inner"))

    def view(request: HttpRequest) -> HttpResponse:
        inner.append(nested(request_for_inner))
        return HttpResponse("outer")

    return AdmissionMiddleware(view)


def _stamped(authorization: str, age_s: float) -> HttpRequest:
    return RequestFactory().get(ME, HTTP_AUTHORIZATION=authorization, HTTP_X_REQUEST_START=stamp(age_s))


def test_a_caller_with_a_request_running_is_shed_first_once_the_queue_builds() -> None:
    before = shed_count("standard", "caller_busy")
    # given a caller whose request is running in this process
    inner: list[HttpResponse] = []
    # when another of its requests waited 0.15 s (past half the 0.2 s budget, within it)
    outer = _running_inside(inner, _stamped("Bearer greedy", 0.15))(_stamped("Bearer greedy", 0))
    # then that one is shed, the running one is not
    assert outer.status_code == 200
    assert inner[0].status_code == 503
    assert shed_count("standard", "caller_busy") == before + 1


def test_other_callers_and_short_waits_are_not_shed_for_a_busy_caller() -> None:
    inner: list[HttpResponse] = []
    _running_inside(inner, _stamped("Bearer someone-else", 0.15))(_stamped("Bearer greedy", 0))
    _running_inside(inner, _stamped("Bearer greedy", 0.05))(_stamped("Bearer greedy", 0))
    assert [response.status_code for response in inner] == [200, 200]
    # and once its request is done, the caller is not busy any more
    assert AdmissionMiddleware(lambda request: HttpResponse())(_stamped("Bearer greedy", 0.15)).status_code == 200
    assert admission.IN_FLIGHT.counts == {}


TARGET, INTERVAL = 0.025, 0.1


def fed(watch: QueueWatch, waits: list[tuple[float, float]]) -> list[bool]:
    """What the watch says after each (time taken, wait)."""
    return [watch.observe(wait, now, TARGET, INTERVAL) for now, wait in waits]


def test_a_queue_stands_once_every_request_of_an_interval_waited_past_the_target() -> None:
    watch = QueueWatch()
    # every request of the first interval (0 to 0.1 s) waited 40-90 ms: judged when it closes
    said = fed(watch, [(0.0, 0.04), (0.03, 0.09), (0.07, 0.05), (0.1, 0.06), (0.15, 0.08)])
    assert said == [False, False, False, True, True]


def test_a_burst_that_drains_is_not_a_standing_queue() -> None:
    watch = QueueWatch()
    # long waits, but one request of the interval found a thread at once
    said = fed(watch, [(0.0, 0.3), (0.02, 0.2), (0.05, 0.01), (0.08, 0.25), (0.1, 0.3), (0.15, 0.3)])
    assert said == [False] * 6


def test_the_first_request_under_the_target_ends_a_standing_queue() -> None:
    watch = QueueWatch()
    fed(watch, [(0.0, 0.05), (0.1, 0.05)])
    assert fed(watch, [(0.12, 0.06), (0.14, 0.02), (0.16, 0.06)]) == [True, False, False]
    # and the queue stands again only after a whole interval of long waits
    assert fed(watch, [(0.2, 0.06), (0.25, 0.06), (0.31, 0.06)]) == [False, False, True]


def test_an_idle_process_does_not_stand_on_an_old_interval() -> None:
    watch = QueueWatch()
    fed(watch, [(0.0, 0.05), (0.05, 0.05)])
    # the next request comes a second later, after a whole interval with none: nothing stood
    assert fed(watch, [(1.0, 0.05)]) == [False]


def test_while_the_queue_stands_a_standard_request_may_wait_only_the_standing_budget(settings: Any) -> None:
    settings.ADMISSION_WAIT_MS = 1000
    settings.ADMISSION_STANDING_WAIT_MS = 100
    api = api_as(make_client(CallerKind.PARTNER))
    before = shed_count("standard", "standing")
    # given a queue where every request waited 60 ms over a whole interval (0.1 s)
    assert api.get(ME, HTTP_X_REQUEST_START=stamp(0.06)).status_code == 200
    time.sleep(0.11)
    assert api.get(ME, HTTP_X_REQUEST_START=stamp(0.06)).status_code == 200
    assert admission.QUEUE.standing
    # when a read waited 0.3 s, within the standard budget (1 s), past the standing one (0.1 s)
    response = api.get(ME, HTTP_X_REQUEST_START=stamp(0.3))
    # then it is shed, counted as a standing-queue shed
    assert (response.status_code, response.json()["code"]) == (503, "overloaded")
    assert shed_count("standard", "standing") == before + 1
    # and once a request found a thread at once, the standard budget is back
    assert api.get(ME, HTTP_X_REQUEST_START=stamp(0.0)).status_code == 200
    assert api.get(ME, HTTP_X_REQUEST_START=stamp(0.3)).status_code == 200


def test_checkouts_keep_their_budget_while_the_queue_stands(settings: Any) -> None:
    settings.ADMISSION_STANDING_WAIT_MS = 100
    store = store_with_schedule()
    slot = open_slot(store, capacity=10)
    product = stocked_product(store, on_hand=10)
    api, _user = shopper()
    body = {"slot_id": slot.pk, "lines": [{"product_id": product.pk, "quantity": 1}]}
    now = time.monotonic()
    # given a queue that stood over a whole interval
    admission.QUEUE.observe(0.06, now - 0.11, TARGET, INTERVAL)
    assert admission.QUEUE.observe(0.06, now, TARGET, INTERVAL)
    # then an order that waited 0.5 s (past the standing budget, within the checkout one) is placed
    late = stamp(0.5)
    order = api.post(
        "/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY=idempotency_key(), HTTP_X_REQUEST_START=late
    )
    assert order.status_code == 201, order.json()
