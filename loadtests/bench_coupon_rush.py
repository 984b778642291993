"""The midnight rush with coupons, and the same rush without, in one run.

    .venv/bin/python loadtests/bench_coupon_rush.py [--quick]

On a stack of its own (the harness's Stack, port 8876; granian 4 workers x 2
threads and a Celery worker, as the midnight bench), two releases one after
the other, each seeded by ``manage.py seed_midnight_release`` and run with
loadtests/locust_midnight.py exactly as bench_midnight_release.py does:

1. the plain rush: no shopper enters a code;
2. the coupon rush, on fresh stores and shoppers: ``manage.py
   seed_coupon_rush`` adds a loyalty program with 20 active campaigns, one of
   which (1 EUR off the basket) has a public code and single-use codes (each
   forwarded to two shoppers) and a total budget of 30 % of the coupon
   shoppers; 60 % of the shoppers carry one of its codes. A shopper whose
   code is refused (budget used up, single-use code taken) orders without it.

Then ``POST /api/v1/loyalty/quote`` is timed with a 30-line basket against
the 20 active campaigns: one client after the other (``quote_p95_ms``), then
4 clients at once (``quote_p95_ms_4_clients``).

Checks after the load: the midnight ones for both rushes (slots, stock,
every accepted order present once, one per shopper), the campaign's live
redemptions (reserved + confirmed) within its count and amount limits
(``budget_overspend``), no single-use code redeemed twice, the budget and
code counters equal to the live redemptions, the orders' discounts equal to
the redemptions, and the budget actually used up (demand exceeded it).
Prints ``RESULT`` lines; a failed check (or any 5xx) exits 1.
"""

import argparse
import json
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtests.bench_midnight_release import _checks, _figures, _locust, _percentile
from loadtests.harness import (
    Stack,
    campaign_budget_checks,
    cpu_delta,
    cpu_speed,
    progress,
    result,
    run_timed,
    verdict,
)

INSTANCE, PG_PORT, REDIS_PORT, WEB_PORT = "loyalty-coupon-bench", 15476, 16426, 8876
SIZES = {
    "full": {"shoppers": 3000, "stores": 3, "capacity": 50, "products": 40, "users": 48, "quotes": 400},
    "quick": {"shoppers": 300, "stores": 1, "capacity": 20, "products": 20, "users": 24, "quotes": 120},
}
_ORDERS_DISCOUNTED = """
    SELECT count(*) FILTER (WHERE discount_amount > 0), COALESCE(sum(discount_amount), 0)
    FROM commerce_order WHERE store_id = ANY(%(stores)s)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="300 shoppers per rush, one store (about a minute).")
    parser.add_argument("--users", type=int, help="Concurrent Locust users; default 48 (24 quick).")
    parser.add_argument("--coupon-share", type=float, default=0.6)
    parser.add_argument("--budget-share", type=float, default=0.3)
    args = parser.parse_args()
    size = dict(SIZES["quick" if args.quick else "full"])
    if args.users:
        size["users"] = args.users
    release_in = 8.0 if args.quick else 20.0
    with (
        tempfile.TemporaryDirectory() as tmp,
        Stack(
            instance=INSTANCE,
            pg_port=PG_PORT,
            redis_port=REDIS_PORT,
            port=WEB_PORT,
            workers=4,
            threads=2,
            celery=True,
            celery_nice=10,
        ) as stack,
    ):
        speeds = [cpu_speed()]
        runs: dict[str, dict[str, Any]] = {}
        for rush in ("plain", "coupon"):
            plan_path, history_path = Path(tmp) / f"{rush}.json", Path(tmp) / f"{rush}.jsonl"
            progress(f"{rush} rush: seeding {size['shoppers']} shoppers, {size['stores']} store(s)")
            stack.manage(
                "seed_midnight_release",
                *("--shoppers", str(size["shoppers"]), "--stores", str(size["stores"])),
                *("--products", str(size["products"]), "--capacity", str(size["capacity"])),
                *("--release-in", str(release_in), "--out", str(plan_path)),
            )
            if rush == "coupon":
                out = stack.manage(
                    "seed_coupon_rush",
                    *("--plan", str(plan_path), "--coupon-share", str(args.coupon_share)),
                    *("--budget-share", str(args.budget_share)),
                )
                progress(out.strip())
            plan = json.loads(plan_path.read_text())
            progress(f"{rush} rush: slots open at {plan['release_at']}; {size['users']} Locust users")
            cpu_before = stack.cpu_seconds()
            users, run_time = size["users"], "300s"
            locust_cpu = _locust(stack, "MidnightShopper", plan_path, history_path, users=users, run_time=run_time)
            cpu = {**cpu_delta(cpu_before, stack.cpu_seconds()), "locust_client": locust_cpu}
            speeds.append(cpu_speed())
            rows = [json.loads(line) for line in history_path.read_text().splitlines()]
            history = [row for row in rows if "final" not in row]
            progress(f"{rush} rush: final outcomes {dict(Counter(row['final'] for row in rows if 'final' in row))}")
            figures = _figures(history, plan)
            progress(f"{rush} rush: {figures['orders_per_s']:.1f} orders/s; refusals {dict(figures['failures'])}")
            runs[rush] = {"plan": plan, "history": history, "figures": figures, "cpu": cpu}
            runs[rush]["checks"] = _checks(stack.env["DATABASE_URL"], plan, history)
        coupon_checks = _coupon_checks(stack.env["DATABASE_URL"], runs["coupon"]["plan"])
        progress(f"quote: {size['quotes']} requests, 30 lines, 20 active campaigns")
        token = stack.token(*stack.client("operator", "bench quote", "--scopes", "loyalty:redeem"))
        quote = runs["coupon"]["plan"]["quote"]
        quotes = {
            threads: _quote_timings(stack, token, quote, count=size["quotes"], threads=threads) for threads in (1, 4)
        }
        speeds.append(cpu_speed())
    return _report(runs, coupon_checks, quotes, speed=sum(speeds) / len(speeds), size=size)


def _coupon_checks(database_url: str, plan: dict[str, Any]) -> dict[str, Any]:
    """The campaign's budget and codes (the harness's shared check), then the
    orders' discounts against its live redemptions (orders are its only channel here)."""
    stores = [store["id"] for store in plan["stores"]]
    budget = campaign_budget_checks(database_url, [plan["loyalty"]["campaign_id"]])
    with psycopg.connect(database_url) as conn:
        discounted, discount_sum = conn.execute(_ORDERS_DISCOUNTED, {"stores": stores}).fetchone()  # type: ignore[misc]
    live_count, live_amount = budget.pop("live_redemptions"), budget.pop("live_discount")
    return {
        **budget,
        "discounted_orders_vs_redemptions": abs(discounted - live_count) + int(discount_sum != live_amount),
        "budget_used_redemptions": live_count,
        "budget_limit_redemptions": plan["loyalty"]["budget_count"],
    }


def _quote_timings(
    stack: Stack, token: str, body: dict[str, Any], *, count: int, threads: int
) -> tuple[list[float], int]:
    """Latency of POST /api/v1/loyalty/quote (an operator's token), ``threads``
    clients at a time: 1 is the latency a till or an app sees on an idle
    server; 4 on 2 cores adds the queueing of a busy one."""
    timings: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    remaining = [count]

    def worker() -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            started = time.perf_counter()
            response = session.post(f"{stack.url}/api/v1/loyalty/quote", json=body, timeout=30)
            elapsed = (time.perf_counter() - started) * 1000
            data = response.json() if response.ok else {}
            with lock:
                # A quote that does not price the basket (no offer applied) would time the wrong thing.
                if response.status_code != 200 or len(data.get("applied", [])) < 2 or data.get("refused"):
                    errors.append(f"{response.status_code} {response.text[:300]}")
                timings.append(elapsed)

    for _ in range(3):  # warm every worker's caches and connections
        requests.post(
            f"{stack.url}/api/v1/loyalty/quote", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if errors:
        progress(f"quote errors: {len(errors)}, first: {errors[0]}")
    return timings, len(errors)


def _report(
    runs: dict[str, dict[str, Any]],
    coupon: dict[str, Any],
    quotes: dict[int, tuple[list[float], int]],
    *,
    speed: float,
    size: dict[str, int],
) -> int:
    plain, coupon_run = runs["plain"]["figures"], runs["coupon"]["figures"]
    carriers = {row["shopper"] for row in runs["coupon"]["history"] if row.get("coupon")}
    result("coupon_orders_per_s", float(coupon_run["orders_per_s"]), "orders/s")
    result("plain_orders_per_s", float(plain["orders_per_s"]), "orders/s")
    ratio = coupon_run["orders_per_s"] / plain["orders_per_s"] if plain["orders_per_s"] else 0.0
    result("coupon_vs_plain_ratio", ratio, "", digits=2)
    for name, figures in (("coupon", coupon_run), ("plain", plain)):
        result(f"{name}_orders_accepted", figures["orders_accepted"], "orders")
        result(f"{name}_p95_ms", float(figures["p95_ms"]), "ms")
        result(f"{name}_server_errors", figures["server_errors"], "responses")
        result(f"{name}_order_requests", figures["order_requests"], "requests")
        for part, seconds in runs[name]["cpu"].items():  # CPU of the rush per accepted order, by component
            result(f"{name}_cpu_ms_per_order_{part}", seconds * 1000 / max(figures["orders_accepted"], 1), "ms", 2)
        for code, count in sorted(figures["failures"].items()):
            result(f"{name}_failures_{code}", count, "responses")
    result("coupon_shoppers", len(carriers), "shoppers")
    quote_errors = 0
    for threads, (quote_ms, errors) in quotes.items():
        at = "" if threads == 1 else f"_{threads}_clients"
        result(f"quote_p95_ms{at}", float(_percentile(quote_ms, 0.95)), "ms")
        result(f"quote_p50_ms{at}", float(_percentile(quote_ms, 0.50)), "ms")
        result(f"quote_requests{at}", len(quote_ms), "requests")
        quote_errors += errors
    result("quote_errors", quote_errors, "responses")
    result("cpu_speed_index", round(speed, 1), "Msteps/s")
    failed: list[str] = []
    for name, run in runs.items():
        for metric, value in run["checks"].items():
            result(f"{name}_{metric}", value, "")
            if value and metric != "orders_never_acknowledged":
                failed.append(f"{name}_{metric}")
        if run["figures"]["server_errors"]:
            failed.append(f"{name}_server_errors")
        if run["figures"]["orders_accepted"] != size["shoppers"]:
            failed.append(f"{name}_orders_accepted ({run['figures']['orders_accepted']} of {size['shoppers']})")
    for metric, value in coupon.items():
        result(metric, value, "EUR" if metric == "budget_overspend" else "")
    for metric in (
        "budget_overspend",
        "budget_overspend_redemptions",
        "single_use_double_redemptions",
        "budget_counters_out_of_step",
        "discounted_orders_vs_redemptions",
    ):
        if coupon[metric]:
            failed.append(metric)
    if coupon["budget_used_redemptions"] != coupon["budget_limit_redemptions"]:
        failed.append("budget not used up (the rush did not exceed it)")
    if quote_errors:
        failed.append("quote_errors")
    return verdict(failed)


if __name__ == "__main__":
    run_timed(main)
