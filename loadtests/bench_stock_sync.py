"""Bulk stock sync through the real HTTP API into a populated database.

    .venv/bin/python loadtests/bench_stock_sync.py [--quick] [--clients N]

Starts PostgreSQL, Redis and granian with the bench settings
(loadtests/harness.py), seeds 200,000 stock levels with
``manage.py seed_bench_stock`` (set-based, ledger included), then syncs
100,000 lines, 5,000 per request (POST /api/v1/stock/sync with an
Idempotency-Key), from ``--clients`` concurrent HTTP clients with keep-alive.
Lines are 80 % absolute sets and 20 % deltas on distinct levels. Afterwards
it checks that every line landed exactly once (each level's on hand is what
its line asked for, one ledger movement and one event per changed line) and
that ``check_stock_ledger`` reconciles, and prints
``RESULT bulk_sync_lines_per_s``. ``--quick``: 20,000 levels, 10,000 lines.
"""

import argparse
import json
import os
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

import django
import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtests.harness import Stack, cpu_speed, progress, result

SIZES = {
    "full": {"stores": 1800, "levels": 200_000, "lines": 100_000},
    "quick": {"stores": 200, "levels": 20_000, "lines": 10_000},
}
BATCH = 5000
SAFE_FLOOR = 10_000  # deltas and sets stay far from 0, so no line may fail for lack of stock


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20,000 levels, 10,000 lines (under a minute).")
    parser.add_argument("--clients", type=int, default=2, help="Concurrent HTTP clients (default 2).")
    args = parser.parse_args()
    size = SIZES["quick" if args.quick else "full"]
    with Stack(instance="inventory-sync-bench", pg_port=15464, redis_port=16414, port=8864) as stack:
        progress(f"seeding {size['levels']:,} stock levels over {size['stores']:,} stores (seed_bench_stock)")
        started = time.perf_counter()
        stack.manage("seed_bench_stock", "--stores", str(size["stores"]), "--levels", str(size["levels"]))
        progress(f"seeded in {time.perf_counter() - started:.1f} s")
        dsn = stack.env["DATABASE_URL"]
        _django(stack.env)
        levels = _levels(dsn)
        batches, expected = _plan(levels, size["lines"])
        token = stack.token(*stack.client("operator", "bench sync operator"))
        _warm_up(stack.url, token, levels)
        progress(f"syncing {size['lines']:,} lines in {len(batches)} requests of {BATCH:,} ({args.clients} clients)")
        elapsed, answers = _run(stack.url, token, batches, args.clients)
        rate = size["lines"] / elapsed
        progress(f"{size['lines']:,} lines in {elapsed:.2f} s")
        failures = _check_answers(answers, len(batches)) + _check_database(dsn, expected)
        ledger = stack.manage("check_stock_ledger")
        progress(ledger.strip())
    for failure in failures:
        print(f"CHECK FAILED: {failure}", file=sys.stderr)
    latencies = sorted(answer[2] for answer in answers)
    result("bulk_sync_lines_per_s", round(rate), "lines/s")
    result("bulk_sync_request_p50_ms", round(latencies[len(latencies) // 2] * 1000, 1), "ms")
    result("bulk_sync_check_failures", len(failures), "failures")
    result("cpu_speed_index", round(cpu_speed(), 1), "Msteps/s")  # harness.cpu_speed: compare runs alongside it
    return 1 if failures else 0


def _django(env: dict[str, str]) -> None:
    """Django set up in this process with the server's settings, so the
    checks below take table names from the models (gateway.sql), as the app does."""
    os.environ.update(env)
    django.setup()


def _levels(dsn: str) -> list[tuple[str, str, int]]:
    """(sku, store code, on hand) of every seeded level."""
    from gateway.sql import fragment
    from inventory.models import Location, Product, StockLevel

    sql = fragment(
        """
        SELECT p.sku, l.code, s.on_hand FROM {level} s
        JOIN {product} p ON p.id = s.product_id JOIN {location} l ON l.id = s.location_id
        WHERE l.code LIKE 'BST%'
        """,
        level=StockLevel,
        product=Product,
        location=Location,
    )
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(sql).fetchall()
    return [(sku, code, on_hand) for sku, code, on_hand in rows]


def _plan(levels: list[tuple[str, str, int]], count: int) -> tuple[list[bytes], dict[tuple[str, str], int]]:
    """Request bodies (serialised before the clock starts) and the on hand each line must leave."""
    rng = random.Random(2026)
    chosen = rng.sample(levels[1000:], count)  # the first 1,000 are the warm-up's
    lines: list[dict[str, Any]] = []
    expected: dict[tuple[str, str], int] = {}
    for sku, code, on_hand in chosen:
        if rng.random() < 0.8:
            value = SAFE_FLOOR + rng.randrange(5000)
            lines.append({"sku": sku, "location": code, "on_hand": value})
            expected[(sku, code)] = value
        else:
            delta = rng.randrange(1, 50)
            lines.append({"sku": sku, "location": code, "delta": delta})
            expected[(sku, code)] = on_hand + delta
    bodies = [
        json.dumps({"error_policy": "reject_all", "lines": lines[i : i + BATCH]}).encode()
        for i in range(0, len(lines), BATCH)
    ]
    return bodies, expected


def _warm_up(url: str, token: str, levels: list[tuple[str, str, int]]) -> None:
    """Both workers import everything and fill their pools before the clock starts."""
    lines = [{"sku": sku, "location": code, "on_hand": SAFE_FLOOR} for sku, code, _ in levels[:1000]]
    for n in range(4):
        response = requests.post(
            f"{url}/api/v1/stock/sync",
            json={"lines": lines[n * 250 : (n + 1) * 250]},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"bench-warm-{n}"},
            timeout=60,
        )
        response.raise_for_status()


def _run(url: str, token: str, batches: list[bytes], clients: int) -> tuple[float, list[tuple[int, Any, float]]]:
    """Send every batch once; returns the wall time and (status, body, seconds) per request."""
    answers: list[tuple[int, Any, float]] = [(0, None, 0.0)] * len(batches)
    cursor = iter(range(len(batches)))
    lock = threading.Lock()
    done = [0]

    def client() -> None:
        session = requests.Session()
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            sent = time.perf_counter()
            response = session.post(
                f"{url}/api/v1/stock/sync",
                data=batches[index],
                headers={
                    "Authorization": f"Bearer {token}",
                    "Idempotency-Key": f"bench-sync-{index}",
                    "Content-Type": "application/json",
                },
                timeout=120,
            )
            answers[index] = (
                response.status_code,
                response.json() if response.ok else response.text[:500],
                time.perf_counter() - sent,
            )
            with lock:
                done[0] += 1
                if done[0] % max(1, len(batches) // 10) == 0:
                    progress(f"  {done[0]}/{len(batches)} requests")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, answers


def _check_answers(answers: list[tuple[int, Any, float]], count: int) -> list[str]:
    failures = [] if len(answers) == count else [f"{len(answers)} answers for {count} requests"]
    for index, (status, body, _seconds) in enumerate(answers):
        if status != 200:
            failures.append(f"request {index} answered {status}: {body}")
        elif body["failed"] or body["applied"] + body["unchanged"] != BATCH:
            failures.append(f"request {index}: {body['failed']} failed lines")
    return failures


def _check_database(dsn: str, expected: dict[tuple[str, str], int]) -> list[str]:
    """Every line landed exactly once: its level holds what it asked, and it has one movement and one event."""
    from gateway.sql import fragment
    from inventory.models import Location, Product, StockLevel, StockMovement
    from partners.models import Event

    skus, codes, values = zip(*((sku, code, value) for (sku, code), value in expected.items()), strict=True)
    wrong_sql = fragment(
        """
        SELECT count(*) FROM unnest(%s::text[], %s::text[], %s::int[]) AS e(sku, code, on_hand)
        JOIN {product} p ON p.sku = e.sku AND p.owner_id IS NULL
        JOIN {location} l ON l.code = e.code
        JOIN {level} s ON s.product_id = p.id AND s.location_id = l.id
        WHERE s.on_hand <> e.on_hand
        """,
        product=Product,
        location=Location,
        level=StockLevel,
    )
    movements_sql = fragment(
        "SELECT count(*), count(DISTINCT m.stock_level_id) FROM {movement} m "
        "WHERE m.idempotency_key LIKE 'bench-sync-%'",
        movement=StockMovement,
    )
    events_sql = fragment(
        "SELECT count(*) FROM {event} e WHERE e.type = 'stock.changed' AND e.payload->>'reason' = 'sync' "
        "AND e.subject LIKE 'stock:BST%'",
        event=Event,
    )
    with psycopg.connect(dsn) as conn:
        wrong = conn.execute(wrong_sql, [list(skus), list(codes), list(values)]).fetchone()[0]  # type: ignore[index]  # count(*) always returns a row
        movements = conn.execute(movements_sql).fetchone() or (0, 0)
        events = conn.execute(events_sql).fetchone()[0]  # type: ignore[index]  # count(*) always returns a row
    failures = []
    if wrong:
        failures.append(f"{wrong} levels do not hold what their line asked for")
    if movements[0] != len(expected) or movements[1] != len(expected):
        failures.append(f"{movements[0]} movements on {movements[1]} levels for {len(expected)} changed lines")
    if events != len(expected) + 1000:  # the warm-up's 1,000 changed lines too
        failures.append(f"{events} stock.changed events for {len(expected) + 1000} changed lines")
    return failures


if __name__ == "__main__":
    sys.exit(main())
