"""Footfall benchmark (docs/benchmarks.md): a month of 15-minute
counts for 1,800 stores with two sensors each (an entrance and a window:
10.4 M intervals) sent through the HTTP API in batches as large as the
endpoint allows, by several client threads; then KPI query times for one
store over the month and for the whole network over one day.

    .venv/bin/python loadtests/bench_footfall.py            # full size
    .venv/bin/python loadtests/bench_footfall.py --quick    # under a minute
    .venv/bin/python loadtests/bench_footfall.py --stores 600 --days 30   # a stated fraction

Stores, sensors and till sales are seeded by ``manage.py footfall_seed_bench``
(set-based); counts go through ``POST /api/v1/footfall/counts`` as an
operator client (which may write any sensor) made with ``create_api_client``. Afterwards it checks that every
accepted interval is stored exactly once with the values sent, that the
daily totals equal the intervals, that a re-sent batch changes nothing, and
that the KPI endpoint returns the figures sent; it exits non-zero otherwise.

Runs on an instance of its own (PostgreSQL 15444, Redis 16394), so another
benchmark using the shared "bench" instance is not disturbed."""

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtests.harness import Stack, cpu_speed, progress, result

INSTANCE, PG_PORT, REDIS_PORT = "footfall-bench", 15444, 16394
BATCH = 5000  # the endpoint's limit (footfall.services.adapters.MAX_BATCH_RECORDS)
FIRST_DAY = dt.date(2026, 10, 1)  # 30 days of October 2026, across the fall-back night of the 25th
UTC = dt.UTC


# ------------------------------------------------------------------ the counts sent


@dataclass
class Plan:
    stores: int
    days: int
    starts: list[str] = field(default_factory=list)
    ends: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Local midnight of the first day in Paris (UTC+2 in October) and every quarter-hour after it.
        origin = dt.datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day, tzinfo=UTC) - dt.timedelta(hours=2)
        quarter = dt.timedelta(minutes=15)
        instants = [origin + quarter * i for i in range(self.days * 96 + 1)]
        self.starts = [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in instants[:-1]]
        self.ends = [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in instants[1:]]

    @property
    def total(self) -> int:
        return self.stores * 2 * len(self.starts)


def counts(store: int, sensor: int, i: int) -> tuple[int, int]:
    """Deterministic in and out of an interval (entrance: 0-16 and 0-12; window: 0-96 and 0-88)."""
    if sensor == 0:
        return (store * 7 + i * 3) % 17, (store * 5 + i * 2) % 13
    return (store + i * 11) % 97, (store * 3 + i * 7) % 89


def code(store: int, sensor: int) -> str:
    return f"BENCH{store:04d}-{'E1' if sensor == 0 else 'W1'}"


def record_stream(plan: Plan) -> Iterator[str]:
    for store in range(1, plan.stores + 1):
        for sensor in (0, 1):
            prefix = f'{{"sensor":"{code(store, sensor)}","start":"'
            for i, (start, end) in enumerate(zip(plan.starts, plan.ends, strict=True)):
                a, b = counts(store, sensor, i)
                yield f'{prefix}{start}","end":"{end}","in":{a},"out":{b}}}'


def batches(plan: Plan) -> Iterator[tuple[int, str]]:
    chunk: list[str] = []
    for record in record_stream(plan):
        chunk.append(record)
        if len(chunk) == BATCH:
            yield len(chunk), '{"intervals":[' + ",".join(chunk) + "]}"
            chunk = []
    if chunk:
        yield len(chunk), '{"intervals":[' + ",".join(chunk) + "]}"


def expected_totals(plan: Plan) -> tuple[int, int]:
    total_in = total_out = 0
    for store in range(1, plan.stores + 1):
        for sensor in (0, 1):
            for i in range(len(plan.starts)):
                a, b = counts(store, sensor, i)
                total_in += a
                total_out += b
    return total_in, total_out


# ------------------------------------------------------------------ ingest


class Ingest:
    def __init__(self, url: str, token: str, plan: Plan, clients: int) -> None:
        self.url, self.token, self.plan, self.clients = url, token, plan, clients
        self.source = batches(plan)
        self.lock = threading.Lock()
        self.sent = 0
        self.failures: list[str] = []
        self.first_batch: str | None = None

    def _next(self) -> tuple[int, str] | None:
        with self.lock:
            item = next(self.source, None)
            if item is not None and self.first_batch is None:
                self.first_batch = item[1]
            return item

    def _client(self) -> None:
        session = requests.Session()
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        while (item := self._next()) is not None:
            size, body = item
            response = session.post(f"{self.url}/api/v1/footfall/counts", data=body, headers=headers, timeout=120)
            # The answer starts with its totals; reading them is enough (and far
            # cheaper for this client than decoding 5,000 per-record results).
            head = response.content[:120].decode(errors="replace")
            if response.status_code != 200 or f'"rejected":0,"created":{size},' not in head:
                self.failures.append(f"{response.status_code} {response.text[:300]}")
            with self.lock:
                self.sent += size

    def run(self) -> float:
        started = time.perf_counter()
        with ThreadPoolExecutor(self.clients) as pool:
            futures = [pool.submit(self._client) for _ in range(self.clients)]
            # Wakes up when the last client finishes, not at the next 5 s tick: a
            # sleep(5) loop measured whole 5 s steps (10.1 s or 15.1 s for the
            # 403,200 intervals of --stores 300 --days 7: 40,000 or 26,700/s, nothing between).
            while wait(futures, timeout=5).not_done:
                elapsed = time.perf_counter() - started
                progress(f"  {self.sent:,} / {self.plan.total:,} intervals, {self.sent / elapsed:,.0f}/s")
            seconds = time.perf_counter() - started
            for future in futures:
                future.result()
        return seconds


# ------------------------------------------------------------------ checks and KPI timings


def storage_queries(env: dict[str, str]) -> tuple[str, str]:
    """The two checking queries, with table and column names from the models
    (Django set up in this process with the stack's settings, only to read
    them: the bench itself talks HTTP and plain psycopg)."""
    os.environ.update(env)
    import django

    django.setup()
    from footfall.models import CountDay, CountInterval, Sensor
    from gateway.sql import fragment

    intervals = fragment(
        "SELECT count(*), sum(c.{c.in_count}), sum(c.{c.out_count}) FROM {c} c "
        "JOIN {s} s ON s.{s.id} = c.{c.sensor} WHERE s.{s.code} LIKE 'BENCH%'",
        c=CountInterval,
        s=Sensor,
    )
    days = fragment(
        "SELECT sum(d.{d.in_total}), sum(d.{d.out_total}) FROM {d} d "
        "JOIN {s} s ON s.{s.id} = d.{d.sensor} WHERE s.{s.code} LIKE 'BENCH%'",
        d=CountDay,
        s=Sensor,
    )
    return intervals, days


def check_storage(env: dict[str, str], plan: Plan) -> list[str]:
    problems = []
    want_in, want_out = expected_totals(plan)
    intervals, days = storage_queries(env)
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        rows, got_in, got_out = conn.execute(intervals).fetchall()[0]
        day_in, day_out = conn.execute(days).fetchall()[0]
    if rows != plan.total:
        problems.append(f"stored intervals {rows} != sent {plan.total}")
    if (got_in, got_out) != (want_in, want_out):
        problems.append(f"stored totals {(got_in, got_out)} != sent {(want_in, want_out)}")
    if (day_in, day_out) != (got_in, got_out):
        problems.append(f"daily totals {(day_in, day_out)} != interval totals {(got_in, got_out)}")
    return problems


def check_resend(url: str, token: str, body: str) -> list[str]:
    response = requests.post(
        f"{url}/api/v1/footfall/counts",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=120,
    )
    answer = response.json()
    if answer.get("unchanged") != BATCH:
        return [f"a re-sent batch changed something: {str(answer)[:300]}"]
    return []


def check_kpis(session: requests.Session, url: str, plan: Plan) -> list[str]:
    store = 1
    visitors = sum(counts(store, 0, i)[0] for i in range(len(plan.starts)))
    passersby = sum(sum(counts(store, 1, i)) for i in range(len(plan.starts)))
    last = FIRST_DAY + dt.timedelta(days=plan.days - 1)
    body = session.get(
        f"{url}/api/v1/footfall/kpis", params={"store": code(store, 0)[:9], "from": str(FIRST_DAY), "to": str(last)}
    ).json()
    got = (body["current"]["visitors"], body["current"]["passersby"])
    if got != (visitors, passersby):
        return [f"KPIs of {code(store, 0)[:9]}: {got} != sent {(visitors, passersby)}"]
    if body["current"]["conversion_rate"] is None:
        return ["KPIs: no conversion although sales were seeded"]
    return []


def p95_ms(session: requests.Session, url: str, queries: list[dict[str, str]]) -> tuple[float, float]:
    for params in queries[:5]:
        session.get(f"{url}/api/v1/footfall/kpis", params=params).raise_for_status()  # warm caches
    times = []
    for params in queries:
        started = time.perf_counter()
        session.get(f"{url}/api/v1/footfall/kpis", params=params).raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="60 stores x 7 days (under a minute)")
    parser.add_argument("--stores", type=int, default=1800)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    args = parser.parse_args()
    stores, days = (60, 7) if args.quick else (args.stores, args.days)
    plan = Plan(stores, days)
    problems: list[str] = []
    with Stack(instance=INSTANCE, pg_port=PG_PORT, redis_port=REDIS_PORT, port=8844, workers=2, threads=4) as stack:
        progress(f"seeding {stores} stores, {2 * stores} sensors and their sales")
        progress(
            "  "
            + stack.manage(
                "footfall_seed_bench", "--stores", str(stores), "--first-day", str(FIRST_DAY), "--days", str(days)
            ).strip()
        )
        created = stack.manage("create_api_client", "--name", "footfall bench", "--kind", "operator")
        credentials = dict(line.split("=", 1) for line in created.split() if "=" in line)
        token = stack.token(credentials["client_id"], credentials["client_secret"])
        progress(f"sending {plan.total:,} intervals in batches of {BATCH} with {args.clients} clients")
        progress(f"  machine load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        ingest = Ingest(stack.url, token, plan, args.clients)
        seconds = ingest.run()
        problems += ingest.failures[:5]
        progress(f"ingested in {seconds:.1f} s (load average {os.getloadavg()[0]:.1f}); checking storage")
        problems += check_storage(stack.env, plan)
        if ingest.first_batch:
            problems += check_resend(stack.url, token, ingest.first_batch)
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        problems += check_kpis(session, stack.url, plan)
        rng = random.Random(5)
        last = FIRST_DAY + dt.timedelta(days=days - 1)
        month = [
            {"store": f"BENCH{rng.randint(1, stores):04d}", "from": str(FIRST_DAY), "to": str(last)} for _ in range(200)
        ]
        day_queries = [{"from": str(FIRST_DAY + dt.timedelta(days=rng.randrange(days)))} for _ in range(100)]
        for query in day_queries:
            query["to"] = query["from"]
        progress("timing KPI queries")
        month_p50, month_p95 = p95_ms(session, stack.url, month)
        day_p50, day_p95 = p95_ms(session, stack.url, day_queries)
    for problem in problems:
        progress(f"FAILED: {problem}")
    progress(f"store-month KPI p50 {month_p50:.1f} ms, network-day KPI p50 {day_p50:.1f} ms")
    result("ingest_intervals", plan.total, "intervals")
    result("ingest_intervals_per_s", round(plan.total / seconds, 1), "intervals/s")
    result("kpi_store_month_p95_ms", round(month_p95, 1), "ms")
    result("kpi_network_day_p95_ms", round(day_p95, 1), "ms")
    result("failed_checks", len(problems), "checks")
    result("cpu_speed_index", round(cpu_speed(), 1), "Msteps/s")  # harness.cpu_speed: compare runs alongside it
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
