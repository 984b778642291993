"""GET /api/v1/events: tenant-scoped, cursor-paginated, filterable, constant
queries, and never skipping an event whose transaction commits late."""

import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from partners.models import CallerKind
from partners.services import NewEvent, event_record, events_record
from tests.factories import PartnerFactory, api_as, make_client


@pytest.fixture
def acme() -> Any:
    return make_client(CallerKind.PARTNER, partner=PartnerFactory.create())


def feed(api: Any, **params: Any) -> Any:
    response = api.get("/api/v1/events", params)
    assert response.status_code == 200, response.content
    return response.json()


def read_all(api: Any, **params: Any) -> list[dict[str, Any]]:
    page = feed(api, **params)
    seen = list(page["results"])
    while page["next"]:
        query = parse_qs(urlsplit(page["next"]).query)
        page = feed(api, **{k: v[0] for k, v in query.items()})
        seen += page["results"]
    return seen


@pytest.mark.django_db
def test_a_partner_reads_only_its_own_events_and_the_operator_reads_all(acme: Any) -> None:
    other = PartnerFactory.create()
    mine = event_record(type="stock.changed", payload={"sku": "A"}, partner_id=acme.partner_id, subject="stock:X:A")
    theirs = event_record(type="stock.changed", payload={"sku": "B"}, partner_id=other.pk)
    network = event_record(type="slots.released", payload={"store": "PAR01"})
    results = feed(api_as(acme))["results"]
    assert [e["id"] for e in results] == [mine.pk]
    assert results[0] | {"cursor": "", "timestamp": ""} == {
        "id": mine.pk,
        "cursor": "",
        "type": "stock.changed",
        "subject": "stock:X:A",
        "partner_id": acme.partner_id,
        "timestamp": "",
        "data": {"sku": "A"},
    }
    operator = api_as(make_client(CallerKind.OPERATOR))
    assert [e["id"] for e in feed(operator)["results"]] == [mine.pk, theirs.pk, network.pk]


@pytest.mark.django_db
def test_pages_follow_next_in_order_and_a_cursor_resumes(acme: Any) -> None:
    events = events_record(
        events=[NewEvent(type="stock.changed", payload={"n": n}, partner_id=acme.partner_id) for n in range(7)]
    )
    api = api_as(acme)
    first = feed(api, page_size=3)
    assert len(first["results"]) == 3
    assert first["next"] is not None
    assert first["previous"] is None
    assert [e["data"]["n"] for e in read_all(api, page_size=3)] == list(range(7))
    resumed = feed(api, after=first["results"][-1]["cursor"])
    assert [e["id"] for e in resumed["results"]] == [e.pk for e in events[3:]]
    assert resumed["next"] is None
    assert feed(api, after=resumed["results"][-1]["cursor"])["results"] == []


@pytest.mark.django_db
def test_the_type_filter_keeps_only_the_types_asked_and_survives_paging(acme: Any) -> None:
    events_record(
        events=[
            NewEvent(type=t, payload={"n": n}, partner_id=acme.partner_id)
            for n, t in enumerate(["stock.changed", "product.changed", "order.created"] * 3)
        ]
    )
    api = api_as(acme)
    assert {e["type"] for e in read_all(api, type="product.changed", page_size=1)} == {"product.changed"}
    assert len(read_all(api, type="product.changed,order.created", page_size=2)) == 6


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"after": "abc"}, "after"),
        ({"after": "1-"}, "after"),
        ({"after": "9999999999999999999-1"}, "after"),  # past PostgreSQL's bigint: no cursor of this feed
        ({"after": "1-9223372036854775808"}, "after"),
        ({"type": "stock.exploded"}, "type"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "501"}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(acme: Any, params: dict[str, str], field: str) -> None:
    response = api_as(acme).get("/api/v1/events", params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_query_parameter"
    assert response.json()["errors"][0]["field"] == field


@pytest.mark.django_db
def test_the_feed_runs_the_same_queries_whatever_the_page_size(acme: Any) -> None:
    events_record(
        events=[NewEvent(type="stock.changed", payload={"n": n}, partner_id=acme.partner_id) for n in range(60)]
    )
    api = api_as(acme)
    feed(api, page_size=1)  # warm the token
    counts = []
    for size in (2, 50):
        with CaptureQueriesContext(connection) as queries:
            assert len(feed(api, page_size=size)["results"]) == size
        counts.append(len(queries.captured_queries))
    # token, then the page itself
    assert counts == [counts[0], counts[0]]
    assert sum("partners_event" in q["sql"] for q in queries.captured_queries) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_an_event_committed_late_is_not_skipped_by_a_reader_already_past_later_events(acme: Any) -> None:
    # given a transaction that recorded an event and has not committed yet
    recorded, release = threading.Event(), threading.Event()
    slow_ids: list[int] = []

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                slow = event_record(type="stock.changed", payload={"who": "slow"}, partner_id=acme.partner_id)
                slow_ids.append(slow.pk)
                recorded.set()
                release.wait(10)
        finally:
            connection.close()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert recorded.wait(10)
    # and a later event that commits at once
    fast = event_record(type="stock.changed", payload={"who": "fast"}, partner_id=acme.partner_id)
    assert slow_ids[0] < fast.pk
    api = api_as(acme)
    try:
        # when a reader polls now: it does not get past the open transaction
        assert feed(api)["results"] == []
    finally:
        release.set()
        writer.join()
    # then once the slow one commits, the reader gets both, the slow one first (as soon as no
    # older write transaction runs anywhere on the server: other test sessions may share it)
    deadline = time.monotonic() + 20
    while not (results := feed(api)["results"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [e["data"]["who"] for e in results] == ["slow", "fast"]
