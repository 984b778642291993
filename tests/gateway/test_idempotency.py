"""Idempotency-Key: replay, reuse with another body, in-flight duplicates, 5xx."""

import datetime as dt
import json
import threading
import uuid
import zoneinfo
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils.translation import gettext_lazy
from rest_framework import serializers
from rest_framework.test import APIClient
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from gateway.api.encoding import answer_json
from gateway.api.models import IdempotencyRecord
from partners.models import CallerKind, Partner
from tests.factories import make_client, prepared_statements, token_for

URL = "/api/v1/test/slow-create"
pytestmark = pytest.mark.urls("tests.gateway.urls")


def client_for(token: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


@pytest.fixture
def token(db) -> str:
    return token_for(make_client(CallerKind.PARTNER))


@pytest.mark.django_db
def test_same_key_same_body_replays_the_first_outcome(token) -> None:
    api = client_for(token)
    first = api.post(URL, {"name": "Alpha", "count": 1}, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    second = api.post(URL, {"name": "Alpha", "count": 1}, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Partner.objects.filter(name="Alpha").count() == 1


@pytest.mark.django_db
def test_same_key_other_body_is_422(token) -> None:
    api = client_for(token)
    api.post(URL, {"name": "Alpha", "count": 1}, format="json", HTTP_IDEMPOTENCY_KEY="order-2")
    reused = api.post(URL, {"name": "Beta", "count": 1}, format="json", HTTP_IDEMPOTENCY_KEY="order-2")
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert not Partner.objects.filter(name="Beta").exists()


@pytest.mark.django_db
def test_keys_are_scoped_to_the_client(token) -> None:
    other = client_for(token_for(make_client(CallerKind.PARTNER)))
    client_for(token).post(URL, {"name": "Alpha", "count": 1}, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    response = other.post(URL, {"name": "Gamma", "count": 1}, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response


@pytest.mark.django_db
def test_a_validation_failure_is_stored_and_replayed(token) -> None:
    api = client_for(token)
    first = api.post(URL, {"name": "", "count": 1}, format="json", HTTP_IDEMPOTENCY_KEY="bad-1")
    again = api.post(URL, {"name": "", "count": 1}, format="json", HTTP_IDEMPOTENCY_KEY="bad-1")
    assert first.status_code == again.status_code == 422
    assert again["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "tab\tinside"])
def test_invalid_keys_are_400(token, key) -> None:
    response = client_for(token).post(URL, {"name": "A", "count": 1}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_invalid"


@pytest.mark.django_db
def test_required_key_missing_is_428(token) -> None:
    response = client_for(token).post(URL, {"name": "A", "count": 1}, format="json")
    assert response.status_code == 428
    assert response.json()["code"] == "idempotency_key_required"


@pytest.mark.django_db
def test_a_5xx_is_not_stored_and_its_effect_rolls_back(token) -> None:
    api = client_for(token)
    response = api.post("/api/v1/test/server-error", {}, format="json", HTTP_IDEMPOTENCY_KEY="fail-1")
    assert response.status_code == 503
    assert not IdempotencyRecord.objects.filter(key="fail-1").exists()
    assert not Partner.objects.filter(name="should-roll-back").exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_gets_409_then_replay(token) -> None:
    """Two real concurrent requests with one key, each thread on its own
    database connection: one runs, the other is told it is in flight."""
    key = str(uuid.uuid4())
    results: dict[str, Any] = {}
    barrier = threading.Barrier(2)

    def send(name: str, delay: str) -> None:
        barrier.wait()
        response = client_for(token).post(
            f"{URL}?delay={delay}", {"name": "Race", "count": 1}, format="json", HTTP_IDEMPOTENCY_KEY=key
        )
        results[name] = response
        connection.close()

    threads = [threading.Thread(target=send, args=(name, "1.0")) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status_code for r in results.values())
    assert statuses == [201, 409]
    conflict = next(r for r in results.values() if r.status_code == 409)
    assert conflict.json()["code"] == "idempotency_in_progress"
    assert conflict["Retry-After"] == "1"
    assert Partner.objects.filter(name="Race").count() == 1
    # after the first finished, the same request replays its outcome
    replay = client_for(token).post(
        f"{URL}?delay=1.0", {"name": "Race", "count": 1}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_a_reserialised_body_is_the_same_request(token) -> None:
    api = client_for(token)
    first = api.post(
        URL, data='{"name": "Delta", "count": 2}', content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-ser"
    )
    again = api.post(
        URL, data='{"count":2,"name":"Delta"}', content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-ser"
    )
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert Partner.objects.filter(name="Delta").count() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_duplicates_make_one_effect(token) -> None:
    key = str(uuid.uuid4())
    statuses: list[int] = []
    barrier = threading.Barrier(20)

    def send() -> None:
        barrier.wait()
        response = client_for(token).post(
            f"{URL}?delay=0.5", {"name": "Crowd", "count": 1}, format="json", HTTP_IDEMPOTENCY_KEY=key
        )
        statuses.append(response.status_code)
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}
    assert Partner.objects.filter(name="Crowd").count() == 1


def _prepare_keyed_writes(api: APIClient, *, prefix: str) -> set[str]:
    """Runs the keyed write often enough for the connection to prepare its statements; returns them."""
    for n in range(6):
        api.post(URL, {"name": f"{prefix} {n}", "count": 1}, format="json", HTTP_IDEMPOTENCY_KEY=f"{prefix}-{n}")
    prepared = prepared_statements()
    assert prepared
    return prepared


@pytest.mark.django_db
def test_a_reused_key_keeps_the_statements_the_connection_prepared(token) -> None:
    # given a connection that has run the keyed write often enough to prepare its statements
    api = client_for(token)
    prepared = _prepare_keyed_writes(api, prefix="prepared")
    # when a key comes back with another body
    reused = api.post(URL, {"name": "Other", "count": 1}, format="json", HTTP_IDEMPOTENCY_KEY="prepared-0")
    # then the 422 leaves them: its transaction wrote nothing and was not rolled back
    assert reused.status_code == 422
    assert prepared <= prepared_statements()


def _write_then_refuse_twice(api: APIClient, *, name: str, returned: bool) -> None:
    # given a handler that writes a partner and then refuses with a 409
    body = {"name": name, "returned": returned}
    # when it is called with a key, and again with the same key
    first = api.post("/api/v1/test/write-then-refuse", body, format="json", HTTP_IDEMPOTENCY_KEY=name)
    again = api.post("/api/v1/test/write-then-refuse", body, format="json", HTTP_IDEMPOTENCY_KEY=name)
    # then the refusal is stored and replayed, and the partner it wrote is gone
    assert first.status_code == again.status_code == 409
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert not Partner.objects.filter(name=name).exists()
    assert IdempotencyRecord.objects.filter(key=name).count() == 1


@pytest.mark.parametrize("returned", [False, True], ids=["raised", "returned"])
@pytest.mark.django_db(transaction=True)
def test_a_stored_4xx_keeps_nothing_the_handler_wrote_before_it(token, returned) -> None:
    _write_then_refuse_twice(client_for(token), name=f"half-done-{returned}", returned=returned)


@pytest.mark.django_db
def test_a_stored_4xx_keeps_nothing_written_inside_an_outer_transaction(token) -> None:
    _write_then_refuse_twice(client_for(token), name="half-done-nested", returned=False)


@pytest.mark.django_db(transaction=True)
def test_a_refusal_that_wrote_nothing_keeps_the_prepared_statements(token) -> None:
    # given a connection that has prepared the keyed write's statements
    api = client_for(token)
    prepared = _prepare_keyed_writes(api, prefix="eps")
    # when a new key gets a validation failure (nothing written before it)
    refused = api.post(URL, {"name": "", "count": 1}, format="json", HTTP_IDEMPOTENCY_KEY="eps-bad")
    # then it is stored without a rollback: the statements survive
    assert refused.status_code == 422
    assert IdempotencyRecord.objects.filter(key="eps-bad").exists()
    assert prepared <= prepared_statements()


def test_a_stored_answer_holds_the_values_drf_would_have_written() -> None:
    # given an answer's data with what DRF's encoder writes its own way: decimals, dates and times
    # (UTC and not), a lazy translation, ids, non-string keys, DRF's own containers
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    serializer: serializers.Serializer[Any] = (
        serializers.Serializer()
    )  # DRF's containers name the serializer that made them
    data = ReturnDict(
        {
            "amount": Decimal("12.50"),
            "at": dt.datetime(2026, 12, 7, 1, 2, 3, 456789, tzinfo=dt.UTC),
            "local": dt.datetime(2026, 12, 7, 9, 30, tzinfo=paris),
            "day": dt.date(2026, 12, 24),
            "opens": dt.time(8, 30),
            "id": uuid.UUID("0b6e5d1c-8f3e-4f8a-9a55-3c1f2b8d9e10"),
            "title": gettext_lazy("Service unavailable"),
            "counts": {7: 1, "x": [1.5, None, True]},
            "lines": ReturnList([{"sku": "MILK-1L", "quantity": 2}], serializer=serializer),
        },
        serializer=serializer,
    )
    # then what is stored (jsonb: the values, not the spacing) is what the json module with DRF's encoder gives
    assert json.loads(answer_json(data)) == json.loads(json.dumps(data, cls=JSONEncoder))
