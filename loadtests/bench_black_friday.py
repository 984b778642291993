"""Black Friday: every channel of a region at once, from the normal day's
busiest hour stepped up until the stack no longer holds it.

    .venv/bin/python loadtests/bench_black_friday.py [--quick] [--out DIR] [--instances N]

Starts PostgreSQL, Redis, the gateway with the bench settings and a Celery
worker with beat (the harness's Stack, instance ``black-friday-bench``), by
default two gateway instances (granian, 2 workers x 2 threads each) behind
the project's nginx balancer (bin/lib.sh ``start_balancer``; one instance
without it, and the run says so). Seeds a region with ``manage.py
seed_black_friday`` (450 stores, 400 products, 12 partners with 5,000 lines
each, 5,000 shoppers, half of them loyalty members, a Black Friday coupon
budget of 1,000 redemptions; --quick: 60 stores, 4 partners, 600 shoppers, a
budget of 60), starts
a webhook receiver (a real HTTP server in this process, verifying every
signature with the project's scheme, partners/services/signing.py) and
subscribes it through the API as the retailer's order systems do (two
subscriptions: order events, and order creations alone).

Then it runs loadtests/locust_black_friday.py headless: steps of
``--step-seconds`` at 1x, 2x, 4x, 8x, 10x, 12x, 14x, 16x, 20x ... the normal
rate (loadtests/black_friday.py derives the mix and says why partner syncs
and footfall stop at 2x), measured after a warm-up, until a step where the
p95 of any class passes 500 ms or an error appears (a 5xx, a connection
error, an answer the scenario does not expect); --quick: 1x, 2x, 4x, 8x of
12 s. Locust's HTML report and CSVs, the steps (JSON lines) and a chart of
throughput and p95 per step go to ``--out`` (default
.var/bench-black-friday/<time>).

Afterwards it waits for the Celery queues and the due webhook deliveries to
drain and checks the database against what the clients were told: no slot or
stock oversold or out of step with its orders (``SLOTS_OUT_OF_STEP``,
``STOCK_OUT_OF_STEP``), every stock level equal to its ledger (inventory's
``check_stock_ledger``), every accepted order present once, every accepted
order and acknowledged status change with its event, every event readable
once through the feed (walked through the API from the start), every webhook
of the subscribed types delivered (and seen by the receiver with a valid
signature) or scheduled for a retry, the Black Friday campaign's budget
never overspent, its single-use codes used once at most and its counters
equal to its live redemptions (orders and till tickets share it: the
harness's ``campaign_budget_checks``, as bench_coupon_rush checks its rush),
and every member's points equal to their ledger (loyalty's
``check_points_ledger``). It prints ``RESULT`` lines; a failed check or any
5xx exits 1.

The fault step (``run_fault_step``), after the stepping: the scenario again
at the held peak for 75 s while PostgreSQL restarts once and Redis goes away
for 30 s, the gateway, Celery and nginx left alone. It prints
``fault_server_errors`` and ``fault_connection_errors`` (during the whole
run), ``fault_internal_errors`` (those of the 5xx that were 500s: the
unexpected errors, where a request that lost the database answers 503
``service_unavailable`` to retry), ``fault_orders_acknowledged`` and ``fault_orders_lost`` (acknowledged,
then not in the database: must be 0, a failed check otherwise), and
``fault_recover_after_pg_s`` / ``fault_recover_after_redis_s`` (from each
service back until ``/health/ready`` answers 200 through the balancer). Its
5xx are reported, not failed: a restart cuts requests in flight. Its orders
join the end checks. ``--no-fault`` skips it.

The overload step (``run_overload_step``), after the stepping and before the
fault step (which restarts PostgreSQL and Redis and would leave the overload
step cold caches and a Celery backlog): the scenario at three times the held
peak's multiplier (``OVERLOAD_FACTOR``; 30 s at least, measured after 8 s),
beyond what the stack holds. Admission control (gateway/api/admission.py)
sheds what the stack cannot serve in time with 503 ``overloaded`` and
``Retry-After``; the users treat it as an app does (counted as shed, not
failed; they wait Retry-After; a shed order is posted again with the same
Idempotency-Key). It prints ``admitted_p95_ms`` (p95 over every answer that
was not shed), ``admitted_rps``, ``admitted_vs_normal`` (``admitted_rps`` over
``normal_rps``: what the stack serves at all, which ``peak_vs_normal`` cannot
pass on the machine it ran on), ``shed_share`` (shed answers over all
answers), ``overload_server_errors`` (5xx other than the overload answer),
``overload_connection_errors`` and ``overload_timeouts``; 5xx or connection
errors there fail the run. The machine's CPU by part of the stack (the gateway
instances, Celery, PostgreSQL, Redis, nginx) at the held peak and in this
step: ``cpu_share_<part>_pct_at_peak`` and ``overload_cpu_share_<part>_pct``.
``celery_cpu_ms_per_webhook``: all the Celery worker's CPU from the first step
to the drain (fan-out, deliveries, sweeps, periodic tasks) over the webhooks
delivered. Its orders join the end checks.

Sheds during the stepping: a class's shed answers count as answers over the
500 ms limit in the p95 it is judged by (loadtests/black_friday.py,
``p95_counting_sheds``), so a step where a class had more than 5 % shed is
not held. Each step also prints the share of requests that waited more than
100, 250, 500 and 1,000 ms for a thread (the instances'
``gateway_admission_wait_seconds``), what the admission budgets are judged by.
"""

import argparse
import contextlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psutil
import psycopg
import redis
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtests import black_friday as mix
from loadtests.harness import (
    ROOT,
    SLOTS_OUT_OF_STEP,
    STOCK_OUT_OF_STEP,
    Stack,
    balancer_available,
    campaign_budget_checks,
    cpu_delta,
    cpu_speed,
    machine_busy_seconds,
    progress,
    result,
    route_cost_table,
    run_timed,
    verdict,
)

INSTANCE, PG_PORT, REDIS_PORT, WEB_PORT = "black-friday-bench", 15458, 16408, 8858
LOCUST = str(ROOT / ".venv" / "bin" / "locust")
LOCUSTFILE = str(ROOT / "loadtests" / "locust_black_friday.py")
CELERY_QUEUES = ("celery", "commerce")  # CELERY_TASK_QUEUES
SUBSCRIPTIONS = {"/hooks/order-system": ["order.created", "order.status_changed"], "/hooks/crm": ["order.created"]}
SIZES: dict[str, dict[str, Any]] = {
    "full": {
        "seed": {"stores": 450, "products": 400, "partners": 12, "partner-stores": 10, "partner-products": 500,
                 "shoppers": 5000, "coupon-budget": 1000},
        "step_s": 45, "warmup_s": 12, "drain_s": 300,
    },
    "quick": {
        "seed": {"stores": 60, "products": 100, "partners": 4, "partner-stores": 2, "partner-products": 100,
                 "shoppers": 600, "coupon-budget": 60},
        "step_s": 12, "warmup_s": 4, "drain_s": 30,
    },
}  # fmt: skip


def main() -> int:
    args = _arguments()
    size = SIZES["quick" if args.quick else "full"]
    steps = mix.multipliers(quick=args.quick)
    instances = args.instances if args.instances is not None else (2 if balancer_available() else 1)
    out = Path(args.out or ROOT / ".var" / "bench-black-friday" / time.strftime("%Y%m%d-%H%M%S"))
    out.mkdir(parents=True, exist_ok=True)
    if instances == 1:
        progress("one gateway instance, no balancer (bin/lib.sh has no start_balancer, or --instances 1)")
    receiver = mix.WebhookReceiver().start()
    try:
        with (
            tempfile.TemporaryDirectory() as tmp,
            Stack(
                instance=INSTANCE,
                pg_port=PG_PORT,
                redis_port=REDIS_PORT,
                port=WEB_PORT,
                workers=args.workers,
                threads=args.threads,
                celery=True,
                celery_nice=args.celery_nice,
                beat=True,
                instances=instances,
                env={"WEBHOOK_ALLOW_PRIVATE_TARGETS": "1"},
            ) as stack,
        ):
            plan_path = Path(tmp) / "plan.json"
            progress(f"seeding the region: {size['seed']}")
            seeding = time.monotonic()
            stack.manage("seed_black_friday", *_flags(size["seed"]), "--out", str(plan_path))
            plan = json.loads(plan_path.read_text())
            seed_s = time.monotonic() - seeding
            progress(f"seeded in {seed_s:.1f} s")
            subscriptions = _subscribe(stack, plan, receiver)
            optional = _optional_endpoints(stack, plan)
            speed_before = cpu_speed()
            costs_before = stack.route_costs()
            celery_before = stack.cpu_seconds()["celery"]
            history = _locust(
                stack, plan_path, out, steps=steps, step_s=args.step_seconds or size["step_s"],
                warmup_s=args.warmup_seconds or size["warmup_s"], optional=optional,
            )  # fmt: skip
            speed = (speed_before + cpu_speed()) / 2
            route_costs = route_cost_table(costs_before, stack.route_costs())
            (out / "route_costs.json").write_text(json.dumps(route_costs, indent=1))
            stepped = [json.loads(line) for line in (out / "steps.jsonl").read_text().splitlines()]
            for row in stepped:
                row["cpu_pct"] = cpu_shares(row["measured_from"], row["measured_to"])
                row["waits"] = wait_shares(row["measured_from"], row["measured_to"])
            overload, overload_history = run_overload_step(
                stack, plan_path, out, stepped, optional=optional, step_s=max(args.step_seconds or size["step_s"], 30),
                warmup_s=max(args.warmup_seconds or size["warmup_s"], 8),
            )  # fmt: skip
            history += overload_history
            fault: dict[str, Any] = {"ran": False}
            if args.fault:
                fault, fault_history = run_fault_step(stack, plan_path, out, stepped, optional=optional)
                history += fault_history
            drain_s = _drain(stack, subscriptions, limit_s=size["drain_s"])
            celery_s = stack.cpu_seconds()["celery"] - celery_before
            checks = _checks(stack, plan, history, subscriptions, receiver)
    finally:
        receiver.stop()
    _chart(stepped, out / "steps.svg")
    figures = _figures(stepped, history)
    figures.update(cpu_speed=speed, seed_s=seed_s, drain_s=drain_s, instances=instances, fault=fault, overload=overload)
    figures["route_costs"] = route_costs
    figures["celery_cpu_s"] = celery_s
    progress(f"report, CSVs, steps and chart in {out}")
    return _report(figures, checks, receiver.summary())


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="A small region, steps 1x-8x of 12 s (under 2 min).")
    parser.add_argument(
        "--no-fault", dest="fault", action="store_false", help="Skip the fault step (PostgreSQL and Redis restarts)."
    )
    parser.add_argument("--out", help="Directory for the report, CSVs, steps and chart.")
    parser.add_argument(
        "--instances", type=int, help="Gateway instances behind the balancer (default 2 when it exists)."
    )
    parser.add_argument("--workers", type=int, default=2, help="granian workers per instance.")
    parser.add_argument("--threads", type=int, default=2, help="Threads per granian worker.")
    parser.add_argument("--celery-nice", type=int, default=10, help="Nice level of the Celery worker.")
    parser.add_argument("--step-seconds", type=float, help="Seconds per step (45 full, 12 quick).")
    parser.add_argument("--warmup-seconds", type=float, help="Seconds of each step before it is measured.")
    return parser.parse_args()


def _flags(values: dict[str, Any]) -> list[str]:
    return [part for name, value in values.items() for part in (f"--{name}", str(value))]


def _subscribe(stack: Stack, plan: dict[str, Any], receiver: mix.WebhookReceiver) -> dict[int, str]:
    """The retailer's order systems subscribe the receiver through the API;
    returns subscription id -> the receiver's path for it."""
    subscriptions = {}
    for path, types in SUBSCRIPTIONS.items():
        response = requests.post(
            f"{stack.url}/api/v1/webhooks",
            json={"url": f"{receiver.url}{path}", "event_types": types, "description": f"bench {path}"},
            headers={"Authorization": f"Bearer {plan['operator_token']}"},
            timeout=30,
        )
        if response.status_code != 201:
            raise RuntimeError(f"webhook subscription refused: {response.status_code} {response.text[:500]}")
        body = response.json()
        receiver.secrets[path] = body["secret"]
        subscriptions[int(body["id"])] = path
    progress(f"webhook receiver at {receiver.url}, subscribed: {SUBSCRIPTIONS}")
    return subscriptions


def _optional_endpoints(stack: Stack, plan: dict[str, Any]) -> list[str]:
    """Recommendations join the scenario when their endpoint answers a
    shopper (GET with a product of the region); reported either way."""
    found = []
    sku, store = plan["products"][0]["sku"], plan["stores"][0]["code"]
    for path in mix.OPTIONAL_SHOPPER_TASKS:
        response = requests.get(
            f"{stack.url}{path}?sku={sku}&store={store}",
            headers={"Authorization": f"Bearer {plan['shopper_tokens'][0]}"},
            timeout=30,
        )
        progress(f"{path}: {response.status_code}{' (joins the scenario)' if response.status_code == 200 else ''}")
        if response.status_code == 200:
            found.append(path)
    return found


def _locust(
    stack: Stack, plan_path: Path, out: Path, *, steps: list[int], step_s: float, warmup_s: float, optional: list[str]
) -> list[dict[str, Any]]:
    """Runs the scenario headless with its step shape; returns its history."""
    history_path, steps_path = out / "history.jsonl", out / "steps.jsonl"
    steps_path.unlink(missing_ok=True)
    env = {
        **os.environ,
        "BF_PLAN": str(plan_path),
        "BF_HISTORY": str(history_path),
        "BF_STEPS": str(steps_path),
        "BF_STEP_S": str(step_s),
        "BF_WARMUP_S": str(warmup_s),
        "BF_MULTIPLIERS": ",".join(map(str, steps)),
        "BF_OPTIONAL": json.dumps(optional),
    }
    progress(f"Locust: steps {steps} x {step_s:.0f} s (measured after {warmup_s:.0f} s) against {stack.url}")
    command = [
        LOCUST, "-f", LOCUSTFILE, "--headless", "--host", stack.url, "--html", str(out / "report.html"),
        "--csv", str(out / "locust"), "--csv-full-history", "--only-summary", "--loglevel", "WARNING",
        "--stop-timeout", "10",
    ]  # fmt: skip
    with open(out / "locust.log", "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        watched, locust_cpu, shown = psutil.Process(process.pid), 0.0, 0
        WAIT_SNAPSHOTS.append((time.time(), queue_waits(stack)))
        while process.poll() is None:
            with contextlib.suppress(psutil.Error):
                times = watched.cpu_times()
                locust_cpu = times.user + times.system
            CPU_SAMPLES.append((time.time(), machine_busy_seconds(), stack.cpu_seconds(), locust_cpu))
            time.sleep(1)
            before, shown = shown, _show_steps(steps_path, shown)
            if shown > before:
                WAIT_SNAPSHOTS.append((time.time(), queue_waits(stack)))
        if _show_steps(steps_path, shown) > shown:
            WAIT_SNAPSHOTS.append((time.time(), queue_waits(stack)))
    if process.returncode not in (0, 1):  # 1: some requests failed, which the steps and checks report
        raise RuntimeError(f"locust failed, see {out / 'locust.log'}")
    return [json.loads(line) for line in history_path.read_text().splitlines()] if history_path.exists() else []


# (time, machine busy, stack by part, Locust) CPU seconds, sampled every second of the Locust
# run: the shares of each step, where other engineers' tests or benchmarks on the same 2 cores
# show as "outside" rather than as a mysterious slowdown.
CPU_SAMPLES: list[tuple[float, float, dict[str, float], float]] = []
STACK_PARTS = ("server", "celery", "postgres", "redis", "nginx")  # Stack.cpu_seconds


def cpu_shares(start: float, end: float) -> dict[str, float]:
    """Percent of the machine's cores used between two instants by the stack,
    Locust and everything else, then by each part of the stack (``server``:
    the gateway instances, ``celery``, ``postgres``, ``redis``, ``nginx``;
    together the stack)."""
    inside = [sample for sample in CPU_SAMPLES if start <= sample[0] <= end]
    if len(inside) < 2:
        return {}
    (t0, machine0, parts0, locust0), (t1, machine1, parts1, locust1) = inside[0], inside[-1]
    capacity = max((t1 - t0) * (psutil.cpu_count() or 1), 1e-3) / 100
    used = cpu_delta(parts0, parts1)
    stack, locust = sum(used.values()), locust1 - locust0
    return {
        "stack": stack / capacity,
        "locust": locust / capacity,
        "outside": max(machine1 - machine0 - stack - locust, 0.0) / capacity,
        **{part: used[part] / capacity for part in STACK_PARTS if part in used},
    }


# (time, cumulative histogram of the instances' queue waits) at the start of each Locust run and at
# the end of each of its steps: what admission control measured (gateway_admission_wait_seconds).
WAIT_SNAPSHOTS: list[tuple[float, dict[float, float]]] = []


def queue_waits(stack: Stack) -> dict[float, float]:
    """The instances' ``gateway_admission_wait_seconds`` so far: upper bound (s) -> requests that
    waited at most that long for a thread, summed over the instances (each counts its own)."""
    total: dict[float, float] = {}
    for port in stack.server_ports:
        try:
            text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        except requests.RequestException:
            continue
        for line in text.splitlines():
            if line.startswith("gateway_admission_wait_seconds_bucket{"):
                bound = line.split('le="', 1)[1].split('"', 1)[0]
                le = float("inf") if bound == "+Inf" else float(bound)
                total[le] = total.get(le, 0.0) + float(line.rsplit(" ", 1)[1])
    return total


def wait_shares(start: float, end: float) -> dict[str, float]:
    """Between two instants (a step's measured part, widened to the snapshots around it): the
    requests that waited for a thread, and the shares that waited longer than 100, 250, 500 and
    1,000 ms (histogram bounds)."""
    before = max((snap for snap in WAIT_SNAPSHOTS if snap[0] <= start), default=None, key=lambda snap: snap[0])
    after = min((snap for snap in WAIT_SNAPSHOTS if snap[0] >= end), default=None, key=lambda snap: snap[0])
    if before is None or after is None:
        return {}
    counts = {le: after[1].get(le, 0.0) - before[1].get(le, 0.0) for le in after[1]}
    every = counts.get(float("inf"), 0.0)
    if not every:
        return {"waited": 0.0}
    return {
        "waited": every,
        **{f"over_{ms}ms": 1 - counts.get(ms / 1000, every) / every for ms in (100, 250, 500, 1000)},
    }


def _show_steps(path: Path, shown: int) -> int:
    rows = path.read_text().splitlines() if path.exists() else []
    for line in rows[shown:]:
        row = json.loads(line)
        worst = max(row["p95_by_class"].items(), key=lambda item: item[1], default=("-", 0.0))
        row["cpu_pct"] = cpu_shares(row["measured_from"], row["measured_to"])
        shares = ", ".join(f"{part} {pct:.0f} %" for part, pct in row["cpu_pct"].items())
        progress(
            f"step {row['multiplier']}x: {row['rps']:.0f} requests/s, p95 {row['p95_ms']:.0f} ms "
            f"(worst {worst[0]} {worst[1]:.0f} ms), CPU {shares}, "
            f"{row.get('shed', 0)} shed, {'held' if row['held'] else 'NOT held: ' + row['reason']}"
        )
    return len(rows)


def run_overload_step(
    stack: Stack,
    plan_path: Path,
    out: Path,
    steps: list[dict[str, Any]],
    *,
    optional: list[str],
    step_s: float,
    warmup_s: float,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The last step: the scenario at ``OVERLOAD_FACTOR`` (3) times the held
    peak's multiplier, beyond what the stack holds. Admission control
    (gateway/api/admission.py) should shed what it cannot serve in time with
    503 ``overloaded`` and Retry-After, and serve the rest as fast as at the
    held peak: returns the admitted answers' p95 (``admitted_p95_ms``), the
    share of answers shed (``shed_share``), 5xx other than the overload answer
    (``server_errors``), connection errors and timeouts, and the run's
    history, which the end checks read with the steps' (the users honour
    Retry-After, and a shed order is posted again with the same key)."""
    held = [row for row in steps if row["held"]]
    if not held:
        progress("overload step: no step was held; skipped")
        return {"ran": False}, []
    peak = max(held, key=lambda row: row["rps"])
    multiplier = mix.OVERLOAD_FACTOR * peak["multiplier"]
    overload_out = out / "overload"
    overload_out.mkdir(parents=True, exist_ok=True)
    progress(
        f"overload step: {multiplier}x ({mix.OVERLOAD_FACTOR} x the held peak {peak['multiplier']}x) for {step_s:.0f} s"
    )
    history = _locust(
        stack, plan_path, overload_out, steps=[multiplier], step_s=step_s, warmup_s=warmup_s, optional=optional
    )
    row = json.loads((overload_out / "steps.jsonl").read_text().splitlines()[0])
    row["cpu_pct"] = cpu_shares(row["measured_from"], row["measured_to"])
    row["waits"] = wait_shares(row["measured_from"], row["measured_to"])
    figures = {
        "ran": True,
        "multiplier": multiplier,
        "peak_multiplier": peak["multiplier"],
        "peak_p95_ms": peak["p95_ms"],
        "row": row,
        "admitted_rps": row["rps"],
        "admitted_p95_ms": row["p95_ms"],
        "shed": row["shed"],
        "shed_share": row["shed_share"],
        "server_errors": row["server_errors"],
        "connection_errors": row["connection_errors"],
        "timeouts": row["timeouts"],
        "orders_acknowledged": sum(1 for entry in history if entry["kind"] == "order"),
    }
    classes = ", ".join(f"{name} {p95:.0f}" for name, p95 in sorted(row["p95_by_class"].items()))
    progress(
        f"overload step {multiplier}x: {row['rps']:.0f} admitted answers/s, p95 {row['p95_ms']:.0f} ms [{classes}] "
        f"(held peak {peak['multiplier']}x: p95 {peak['p95_ms']:.0f} ms); {row['shed']} shed "
        f"({row['shed_share']:.1%}, by class {row['shed_by_class']}); {row['server_errors']} other 5xx, "
        f"{row['connection_errors']} connection errors ({row['timeouts']} timeouts); "
        f"{figures['orders_acknowledged']} orders acknowledged"
    )
    return figures, history


FAULT_S = 75.0  # the fault run: PostgreSQL restarts at FAULT_PG_AT, Redis is away from FAULT_REDIS_AT for 30 s
FAULT_PG_AT, FAULT_REDIS_AT, REDIS_AWAY_S = 8.0, 20.0, 30.0


def run_fault_step(
    stack: Stack, plan_path: Path, out: Path, steps: list[dict[str, Any]], *, optional: list[str]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The scenario again at the held peak for ``FAULT_S`` seconds, while
    PostgreSQL restarts once (``pg_ctl restart -m fast``: every connection
    cut) and Redis goes away for ``REDIS_AWAY_S`` (shut down, then started
    again on its append-only file); the gateway, Celery and nginx are left
    alone. Returns the figures (5xx and connection errors during the run,
    acknowledged orders and those the database lacks, seconds until
    ``/health/ready`` answers 200 again after each fault) and the run's
    history, which the end checks read with the steps'."""
    held = [row for row in steps if row["held"]]
    if not held:
        progress("fault step: no step was held; skipped")
        return {"ran": False}, []
    peak = max(held, key=lambda row: row["rps"])["multiplier"]
    timeline: dict[str, float] = {}
    ready: list[tuple[float, int]] = []
    stop = threading.Event()

    def faults() -> None:
        started = time.monotonic()
        stop.wait(FAULT_PG_AT)
        timeline["pg_down"] = time.monotonic() - started
        stack.services_call("stop_postgres", "start_postgres")
        timeline["pg_up"] = time.monotonic() - started
        stop.wait(max(FAULT_REDIS_AT - (time.monotonic() - started), 0.0))
        timeline["redis_down"] = time.monotonic() - started
        stack.services_call("stop_redis")
        stop.wait(REDIS_AWAY_S)
        stack.services_call("start_redis")
        timeline["redis_up"] = time.monotonic() - started

    def probe() -> None:
        started = time.monotonic()
        while not stop.is_set():
            try:
                status = requests.get(f"{stack.url}/health/ready", timeout=2).status_code
            except requests.RequestException:
                status = 0
            ready.append((time.monotonic() - started, status))
            stop.wait(0.25)

    fault_out = out / "fault"
    fault_out.mkdir(parents=True, exist_ok=True)
    progress(
        f"fault step: {peak}x for {FAULT_S:.0f} s; PostgreSQL restarts at {FAULT_PG_AT:.0f} s, "
        f"Redis away from {FAULT_REDIS_AT:.0f} s for {REDIS_AWAY_S:.0f} s"
    )
    threads = [threading.Thread(target=faults), threading.Thread(target=probe)]
    for thread in threads:
        thread.start()
    try:
        history = _locust(stack, plan_path, fault_out, steps=[peak], step_s=FAULT_S, warmup_s=1.0, optional=optional)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    row = json.loads((fault_out / "steps.jsonl").read_text().splitlines()[0])
    accepted = {entry["order_id"] for entry in history if entry["kind"] == "order"}
    with psycopg.connect(stack.env["DATABASE_URL"], autocommit=True) as conn:
        found = {r[0] for r in conn.execute(_ORDERS_BY_ID, {"ids": sorted(accepted)})}
    figures = {
        "ran": True,
        "multiplier": peak,
        "server_errors": row["server_errors"],
        "internal_errors": row["statuses"].get("500", 0),
        "connection_errors": row["connection_errors"],
        "requests": row["requests"],
        "orders_acknowledged": len(accepted),
        "orders_lost": len(accepted - found),
        # How long /health/ready said 503 (or did not answer): the proof the faults happened.
        "not_ready_s": round(sum(b - a for (a, status), (b, _s) in itertools.pairwise(ready) if status != 200), 2),
        "worker_restarts": stack.worker_restarts(),
        "recover_after_pg_s": _ready_again(ready, timeline.get("pg_up")),
        "recover_after_redis_s": _ready_again(ready, timeline.get("redis_up")),
        "timeline": timeline,
    }
    progress(
        f"fault step: {row['requests']} requests, {row['server_errors']} 5xx ({figures['internal_errors']} of them "
        f"500s), {row['connection_errors']} "
        f"connection errors, {len(accepted)} orders acknowledged, {figures['orders_lost']} lost; not ready for "
        f"{figures['not_ready_s']} s; Celery worker restarted {figures['worker_restarts']} times; ready again "
        f"{figures['recover_after_pg_s']} s after PostgreSQL, {figures['recover_after_redis_s']} s after Redis"
    )
    return figures, history


_ORDERS_BY_ID = "SELECT public_id::text FROM commerce_order WHERE public_id::text = ANY(%(ids)s)"


def _ready_again(probes: list[tuple[float, int]], since: float | None) -> float | None:
    """Seconds from ``since`` until /health/ready answered 200 again (None: it never did)."""
    if since is None:
        return None
    for at, status in probes:
        if at >= since and status == 200:
            return round(at - since, 2)
    return None


def _drain(stack: Stack, subscriptions: dict[int, str], *, limit_s: float) -> float:
    """Seconds until the Celery queues are empty, no event waits for fan-out
    and no delivery is due, at most ``limit_s``."""
    client = redis.Redis.from_url(stack.env["REDIS_URL"])
    started = time.monotonic()
    with psycopg.connect(stack.env["DATABASE_URL"], autocommit=True) as conn:
        while time.monotonic() - started < limit_s:
            queued = sum(int(client.llen(queue)) for queue in CELERY_QUEUES)
            waiting = conn.execute(_WAITING, {"subs": list(subscriptions)}).fetchone()
            if not queued and waiting is not None and not any(waiting):
                break
            time.sleep(1)
    drained = time.monotonic() - started
    progress(f"queues and due webhooks drained in {drained:.1f} s")
    return drained


_WAITING = """
    SELECT (SELECT count(*) FROM partners_event WHERE dispatched_at IS NULL),
           (SELECT count(*) FROM partners_webhookdelivery
            WHERE subscription_id = ANY(%(subs)s) AND status = 'pending' AND next_attempt_at <= now())
"""
_ORDERS = """
    SELECT public_id::text, count(*) OVER (PARTITION BY customer_id, idempotency_key) FROM commerce_order
    WHERE store_id = ANY(%(stores)s)
"""
_ORDER_EVENTS = """
    SELECT type, subject, payload->>'status' FROM partners_event
    WHERE type IN ('order.created', 'order.status_changed') AND partner_id IS NULL
"""
# Events of a subscribed type, written after the subscription, without a delivery to it.
_UNDELIVERED = """
    SELECT count(*) FROM partners_webhooksubscription s
    JOIN partners_event e ON e.type = ANY(s.event_types) AND e.created_at >= s.created_at
    WHERE s.id = ANY(%(subs)s)
      AND NOT EXISTS (SELECT 1 FROM partners_webhookdelivery d WHERE d.subscription_id = s.id AND d.event_id = e.id)
"""
_DELIVERIES = """
    SELECT subscription_id, event_id, status, next_attempt_at IS NOT NULL FROM partners_webhookdelivery
    WHERE subscription_id = ANY(%(subs)s)
"""


def _checks(
    stack: Stack,
    plan: dict[str, Any],
    history: list[dict[str, Any]],
    subscriptions: dict[int, str],
    receiver: mix.WebhookReceiver,
) -> dict[str, int]:
    stores = [store["id"] for store in plan["stores"]]
    accepted = {row["order_id"] for row in history if row["kind"] == "order"}
    changes = {(row["order_id"], row["status"]) for row in history if row["kind"] == "status"}
    with psycopg.connect(stack.env["DATABASE_URL"], autocommit=True) as conn:
        one = {"stores": stores}
        oversold = sum(conn.execute(sql, one).fetchone()[0] for sql in (SLOTS_OUT_OF_STEP, STOCK_OUT_OF_STEP))  # type: ignore[index]
        stored = Counter(row[0] for row in conn.execute(_ORDERS, one))
        duplicated = sum(1 for row in conn.execute(_ORDERS, one) if row[1] > 1)
        order_events = conn.execute(_ORDER_EVENTS).fetchall()
        event_ids = {row[0] for row in conn.execute("SELECT id FROM partners_event")}
        subs = {"subs": list(subscriptions)}
        undelivered = conn.execute(_UNDELIVERED, subs).fetchone()[0]  # type: ignore[index]
        deliveries = conn.execute(_DELIVERIES, subs).fetchall()
    created = {subject for kind, subject, _status in order_events if kind == "order.created"}
    moved = {(subject, status) for kind, subject, status in order_events if kind == "order.status_changed"}
    events_missing = sum(1 for order in accepted if f"order:{order}" not in created)
    events_missing += sum(1 for order, status in changes if (f"order:{order}", status) not in moved)
    in_feed = _walk_feed(stack, plan)
    feed_missing, feed_twice = len(event_ids - set(in_feed)), len(in_feed) - len(set(in_feed))
    progress(f"feed: {len(in_feed)} events read through the API, {len(event_ids)} in the table")
    statuses = Counter((status, scheduled) for _sub, _event, status, scheduled in deliveries)
    unseen = sum(
        1
        for sub, event, status, _scheduled in deliveries
        if status == "succeeded" and f"msg_{event}" not in receiver.received.get(subscriptions[sub], set())
    )
    budget = campaign_budget_checks(stack.env["DATABASE_URL"], [plan["loyalty"]["campaign_id"]])
    progress(f"Black Friday campaign: {budget['live_redemptions']} live redemptions, {budget['live_discount']} EUR")
    return {
        "budget_overspend": budget["budget_overspend"],
        "budget_overspend_redemptions": budget["budget_overspend_redemptions"],
        "single_use_double_redemptions": budget["single_use_double_redemptions"],
        "budget_counters_out_of_step": budget["budget_counters_out_of_step"],
        "coupon_redemptions_live": budget["live_redemptions"],
        "points_ledger_mismatches": _points_ledger_mismatches(stack),
        "oversold": oversold,
        "ledger_mismatches": _ledger_mismatches(stack),
        "orders_missing": sum(1 for order in accepted if stored[order] == 0),
        "orders_duplicated": duplicated + sum(1 for order in accepted if stored[order] > 1),
        "events_missing": events_missing + feed_missing,
        "events_twice_in_feed": feed_twice,
        "webhooks_delivered": statuses[("succeeded", False)] + statuses[("succeeded", True)],
        "webhooks_scheduled_for_retry": statuses[("pending", True)],
        "webhooks_lost": undelivered + statuses[("failed", False)] + statuses[("failed", True)]
        + statuses[("pending", False)] + unseen,
        "webhook_signatures_invalid": receiver.summary()["invalid"],
    }  # fmt: skip


def _ledger_mismatches(stack: Stack) -> int:
    """inventory's own ledger check (``check_stock_ledger``): 0, or the number of levels it lists."""
    try:
        stack.manage("check_stock_ledger", "--limit", "1000000")
    except RuntimeError as exc:
        for line in str(exc).splitlines():
            if "ledger MISMATCH:" in line:
                return int(line.split("ledger MISMATCH:", 1)[1].split()[0])
        raise
    return 0


def _points_ledger_mismatches(stack: Stack) -> int:
    """loyalty's own ledger check (``check_points_ledger``): 0, or the members and buckets it lists."""
    try:
        stack.manage("check_points_ledger", "--limit", "1000000")
    except RuntimeError as exc:
        for line in str(exc).splitlines():
            if "points ledger MISMATCH:" in line:
                words = line.split("points ledger MISMATCH:", 1)[1].split()
                return int(words[0]) + int(words[words.index("and") + 1])
        raise
    return 0


def _walk_feed(stack: Stack, plan: dict[str, Any]) -> list[int]:
    """Every event id the operator reads through GET /api/v1/events from the start."""
    ids: list[int] = []
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {plan['operator_token']}"
    after = ""
    while True:
        response = session.get(f"{stack.url}/api/v1/events?page_size=500{after}", timeout=60)
        response.raise_for_status()
        results = response.json()["results"]
        if not results:
            return ids
        ids.extend(int(row["id"]) for row in results)
        after = f"&after={results[-1]['cursor']}"


def _figures(steps: list[dict[str, Any]], history: list[dict[str, Any]]) -> dict[str, Any]:
    held = [row for row in steps if row["held"]]
    normal = next((row for row in steps if row["multiplier"] == 1), None)
    peak = max(held, key=lambda row: row["rps"], default=None)
    return {
        "steps": steps,
        "normal_rps": normal["rps"] if normal else 0.0,
        "peak": peak,
        "peak_rps_held": peak["rps"] if peak else 0.0,
        "peak_multiplier_held": peak["multiplier"] if peak else 0,
        "p95_ms_at_peak": peak["p95_ms"] if peak else 0.0,
        "server_errors": sum(row["server_errors"] + row["connection_errors"] for row in steps),
        "stopped_by": next((f"{row['multiplier']}x: {row['reason']}" for row in steps if not row["held"]), ""),
        "orders_accepted": sum(1 for row in history if row["kind"] == "order"),
        "status_changes": sum(1 for row in history if row["kind"] == "status"),
        "sync_lines": sum(row["lines"] for row in history if row["kind"] == "sync"),
        "checkouts": Counter(row["final"] for row in history if row["kind"] == "checkout"),
        "member_orders": sum(1 for row in history if row["kind"] == "order" and row.get("member")),
        "coupon_orders": sum(1 for row in history if row["kind"] == "order" and row.get("coupon")),
        "points_orders": sum(1 for row in history if row["kind"] == "order" and row.get("points")),
        "quotes": sum(1 for row in history if row["kind"] == "quote"),
        "member_tickets": sum(1 for row in history if row["kind"] == "ticket"),
        "coupon_tickets": sum(1 for row in history if row["kind"] == "ticket" and row.get("coupon")),
    }


def _chart(steps: list[dict[str, Any]], path: Path) -> None:
    """Per step: throughput (bars), p95 per class (the 500 ms limit dashed), and the CPU shares of the
    stack, Locust and the rest of the machine."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{row['multiplier']}x" for row in steps]
    figure, (top, bottom, cpu) = plt.subplots(3, 1, figsize=(10, 9), sharex=True)
    top.bar(labels, [row["rps"] for row in steps], color=["#4c72b0" if row["held"] else "#c44e52" for row in steps])
    top.set_ylabel("requests/s (measured part of the step)")
    top.set_title("Black Friday steps: throughput, and p95 by class (red bar: the step not held)")
    for name in sorted({name for row in steps for name in row["p95_by_class"]}):
        bottom.plot(labels, [row["p95_by_class"].get(name, float("nan")) for row in steps], marker="o", label=name)
    bottom.axhline(mix.P95_LIMIT_MS, color="grey", linestyle="--", label="limit")
    bottom.set_ylabel("p95 ms")
    bottom.legend(fontsize="small")
    for part in ("stack", "locust", "outside"):
        cpu.plot(labels, [row["cpu_pct"].get(part, float("nan")) for row in steps], marker="o", label=part)
    cpu.set_ylabel("% of the machine's CPU")
    cpu.set_xlabel("multiplier of the normal day's busiest hour")
    cpu.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def _report(figures: dict[str, Any], checks: dict[str, int], receiver: dict[str, Any]) -> int:
    progress("web CPU per route during the stepping (serving threads; PostgreSQL not included), costliest first:")
    for row in figures["route_costs"][:12]:
        progress(
            f"  {row['method']:6} {row['route'][:56]:56} {row['requests']:7d} requests "
            f"{row['cpu_ms_per_request']:6.2f} ms each, {row['cpu_share']:6.1%} of the web CPU"
        )
    every = figures["route_costs"]
    web_ms = sum(row["cpu_s"] for row in every) / max(sum(row["requests"] for row in every), 1) * 1000
    result("web_cpu_ms_per_request", round(web_ms, 2), "ms (serving threads, during the stepping)", digits=2)
    overload = figures["overload"]
    for row in [*figures["steps"], *([overload["row"]] if overload.get("ran") else [])]:
        classes = ", ".join(f"{name} {p95:.0f}" for name, p95 in sorted(row["p95_by_class"].items()))
        cpu = ", ".join(f"{part} {pct:.0f} %" for part, pct in row["cpu_pct"].items())
        waits = ", ".join(f"{name} {share:.2%}" for name, share in row["waits"].items() if name != "waited")
        progress(
            f"{row['multiplier']:>3}x {row['rps']:7.1f} req/s p95 {row['p95_ms']:6.1f} ms [{classes}] CPU [{cpu}] "
            f"shed {row['shed']} ({row['shed_share']:.2%}); queue waits [{waits}]"
        )
    progress(f"stopped by: {figures['stopped_by'] or 'the last step'}; checkouts: {dict(figures['checkouts'])}")
    progress(f"receiver: {receiver}")
    normal = figures["normal_rps"]
    result("instances", figures["instances"], "gateway instances")
    result("normal_rps", float(normal), "requests/s")
    result("peak_rps_held", float(figures["peak_rps_held"]), "requests/s")
    result("peak_multiplier_held", figures["peak_multiplier_held"], "x")
    result("peak_vs_normal", figures["peak_rps_held"] / normal if normal else 0.0, "x")
    result("p95_ms_at_peak", float(figures["p95_ms_at_peak"]), "ms")
    result("server_errors", figures["server_errors"], "responses")
    for metric in ("orders_accepted", "status_changes", "sync_lines", "member_orders", "coupon_orders",
                   "points_orders", "quotes", "member_tickets", "coupon_tickets"):  # fmt: skip
        result(metric, figures[metric], "")
    for metric, value in checks.items():
        result(metric, value, "")
    # Everything the Celery worker (beat in it) did from the first step to the drain, over what it
    # delivered: the fan-out, the deliveries, the outbox sweeps, the other periodic tasks.
    delivered = max(checks["webhooks_delivered"], 1)
    result("celery_cpu_ms_per_webhook", round(figures["celery_cpu_s"] * 1000 / delivered, 2), "ms", digits=2)
    cores = psutil.cpu_count() or 1
    stepped = figures["steps"]
    everything = cpu_shares(stepped[0]["measured_from"], stepped[-1]["measured_to"]) if stepped else {}
    for part in ("stack", "locust", "outside"):
        result(f"cpu_share_{part}_pct", round(everything.get(part, 0.0), 1), f"% of {cores} cores during the steps")
    peak_cpu = (figures["peak"] or {}).get("cpu_pct", {})
    for part in ("stack", "outside", *STACK_PARTS):
        result(f"cpu_share_{part}_pct_at_peak", round(peak_cpu.get(part, 0.0), 1), f"% of {cores} cores")
    if overload.get("ran"):
        result("overload_multiplier", overload["multiplier"], "x")
        result("admitted_p95_ms", float(overload["admitted_p95_ms"]), "ms")
        result("admitted_rps", float(overload["admitted_rps"]), "requests/s")
        # What the stack served at all past its peak, in normal days: on this machine
        # peak_vs_normal cannot pass it, however short the latencies.
        result("admitted_vs_normal", float(overload["admitted_rps"]) / normal if normal else 0.0, "x")
        result("shed_share", float(overload["shed_share"]), "", digits=3)
        for metric in ("shed", "server_errors", "connection_errors", "timeouts", "orders_acknowledged"):
            result(f"overload_{metric}", overload[metric], "")
        saturated = overload["row"].get("cpu_pct", {})
        for part in ("stack", "locust", *STACK_PARTS):
            result(f"overload_cpu_share_{part}_pct", round(saturated.get(part, 0.0), 1), f"% of {cores} cores")
    fault = figures["fault"]
    if fault.get("ran"):
        result("fault_multiplier", fault["multiplier"], "x")
        for metric in (
            "server_errors", "internal_errors", "connection_errors", "requests", "orders_acknowledged", "orders_lost",
            "worker_restarts",
        ):  # fmt: skip
            result(f"fault_{metric}", fault[metric], "")
        for metric in ("not_ready_s", "recover_after_pg_s", "recover_after_redis_s"):
            value = fault[metric]
            result(f"fault_{metric}", float("nan") if value is None else float(value), "s", digits=2)
    result("seed_s", round(figures["seed_s"], 1), "s")
    result("drain_s", round(figures["drain_s"], 1), "s")
    result("cpu_speed_index", round(figures["cpu_speed"], 1), "Msteps/s")
    failed = [name for name in ("oversold", "ledger_mismatches", "orders_missing", "orders_duplicated",
                                "events_missing", "events_twice_in_feed", "webhooks_lost",
                                "webhook_signatures_invalid", "budget_overspend", "budget_overspend_redemptions",
                                "single_use_double_redemptions", "budget_counters_out_of_step",
                                "points_ledger_mismatches") if checks[name]]  # fmt: skip
    if figures["server_errors"]:
        failed.append("server_errors")
    if not figures["orders_accepted"]:
        failed.append("no order accepted")
    if overload.get("ran") and (overload["server_errors"] or overload["connection_errors"]):
        failed.append("overload: 5xx or connection errors")
    if fault.get("ran") and fault["orders_lost"]:
        failed.append("fault_orders_lost")
    if fault.get("ran") and None in (fault["recover_after_pg_s"], fault["recover_after_redis_s"]):
        failed.append("fault: not ready again")
    return verdict(failed)


if __name__ == "__main__":
    run_timed(main)
