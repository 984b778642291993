"""The events feed writes its rows by hand (partners/api/v1/webhook_serializers.py
``event_rows``, from the rows ``events_feed`` reads) while ``EventOutput`` stays the contract the schema is
generated from: the two are held equal here, key for key and in order, for
events of a partner and of the network (no partner), with and without a
subject, payloads of every JSON kind, and instants with and without a
fraction of a second. The feed's ``next`` resumes at the last event shown."""

import datetime as dt
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from partners.api.v1.webhook_serializers import EventOutput, event_rows
from partners.callers import Caller
from partners.models import CallerKind, Event
from partners.selectors import events_feed
from partners.services import NewEvent, events_record
from tests.factories import PartnerFactory, api_as, make_client

pytestmark = pytest.mark.django_db


def test_the_hand_written_rows_are_the_serializers() -> None:
    partner = PartnerFactory.create()
    recorded = events_record(
        events=[
            NewEvent(
                type="stock.changed", payload={"sku": "A", "on_hand": 3}, partner_id=partner.pk, subject="stock:X:A"
            ),
            NewEvent(type="slots.released", payload={"store": "PAR01", "days": ["2026-12-05"], "note": None}),
            NewEvent(type="order.created", payload={"total": {"amount": "1.50"}, "ratio": 0.25, "ok": True, "n": "é"}),
            NewEvent(type="product.changed", payload={}, partner_id=partner.pk),
        ]
    )
    now = timezone.now().replace(microsecond=0)
    Event.objects.filter(pk=recorded[0].pk).update(created_at=now + dt.timedelta(microseconds=250_000))
    Event.objects.filter(pk=recorded[1].pk).update(created_at=now)
    events = Event.objects.filter(pk__in=recorded.ids).order_by("txid", "id")
    expected = json.loads(json.dumps(EventOutput(events, many=True).data))
    operator = Caller(client=make_client(CallerKind.OPERATOR), scopes=frozenset())
    feed = events_feed(caller=operator, after=None, types=[], limit=10)
    rows = json.loads(json.dumps(event_rows(feed)))
    assert len(rows) == 4
    assert rows == expected
    assert [list(row) for row in rows] == [list(row) for row in expected]  # the same keys in the same order
    assert [list(row["data"]) for row in rows] == [list(row["data"]) for row in expected]
    assert {row["partner_id"] for row in rows} == {partner.pk, None}
    assert rows[0]["timestamp"].endswith(".250000Z")
    assert rows[1]["timestamp"] == now.isoformat().replace("+00:00", "Z")


def test_next_resumes_after_the_last_event_of_the_page() -> None:
    recorded = events_record(events=[NewEvent(type="stock.changed", payload={"n": n}) for n in range(5)])
    api: Any = api_as(make_client(CallerKind.OPERATOR))
    first = api.get("/api/v1/events", {"page_size": 2}).json()
    query = parse_qs(urlsplit(first["next"]).query)
    assert query == {"after": [first["results"][-1]["cursor"]], "page_size": ["2"]}
    rest = api.get("/api/v1/events", {"after": query["after"][0]}).json()
    assert [e["id"] for e in first["results"] + rest["results"]] == list(recorded.ids)
    assert rest["next"] is None
