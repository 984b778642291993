"""Availability lookups near a point, and the bare-DRF ceiling, in one run.

    .venv/bin/python loadtests/bench_availability.py [--quick] [--connections N] [--seconds S]

Starts PostgreSQL, Redis and granian with the bench settings
(loadtests/harness.py), whose URLs add /api/v1/bench/bare (loadtests/views.py:
an authenticated DRF view answering a constant, with the same authentication,
scope check and rate limiter as every endpoint). Seeds
1,800 stores (a third around Paris) holding stock with
``manage.py seed_bench_stock``. Then a light threaded client (http.client,
keep-alive, ``--connections`` connections) alternates timed rounds of
GET /api/v1/availability?sku=..&lat=..&lng=..&radius_km=10 (random points
in Paris, one to three SKUs) and GET /api/v1/bench/bare, as a store client
(figures of other stores capped, as for shoppers and partners). Afterwards it checks answers against the database
(nearest first, within the radius, click-and-collect stores with stock, capped
figures) and that no request failed, and prints
``RESULT availability_lookups_per_s``, ``bare_drf_per_s`` and
``availability_vs_bare_ratio``. ``--quick``: fewer levels, shorter rounds.
"""

import argparse
import http.client
import json
import math
import os
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import django
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtests.harness import Stack, cpu_speed, progress, result

SIZES = {
    "full": {"stores": 1800, "levels": 200_000, "seconds": 15.0, "rounds": 2},
    "quick": {"stores": 1800, "levels": 18_000, "seconds": 4.0, "rounds": 1},
}
PARIS = (48.8566, 2.3522)
RADIUS_KM = 10.0
CAP = 20  # AVAILABILITY_QUANTITY_CAP default
OWN_STORE = "BST00001"  # the benchmark's store client acts for it, so it sees its figures exactly


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="18,000 levels, 4 s rounds (under a minute).")
    parser.add_argument("--connections", type=int, default=8, help="Concurrent keep-alive connections (default 8).")
    parser.add_argument("--seconds", type=float, help="Length of each timed round.")
    args = parser.parse_args()
    size = dict(SIZES["quick" if args.quick else "full"])
    seconds = args.seconds or size["seconds"]
    with Stack(instance="inventory-availability-bench", pg_port=15465, redis_port=16415, port=8865) as stack:
        progress(f"seeding {size['stores']:,} stores and {size['levels']:,} stock levels (seed_bench_stock)")
        stack.manage("seed_bench_stock", "--stores", str(size["stores"]), "--levels", str(size["levels"]))
        dsn = stack.env["DATABASE_URL"]
        _django(stack.env)
        skus = _skus(dsn)
        # a store client: figures of every other store capped, like a shopper's; one lookup more per request
        client_id, secret = stack.client("store", "bench store till", "--scopes", "inventory:read")
        stack.manage("bind_client_store", client_id, OWN_STORE)
        token = stack.token(client_id, secret)
        port = stack.port
        rng = random.Random(11)
        progress("warming up both endpoints")
        _load(port, token, lambda: _availability_path(rng, skus), 2.0, args.connections)
        _load(port, token, lambda: "/api/v1/bench/bare", 2.0, args.connections)
        figures: dict[str, list[float]] = {"availability": [], "bare": []}
        latencies: dict[str, list[float]] = {"availability": [], "bare": []}
        failures: list[str] = []
        for round_ in range(int(size["rounds"])):
            for name, path in (
                ("bare", lambda: "/api/v1/bench/bare"),
                ("availability", lambda: _availability_path(rng, skus)),
            ):
                rate, times, errors = _load(port, token, path, seconds, args.connections)
                figures[name].append(rate)
                latencies[name].extend(times)
                failures.extend(errors)
                progress(f"round {round_ + 1}: {name} {rate:,.0f} requests/s")
        failures.extend(_check_answers(port, token, dsn, skus))
    for failure in failures[:20]:
        print(f"CHECK FAILED: {failure}", file=sys.stderr)
    availability = sum(figures["availability"]) / len(figures["availability"])
    bare = sum(figures["bare"]) / len(figures["bare"])
    result("availability_lookups_per_s", round(availability), "requests/s")
    result("bare_drf_per_s", round(bare), "requests/s")
    result("availability_vs_bare_ratio", round(availability / bare, 3), "ratio", digits=3)
    result("availability_p50_ms", round(_percentile(latencies["availability"], 50) * 1000, 2), "ms")
    result("availability_p95_ms", round(_percentile(latencies["availability"], 95) * 1000, 2), "ms")
    result("availability_check_failures", len(failures), "failures")
    result("cpu_speed_index", round(cpu_speed(), 1), "Msteps/s")  # harness.cpu_speed: compare runs alongside it
    return 1 if failures else 0


def _django(env: dict[str, str]) -> None:
    """Django set up in this process with the server's settings, so the
    checks below take table names from the models (gateway.sql), as the app does."""
    os.environ.update(env)
    django.setup()


def _skus(dsn: str) -> list[str]:
    from gateway.sql import fragment
    from inventory.models import Product

    sql = fragment("SELECT p.sku FROM {product} p WHERE p.sku LIKE 'BENCH-%' ORDER BY p.sku", product=Product)
    with psycopg.connect(dsn) as conn:
        return [row[0] for row in conn.execute(sql)]


def _point(rng: random.Random) -> tuple[float, float]:
    return PARIS[0] + rng.uniform(-0.15, 0.15), PARIS[1] + rng.uniform(-0.2, 0.2)


def _availability_path(rng: random.Random, skus: list[str]) -> str:
    lat, lng = _point(rng)
    chosen = ",".join(rng.sample(skus, rng.randint(1, 3)))
    return "/api/v1/availability?" + urlencode(
        {"sku": chosen, "lat": f"{lat:.5f}", "lng": f"{lng:.5f}", "radius_km": RADIUS_KM}
    )


def _load(
    port: int, token: str, next_path: Any, seconds: float, connections: int
) -> tuple[float, list[float], list[str]]:
    """Requests/s over ``seconds`` from ``connections`` keep-alive connections; latencies; failures."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        while time.perf_counter() < deadline:
            with lock:
                path = next_path()
            sent = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            mine.append(time.perf_counter() - sent)
            if response.status != 200:
                with lock:
                    errors.append(f"GET {path} answered {response.status}: {body[:200]!r}")
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies) / (time.perf_counter() - started), latencies, errors


def _haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def _check_answers(port: int, token: str, dsn: str, skus: list[str]) -> list[str]:
    """A sample of answers against the database, computed independently in Python."""
    from gateway.sql import fragment
    from inventory.models import Location, Product, StockLevel

    stores_sql = fragment(
        "SELECT l.id, l.code, l.latitude::float8, l.longitude::float8 FROM {location} l "
        "WHERE l.kind = 'store' AND l.is_active AND l.click_and_collect AND l.latitude IS NOT NULL",
        location=Location,
    )
    stock_sql = fragment(
        "SELECT s.location_id, s.available FROM {level} s "
        "JOIN {product} p ON p.id = s.product_id WHERE p.sku = %s AND s.available > 0",
        level=StockLevel,
        product=Product,
    )
    rng = random.Random(99)
    failures = []
    with psycopg.connect(dsn) as db:
        stores = db.execute(stores_sql).fetchall()
        for _ in range(25):
            lat, lng = _point(rng)
            sku = rng.choice(skus)
            stock: dict[int, int] = dict(db.execute(stock_sql, [sku]).fetchall())
            near = sorted(
                (round(_haversine_km(lat, lng, slat, slng), 3), code, stock[pk])
                for pk, code, slat, slng in stores
                if pk in stock and _haversine_km(lat, lng, slat, slng) <= RADIUS_KM
            )[:10]
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            query = urlencode({"sku": sku, "lat": lat, "lng": lng, "radius_km": RADIUS_KM})
            conn.request("GET", f"/api/v1/availability?{query}", headers={"Authorization": f"Bearer {token}"})
            answer = json.loads(conn.getresponse().read())
            conn.close()
            got = [(loc["distance_km"], loc["code"], loc["available"]) for loc in answer["results"][0]["locations"]]
            want = [(km, code, available if code == OWN_STORE else min(available, CAP)) for km, code, available in near]
            if [g[1] for g in got] != [w[1] for w in want] or any(
                abs(g[0] - w[0]) > 0.002 or g[2] != w[2] for g, w in zip(got, want, strict=True)
            ):
                failures.append(f"{sku} near ({lat:.4f}, {lng:.4f}): got {got[:3]}..., want {want[:3]}...")
    return failures


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] if ordered else 0.0


if __name__ == "__main__":
    sys.exit(main())
