"""Basket recommendations with the stock filter, the bare-DRF ceiling in the
same run, and the model rebuild.

    .venv/bin/python loadtests/bench_recommendations.py [--quick] [--connections N] [--seconds S]

Starts PostgreSQL, Redis and granian with the bench settings
(loadtests/harness.py). Seeds 1,800 stores, 20,000 products in 200 aisles,
each store stocking 1,000 of them, four warehouses with lead times, and
100,000 collected orders of 10 lines (1,000,000 order lines) with
``manage.py seed_bench_recommendations``; then times
``manage.py recommendations_rebuild`` (the live model from those lines:
``model_rebuild_s``). A light threaded client (http.client, keep-alive,
``--connections`` connections) alternates timed rounds of
POST /api/v1/recommendations (a basket of 2 to 6 products of one aisle, a
random store, k = 10) and GET /api/v1/bench/bare, as a store client
(quantities of other stores capped, as for shoppers). Afterwards it checks
every answer kept (no basket product offered, at most k per kind, each offer
in stock at the store or at the supply location named, per the database) and
that no request failed, and prints ``RESULT recommendations_per_s``,
``bare_drf_per_s``, ``reco_vs_bare_ratio``, ``reco_p95_ms`` and
``model_rebuild_s``; beside them, each endpoint's CPU per request by process
(``reco_cpu_ms_server``, ``_postgres``, ``_redis``, ``_client``, ``_total``,
the same for ``bare``) and ``reco_vs_bare_bound``: the ratio if an answer
cost the gateway's processes no more than the bare endpoint does, PostgreSQL,
Redis and the client costing what they did (how far work on the gateway's
Python alone can take the ratio). ``--quick``: 2,000 products, 100,000
lines, short rounds.
"""

import argparse
import http.client
import json
import random
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtests.harness import Stack, cpu_delta, cpu_speed, progress, result

SIZES = {
    "full": {"products": 20_000, "per_store": 1_000, "orders": 100_000, "seconds": 15.0, "rounds": 2},
    "quick": {"products": 2_000, "per_store": 100, "orders": 10_000, "seconds": 4.0, "rounds": 1},
}
STORES = 1800
AISLES = 200
K = 10
OWN_STORE = "BST00001"  # the store client acts for it; every other store's figures are capped
KEPT_ANSWERS = 300  # answers checked against the database after the load


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 products, 100,000 order lines, 4 s rounds.")
    parser.add_argument("--connections", type=int, default=8, help="Concurrent keep-alive connections (default 8).")
    parser.add_argument("--seconds", type=float, help="Length of each timed round.")
    args = parser.parse_args()
    size = dict(SIZES["quick" if args.quick else "full"])
    seconds = args.seconds or size["seconds"]
    with Stack(instance="commerce-reco-bench", pg_port=15471, redis_port=16421, port=8871) as stack:
        progress(
            f"seeding {STORES:,} stores, {size['products']:,} products, {size['orders'] * 10:,} order lines "
            "(seed_bench_recommendations)"
        )
        stack.manage(
            "seed_bench_recommendations",
            "--stores",
            str(STORES),
            "--products",
            str(size["products"]),
            "--per-store",
            str(size["per_store"]),
            "--orders",
            str(size["orders"]),
        )
        progress("rebuilding the co-purchase model (recommendations_rebuild)")
        built = stack.manage("recommendations_rebuild")
        match = re.search(r"built in ([0-9.]+) s", built)
        rebuild_s = float(match.group(1)) if match else float("nan")
        progress(built.strip())
        client_id, secret = stack.client("store", "bench store till", "--scopes", "catalog:read inventory:read")
        stack.manage("bind_client_store", client_id, OWN_STORE)
        token = stack.token(client_id, secret)
        rng = random.Random(17)
        depth = min(100, int(size["products"]) // AISLES)

        def basket() -> tuple[str, str, bytes]:
            aisle = rng.randrange(AISLES)
            picks = rng.sample(range(depth), rng.randint(2, min(6, depth)))
            skus = [f"BENCH-{1 + aisle + AISLES * m:06d}" for m in picks]
            store = f"BST{rng.randint(1, STORES):05d}"
            body = {"store": store, "lines": [{"sku": sku} for sku in skus], "k": K}
            return "POST", "/api/v1/recommendations", json.dumps(body).encode()

        def bare() -> tuple[str, str, bytes]:
            return "GET", "/api/v1/bench/bare", b""

        progress("warming up both endpoints")
        _load(stack.port, token, basket, 2.0, args.connections, keep=0)
        _load(stack.port, token, bare, 2.0, args.connections, keep=0)
        figures: dict[str, list[float]] = {"reco": [], "bare": []}
        latencies: dict[str, list[float]] = {"reco": [], "bare": []}
        failures: list[str] = []
        kept: list[tuple[dict[str, Any], dict[str, Any]]] = []
        web_cpu: dict[str, list[float]] = {"reco": [0.0, 0.0], "bare": [0.0, 0.0]}  # requests, CPU seconds
        # CPU seconds of each process of the machine's work, per endpoint: the gateway's (server),
        # PostgreSQL's, Redis's, and this client's own; with the requests they served.
        parts_cpu: dict[str, dict[str, float]] = {"reco": {}, "bare": {}}
        served = {"reco": 0, "bare": 0}
        this_client = psutil.Process()
        for round_ in range(int(size["rounds"])):
            for name, next_request in (("bare", bare), ("reco", basket)):
                costs_before = stack.route_costs()
                cpu_before, client_before = stack.cpu_seconds(), sum(this_client.cpu_times()[:2])
                rate, times, errors, answers = _load(
                    stack.port, token, next_request, seconds, args.connections, keep=KEPT_ANSWERS
                )
                used = cpu_delta(cpu_before, stack.cpu_seconds())
                used["client"] = sum(this_client.cpu_times()[:2]) - client_before
                for part in ("server", "postgres", "redis", "client"):
                    parts_cpu[name][part] = parts_cpu[name].get(part, 0.0) + used[part]
                served[name] += len(times)
                for key, (count, cpu) in stack.route_costs().items():
                    if key in ROUTES[name]:
                        earlier = costs_before.get(key, (0.0, 0.0))
                        web_cpu[name][0] += count - earlier[0]
                        web_cpu[name][1] += cpu - earlier[1]
                figures[name].append(rate)
                latencies[name].extend(times)
                failures.extend(errors)
                if name == "reco":
                    kept.extend(answers)
                progress(f"round {round_ + 1}: {name} {rate:,.0f} requests/s")
        failures.extend(_check_answers(stack.env["DATABASE_URL"], kept[:KEPT_ANSWERS]))
        empty = sum(1 for _body, answer in kept if not answer.get("cross_sell"))
    for failure in failures[:20]:
        print(f"CHECK FAILED: {failure}", file=sys.stderr)
    reco = sum(figures["reco"]) / len(figures["reco"])
    ceiling = sum(figures["bare"]) / len(figures["bare"])
    result("recommendations_per_s", round(reco), "requests/s")
    result("bare_drf_per_s", round(ceiling), "requests/s")
    result("reco_vs_bare_ratio", round(reco / ceiling, 3), "ratio", digits=3)
    result("reco_p50_ms", round(_percentile(latencies["reco"], 50) * 1000, 2), "ms")
    result("reco_p95_ms", round(_percentile(latencies["reco"], 95) * 1000, 2), "ms")
    # The serving threads' own CPU per answer (gateway_http_request_cpu_seconds_total): less
    # moved by the machine's other load than the rates, and PostgreSQL's share is not in it.
    for name, (count, cpu) in web_cpu.items():
        result(f"{name}_web_cpu_ms", round(cpu / max(count, 1) * 1000, 3), "ms", digits=3)
    # Where the machine's CPU went per request, the client's included: on this 2-core machine
    # both endpoints run until the cores are busy, so the ratio above is about the ratio of
    # these totals. The bound is the ratio if an answer cost the gateway's processes no more
    # than the bare endpoint does, PostgreSQL, Redis and the client costing what they did.
    per_request = {
        name: {part: seconds * 1000 / max(served[name], 1) for part, seconds in parts.items()}
        for name, parts in parts_cpu.items()
    }
    for name, parts in per_request.items():
        for part, ms in parts.items():
            result(f"{name}_cpu_ms_{part}", round(ms, 3), "ms", digits=3)
        result(f"{name}_cpu_ms_total", round(sum(parts.values()), 3), "ms", digits=3)
    reco_rest = sum(per_request["reco"].values()) - per_request["reco"]["server"]
    bound = sum(per_request["bare"].values()) / max(reco_rest + per_request["bare"]["server"], 1e-9)
    result("reco_vs_bare_bound", round(bound, 3), "ratio", digits=3)
    result("model_rebuild_s", round(rebuild_s, 2), "s")
    result("reco_answers_without_cross_sell", empty, "answers")
    result("reco_check_failures", len(failures), "failures")
    result("cpu_speed_index", round(cpu_speed(), 1), "Msteps/s")
    return 1 if failures else 0


# The (method, route) of each endpoint in the gateway's metrics.
ROUTES = {"reco": {("POST", "api/v1/recommendations")}, "bare": {("GET", "api/v1/bench/bare")}}


def _load(
    port: int, token: str, next_request: Any, seconds: float, connections: int, *, keep: int
) -> tuple[float, list[float], list[str], list[tuple[dict[str, Any], dict[str, Any]]]]:
    """Requests/s over ``seconds``; latencies; failures; up to ``keep`` (request, answer) pairs."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json", "Content-Type": "application/json"}
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    answers: list[tuple[dict[str, Any], dict[str, Any]]] = []
    deadline = time.perf_counter() + seconds
    done = [0]

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        while time.perf_counter() < deadline:
            with lock:
                method, path, body = next_request()
            sent = time.perf_counter()
            conn.request(method, path, body=body or None, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            mine.append(time.perf_counter() - sent)
            with lock:
                done[0] += 1
                if response.status != 200:
                    errors.append(f"{method} {path} answered {response.status}: {payload[:200]!r}")
                elif body and len(answers) < keep:
                    answers.append((json.loads(body), json.loads(payload)))
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done[0] / (time.perf_counter() - started), latencies, errors, answers


def _check_answers(dsn: str, kept: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[str]:
    """Every offer: not in the basket, at most k per kind, and held where the answer says it is."""
    failures: list[str] = []
    with psycopg.connect(dsn) as conn:
        for request, answer in kept:
            basket = {line["sku"] for line in request["lines"]}
            for kind in ("cross_sell", "upsell"):
                offers = answer[kind]
                if len(offers) > request["k"]:
                    failures.append(f"{kind}: {len(offers)} offers for k={request['k']}")
                for offer in offers:
                    if offer["sku"] in basket:
                        failures.append(f"{offer['sku']} offered with itself in the basket")
                    row = conn.execute(
                        """
                        SELECT s.on_hand - s.reserved FROM inventory_stocklevel s
                        JOIN inventory_location l ON l.id = s.location_id
                        WHERE s.product_id = %s AND l.code = %s
                        """,
                        (offer["product_id"], offer["collect"]["code"]),
                    ).fetchone()
                    if row is None or row[0] <= 0:
                        failures.append(f"{offer['sku']} offered from {offer['collect']['code']} without stock")
                    if offer["collect"]["source"] == "store" and offer["collect"]["code"] != request["store"]:
                        failures.append(f"{offer['sku']}: store stock of {offer['collect']['code']}, not the store")
    return failures


def _percentile(values: list[float], percent: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * percent / 100))]


if __name__ == "__main__":
    sys.exit(main())
