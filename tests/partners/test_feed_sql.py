"""The events feed reads a page with one plain statement (partners/sql.py
``EVENTS_FEED_PAGE``, through ``partners.selectors.events_feed``); the
querysets ``events_visible_to`` and ``events_in_feed_order`` stay the rule it
writes out. The two are held equal here, row for row and in order, on events
of several partners and of the network, of types filtered and not, in
transactions long ended, in the reader's own and in one still running (the
late-commit rule), read from the start and from every position (the middle
of a txid among them), with pages cut short, for the operator, a partner,
a partner without events and callers who are neither."""

import datetime as dt
from itertools import product
from typing import Any

import pytest
from django.db import connection

from gateway.api.instants import instant_text, instant_text_of_json
from partners.api.v1.webhook_serializers import EVENT_ROW
from partners.callers import Caller
from partners.models import CallerKind, Event
from partners.selectors import FeedPosition, events_feed, events_in_feed_order, events_visible_to
from partners.services import NewEvent, events_record
from tests.factories import PartnerFactory, make_client

pytestmark = pytest.mark.django_db

TYPE_FILTERS: list[list[str]] = [[], ["stock.changed"], ["order.created", "slots.released"], ["product.changed"]]


def caller_of(kind: str, **kwargs: Any) -> Caller:
    return Caller(client=make_client(kind, **kwargs), scopes=frozenset())


def by_orm(caller: Caller, after: FeedPosition | None, types: list[str], limit: int) -> list[list[Any]]:
    events = events_in_feed_order(events=events_visible_to(caller=caller), after=after)
    if types:
        events = events.filter(type__in=types)
    rows = events.values_list(*EVENT_ROW)[:limit]
    return [[*row[:5], instant_text(row[5]), row[6]] for row in rows]


def by_sql(caller: Caller, after: FeedPosition | None, types: list[str], limit: int) -> list[list[Any]]:
    rows = events_feed(caller=caller, after=after, types=types, limit=limit)
    return [[*row[:5], instant_text_of_json(row[5]), row[6]] for row in rows]


def test_the_feed_statement_is_the_querysets() -> None:
    acme, globex, idle = (PartnerFactory.create() for _ in range(3))
    recorded = events_record(
        events=[
            NewEvent(
                type=kind, payload={"n": n, "who": who, "x": [1.5, None, True, "é"]}, partner_id=who, subject=f"s{n}"
            )
            for n, (kind, who) in enumerate(
                product(["stock.changed", "order.created", "slots.released"], [acme.pk, globex.pk, None])
            )
        ]
        * 3
    )
    ids = list(recorded.ids)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text::bigint")
        own = cursor.fetchone()[0]
    # Spread them over transactions: long ended (txids 10 and 11, several
    # events each), the reader's own, and one still running (a txid above
    # every running one's: not shown until it commits).
    Event.objects.filter(pk__in=ids[0:9]).update(txid=11)
    Event.objects.filter(pk__in=ids[9:14]).update(txid=10)
    Event.objects.filter(pk__in=ids[22:27]).update(txid=own + 1_000_000)
    Event.objects.filter(pk=ids[3]).update(created_at=dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC))
    Event.objects.filter(pk=ids[4]).update(created_at=dt.datetime(2026, 12, 5, 9, 0, 0, 250_000, tzinfo=dt.UTC))
    rows = list(Event.objects.order_by("txid", "id").values_list("txid", "id"))
    positions: list[FeedPosition | None] = [None, *(FeedPosition(txid, event_id) for txid, event_id in rows)]
    positions += [FeedPosition(11, 0), FeedPosition(11, ids[-1] + 1), FeedPosition(own + 1_000_000, 0)]
    callers = [
        caller_of(CallerKind.OPERATOR),
        caller_of(CallerKind.PARTNER, partner=acme),
        caller_of(CallerKind.PARTNER, partner=globex),
        caller_of(CallerKind.PARTNER, partner=idle),
        caller_of(CallerKind.STORE),
        caller_of(CallerKind.SHOPPER),
    ]
    compared = shown = 0
    for caller, after, types, limit in product(callers, positions, TYPE_FILTERS, [1, 4, 501]):
        expected = by_orm(caller, after, types, limit)
        assert by_sql(caller, after, types, limit) == expected, (caller.kind, caller.partner_id, after, types, limit)
        compared += 1
        shown += len(expected)
    assert compared == len(callers) * len(positions) * len(TYPE_FILTERS) * 3
    # the data shows something to compare in every case the rule allows
    everything = by_orm(callers[0], None, [], 501)
    assert len(everything) == len(ids) - 5  # all but the running transaction's
    assert {row[1] for row in everything} == {10, 11, own}
    assert {row[4] for row in everything} == {acme.pk, globex.pk, None}
    assert len(by_orm(callers[1], None, [], 501)) == 8  # acme's 9, one in the running transaction
    assert shown > 1_000
