"""The outbox table's busy readers do work in proportion to what they return,
not to the table, under the generic plan PostgreSQL keeps for a prepared
statement (a pooled connection prepares a statement it ran five times:
gateway/settings/base.py). Found on the Black Friday bench with
pg_stat_statements: the fan-out's batch read every undispatched event and
sorted them (48 ms a call during the peak), and footfall's reader of the feed
walked every event older than its position (87 ms for 448,000 events, 0.3 ms
once the scan starts at the position); between them, two thirds of
PostgreSQL's time.

Each test plans the statement the code runs as a prepared statement with the
generic plan forced, runs it (EXPLAIN ANALYZE) and counts the rows the scan of
``partners_event`` went through."""

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from django.db import connection

from partners.locks import lock_undispatched_events
from partners.selectors import FeedPosition, events_in_feed_order

pytestmark = pytest.mark.django_db

DISPATCHED, BACKLOG, BATCH = 10_000, 3_000, 500


def _events(count: int, *, dispatched: bool) -> None:
    """``count`` events in one statement; txids spread over old transactions
    (negative: older than any running one) so that feed positions differ."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO partners_event (type, partner_id, subject, payload, created_at, txid, dispatched_at)
            SELECT 'stock.changed', NULL, 's', '{}'::jsonb, now(),
                   -1000000 + (SELECT count(*) FROM partners_event) + g / 10,
                   CASE WHEN %s THEN now() END
            FROM generate_series(1, %s) AS g
            """,
            [dispatched, count],
        )
        cursor.execute("ANALYZE partners_event")


def _generic_plan(sql: str, params: Sequence[Any]) -> dict[str, Any]:
    """The statement prepared, its generic plan forced, run: the plan with actual rows."""
    assert all(isinstance(value, int) and not isinstance(value, bool) for value in params), params
    numbered = iter(range(1, len(params) + 1))
    prepared = re.sub(r"%s", lambda _match: f"${next(numbered)}", sql)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE plan_probe AS {prepared}")
        try:
            arguments = f"({', '.join(str(int(value)) for value in params)})" if params else ""
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE plan_probe{arguments}")
            plan = cursor.fetchone()[0]
        finally:
            cursor.execute("DEALLOCATE plan_probe")
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _rows_scanned(plan: dict[str, Any]) -> int:
    """Rows the scans of partners_event went through: returned plus filtered out."""
    return sum(
        int(node.get("Actual Rows", 0)) + int(node.get("Rows Removed by Filter", 0))
        for node in _nodes(plan)
        if node.get("Relation Name") == "partners_event"
    )


def test_a_fan_out_batch_reads_its_own_events_not_the_whole_backlog() -> None:
    # given a table of dispatched events and a backlog of six batches, as a 3,000-line sync leaves
    _events(DISPATCHED, dispatched=True)
    _events(BACKLOG, dispatched=False)
    statements: list[tuple[str, list[Any]]] = []

    def capture(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append((sql, list(params or [])))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        assert len(lock_undispatched_events(limit=BATCH)) == BATCH
    # when the statement fan-out runs is planned as a prepared one
    plan = _generic_plan(*statements[-1])
    # then its scan stops at the batch, with no sort of the backlog
    assert _rows_scanned(plan) <= BATCH + 10, plan
    assert not any(node["Node Type"] == "Sort" for node in _nodes(plan)), plan


def test_the_feed_read_on_from_a_position_starts_its_scan_there() -> None:
    # given 13,000 events in the feed and a reader near the end of them
    _events(DISPATCHED + BACKLOG, dispatched=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT txid, id FROM partners_event ORDER BY txid, id OFFSET %s LIMIT 1", [DISPATCHED])
        txid, event_id = cursor.fetchone()
    page = events_in_feed_order(after=FeedPosition(txid=txid, event_id=event_id))[:100]
    assert len(list(page)) == 100
    # when its page is planned as a prepared statement
    plan = _generic_plan(*page.query.sql_with_params())
    # then the scan reads about the page, not the 10,000 events behind the position
    assert _rows_scanned(plan) <= 100 + 20, plan
