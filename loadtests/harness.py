"""What every benchmark shares (docs/benchmarks.md): start the real stack on
an instance and ports of its own (PostgreSQL, Redis, a fresh database, the
WSGI server with the bench settings, optionally a Celery worker), make API
clients and get tokens through /oauth/token/, print progress, a CPU speed
index and ``RESULT metric=value unit`` lines. Everything started is stopped
on exit, on failure half way through starting, or on Ctrl-C.

    with Stack(instance="inventory-sync-bench", pg_port=15464, redis_port=16414, port=8864) as stack:
        token = stack.token(*stack.client("operator", "bench operator"))
        ...
        result("bulk_sync_lines_per_s", 23500, "lines/s")
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn

import psutil
import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def result(metric: str, value: float | int, unit: str, digits: int = 1) -> None:
    """One ``RESULT`` line; a float with ``digits`` decimals (more for a ratio near 1)."""
    shown = f"{value:.{digits}f}" if isinstance(value, float) else str(value)
    print(f"RESULT {metric}={shown} {unit}", flush=True)


def verdict(failed: list[str]) -> int:
    """A bench's exit status: 1, naming the failed checks, when any failed."""
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def run_timed(main: Callable[[], int]) -> NoReturn:
    """Run a bench's ``main``, say how long it took, and exit with its status."""
    started = time.monotonic()
    code = main()
    progress(f"done in {time.monotonic() - started:.0f} s")
    sys.exit(code)


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy so far (all cores, every process)."""
    times = psutil.cpu_times()
    return float(times.user + times.nice + times.system + times.irq + times.softirq + getattr(times, "steal", 0.0))


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """What each part of two ``Stack.cpu_seconds`` readings used between them."""
    return {part: after[part] - before.get(part, 0.0) for part in after}


def cpu_speed() -> float:
    """Millions of loop steps per CPU second of a fixed pure-Python loop (best
    of five). On the shared virtual machines this project is measured on, the
    same work took from 0.37 to 0.65 s of CPU within a minute, and the index
    read 3.9 and 9.8 within ten minutes of one day: figures of two runs compare
    only alongside it, so every benchmark prints it (``cpu_speed_index``)."""
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        total = 0
        for step in range(300_000):
            total += step * step
        best = min(best, time.process_time() - started)
    return 0.3 / max(best, 1e-9)


# Checks after a run, shared by the benchmarks that place orders (parameter:
# ``stores``, the ids of the stores the run used). Slots over capacity or whose
# booked count differs from their live orders:
SLOTS_OUT_OF_STEP = """
    SELECT count(*) FROM commerce_pickupslot s
    WHERE s.store_id = ANY(%(stores)s)
      AND (s.booked + s.held > s.capacity
           OR s.booked <> (SELECT count(*) FROM commerce_order o
                           WHERE o.slot_id = s.id AND o.status NOT IN ('cancelled', 'no_show')))
"""
# Stock levels oversold, out of step with their ledger, or whose reserved units
# differ from the open orders' lines:
STOCK_OUT_OF_STEP = """
    SELECT count(*) FROM inventory_stocklevel l
    LEFT JOIN (SELECT stock_level_id, sum(delta_on_hand) AS on_hand, sum(delta_reserved) AS reserved
               FROM inventory_stockmovement GROUP BY stock_level_id) m ON m.stock_level_id = l.id
    LEFT JOIN (SELECT o.store_id, ol.product_id, sum(ol.quantity) AS quantity
               FROM commerce_orderline ol JOIN commerce_order o ON o.id = ol.order_id
               WHERE o.status IN ('placed', 'preparing', 'ready') GROUP BY o.store_id, ol.product_id) r
           ON r.store_id = l.location_id AND r.product_id = l.product_id
    WHERE l.location_id = ANY(%(stores)s)
      AND (l.on_hand < 0 OR l.reserved < 0 OR l.reserved > l.on_hand
           OR l.on_hand <> COALESCE(m.on_hand, 0) OR l.reserved <> COALESCE(m.reserved, 0)
           OR l.reserved <> COALESCE(r.quantity, 0))
"""


# Checks of loyalty campaigns after a run, shared by the benchmarks that redeem coupons
# (parameters: ``campaigns``, the campaign ids; ``live``, the states that hold budget).
LIVE_REDEMPTIONS = ("reserved", "confirmed")
# Per budget: its limits, the campaign's live redemptions (count, net discount) and the sum of its counters.
_BUDGETS = """
    SELECT b.limit_count, b.limit_amount,
           (SELECT count(*) FROM loyalty_redemption r WHERE r.campaign_id = b.campaign_id AND r.state = ANY(%(live)s)),
           (SELECT COALESCE(sum(r.discount_amount - r.rolled_back_amount), 0) FROM loyalty_redemption r
            WHERE r.campaign_id = b.campaign_id AND r.state = ANY(%(live)s)),
           (SELECT COALESCE(sum(c.used_count), 0) FROM loyalty_budgetcounter c WHERE c.budget_id = b.id),
           (SELECT COALESCE(sum(c.used_amount), 0) FROM loyalty_budgetcounter c WHERE c.budget_id = b.id),
           b.scope, b.campaign_id
    FROM loyalty_campaignbudget b WHERE b.campaign_id = ANY(%(campaigns)s)
"""
# Single-use codes redeemed beyond their limit (live redemptions or the code's own counter).
_DOUBLE = """
    SELECT count(*) FROM loyalty_couponcode c
    WHERE c.campaign_id = ANY(%(campaigns)s) AND c.kind = 'unique'
      AND (c.used_count > c.usage_limit
           OR (SELECT count(*) FROM loyalty_redemption r WHERE r.code_id = c.id AND r.state = ANY(%(live)s))
              > c.usage_limit)
"""
# Single-use codes whose counter differs from their live redemptions.
_CODES_OUT_OF_STEP = """
    SELECT count(*) FROM loyalty_couponcode c
    WHERE c.campaign_id = ANY(%(campaigns)s) AND c.kind = 'unique'
      AND c.used_count <> (SELECT count(*) FROM loyalty_redemption r WHERE r.code_id = c.id AND r.state = ANY(%(live)s))
"""


def campaign_budget_checks(database_url: str, campaign_ids: list[int]) -> dict[str, Any]:
    """The campaigns' live redemptions (reserved + confirmed) within every
    budget's count and amount limits (``budget_overspend`` in money,
    ``budget_overspend_redemptions``), no single-use code redeemed beyond its
    limit, and every counter equal to the live redemptions. A total budget
    is one counter; a per-member, per-store or per-day budget is one counter
    per member, store or day, and the counters of a budget add up to the
    campaign's live redemptions all the same (each redemption takes one unit
    of every budget concerned). The overspend of a split budget is judged on
    each counter by its own CHECK (used <= limit), which PostgreSQL enforces:
    here the total budgets carry the figure. Also returns the live count and
    net discount of the campaigns (``live_redemptions``, ``live_discount``)."""
    params = {"campaigns": campaign_ids, "live": list(LIVE_REDEMPTIONS)}
    with psycopg.connect(database_url) as conn:
        budgets = conn.execute(_BUDGETS, params).fetchall()
        double = conn.execute(_DOUBLE, params).fetchone()[0]  # type: ignore[index]
        codes_out = conn.execute(_CODES_OUT_OF_STEP, params).fetchone()[0]  # type: ignore[index]
    overspend_count, overspend_amount, counters_out = 0, Decimal(0), 0
    live: dict[int, tuple[int, Decimal]] = {}
    for limit_count, limit_amount, live_count, live_amount, used_count, used_amount, scope, campaign in budgets:
        if scope == "total" and limit_count is not None:
            overspend_count += max(0, live_count - limit_count)
        if scope == "total" and limit_amount is not None:
            overspend_amount += max(Decimal(0), live_amount - limit_amount)
        counters_out += int(used_count != live_count) + int(used_amount != live_amount)
        live[campaign] = (live_count, live_amount)
    return {
        "budget_overspend": float(overspend_amount),
        "budget_overspend_redemptions": overspend_count,
        "single_use_double_redemptions": double,
        "budget_counters_out_of_step": counters_out + codes_out,
        "live_redemptions": sum(count for count, _amount in live.values()),
        "live_discount": sum((amount for _count, amount in live.values()), Decimal(0)),
    }


def route_cost_table(
    before: dict[tuple[str, str], tuple[float, float]], after: dict[tuple[str, str], tuple[float, float]]
) -> list[dict[str, Any]]:
    """What ran between two ``Stack.route_costs()``: per (method, route), the
    requests, the serving threads' CPU ms per request and the route's share of
    all that CPU, the costliest first."""
    rows: list[dict[str, Any]] = []
    for key, (count, cpu) in after.items():
        earlier = before.get(key, (0.0, 0.0))
        requests_run, cpu_s = count - earlier[0], cpu - earlier[1]
        if requests_run > 0:
            rows.append({"method": key[0], "route": key[1], "requests": int(requests_run), "cpu_s": cpu_s})
    total = sum(row["cpu_s"] for row in rows) or 1.0
    for row in rows:
        row["cpu_ms_per_request"] = row["cpu_s"] / row["requests"] * 1000
        row["cpu_share"] = row["cpu_s"] / total
    return sorted(rows, key=lambda row: -row["cpu_s"])


def balancer_available() -> bool:
    """Whether bin/lib.sh has the nginx balancer (``start_balancer``), which
    puts several gateway instances behind one address as production does."""
    return "start_balancer()" in (ROOT / "bin" / "lib.sh").read_text()


# The /metrics series route_costs adds up: requests, and the serving threads' CPU seconds.
_ROUTE_SERIES = (("gateway_http_requests_total{", 0), ("gateway_http_request_cpu_seconds_total{", 1))


class Stack:
    """PostgreSQL + Redis of one instance (``bin/services``, ports of its
    own, so a benchmark of another app running meanwhile never resets this
    one's database), a fresh database, migrations, the granian WSGI server
    with the bench settings (production ones plus the loadtests app: its
    seeding commands and ceiling endpoints) and rate limits out of the way,
    and optionally a Celery worker (``celery_nice`` lowers its priority;
    ``beat`` runs the periodic tasks in it too). No demo data: each benchmark
    makes what it needs with the project's commands. Commands and the worker
    run with the same settings.

    ``instances`` > 1 starts that many granian servers on the ports after
    ``port`` and the project's nginx balancer (bin/lib.sh ``start_balancer``)
    on ``port`` in front of them, as ``bin/serve --instances N`` does;
    ``url`` is then the balancer's. ``env`` adds settings (for example
    ``WEBHOOK_ALLOW_PRIVATE_TARGETS`` for a local webhook receiver)."""

    def __init__(
        self,
        *,
        instance: str,
        pg_port: int,
        redis_port: int,
        port: int,
        workers: int = 2,
        threads: int = 4,
        celery: bool = False,
        celery_nice: int = 0,
        beat: bool = False,
        instances: int = 1,
        env: dict[str, str] | None = None,
    ) -> None:
        if instances > 1 and not balancer_available():
            raise RuntimeError("several instances need the balancer of bin/lib.sh (start_balancer)")
        self.instance, self.port = instance, port
        self.instances, self.beat, self.extra_env = instances, beat, dict(env or {})
        self.server_ports = [port] if instances == 1 else [port + 1 + n for n in range(instances)]
        self.server_processes: list[subprocess.Popen[bytes]] = []
        self.balancer_started = False
        self.ports = {"PG_PORT": str(pg_port), "REDIS_PORT": str(redis_port)}
        self.url = f"http://127.0.0.1:{port}"
        self.workers, self.threads, self.celery, self.celery_nice = workers, threads, celery, celery_nice
        self.processes: list[subprocess.Popen[bytes]] = []
        self.env: dict[str, str] = {}
        # The last CPU seconds seen of every process of the stack, by (part, pid, start time).
        self._cpu_seen: dict[tuple[str, int, float], float] = {}

    def services(self, action: str) -> dict[str, str]:
        """``bin/services start|stop`` for this instance; the environment it exports."""
        out = subprocess.run(
            [str(ROOT / "bin" / "services"), action, self.instance],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, **self.ports},
        ).stdout
        env: dict[str, str] = {}
        for part in out.replace("export ", "").split():
            if "=" in part:
                key, value = part.split("=", 1)
                env[key] = value.strip("'")
        return env

    def __enter__(self) -> "Stack":
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        progress(f"starting PostgreSQL and Redis (instance {self.instance})")
        try:
            self.env = {
                **os.environ,
                **self.services("start"),
                "DJANGO_SETTINGS_MODULE": "gateway.settings.bench",
                "SECRET_KEY": "bench-" + "x" * 60,
                "SECURE_SSL_REDIRECT": "0",
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "LOG_LEVEL": "WARNING",
                "RATE_LIMIT_INTERNAL": "100000000",
                "RATE_LIMIT_PREMIUM": "100000000",
                "RATE_LIMIT_STANDARD": "100000000",
                "DB_POOL_MAX": str(self.threads + 2),
                **self.extra_env,
            }
            self.manage("reset_bench_database", "--force")
            progress("migrating")
            self.manage("migrate", "--no-input", "-v", "0")
            for server_port in self.server_ports:
                self.start_server(server_port)
            if self.instances > 1:
                self.start_balancer()
            if self.celery:
                celery = [str(ROOT / ".venv" / "bin" / "celery"), "-A", "gateway", "worker", "-l", "warning", "-c", "2"]
                if self.beat:
                    schedule = ROOT / ".var" / self.instance / "celerybeat-schedule"
                    schedule.parent.mkdir(parents=True, exist_ok=True)
                    celery += ["-B", "-s", str(schedule)]
                # Under bin/lib.sh's supervisor, as bin/serve runs it: a worker that dies (Redis
                # going away can kill it) is started again, and its log says so (worker_restarts).
                command = ["nice", "-n", str(self.celery_nice), *celery] if self.celery_nice else celery
                self.worker_log.parent.mkdir(parents=True, exist_ok=True)
                self.worker_log.write_text("")
                self.processes.append(
                    subprocess.Popen(
                        ["bash", "-c", 'source bin/lib.sh; supervise celery-worker "$0" "$@"', str(self.worker_log),
                         *command],
                        cwd=ROOT,
                        env=self.env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )  # fmt: skip
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    @property
    def worker_log(self) -> Path:
        return ROOT / ".var" / self.instance / "log" / "celery-worker.log"

    def worker_restarts(self) -> int:
        """How often the supervisor started the Celery worker again."""
        if not self.worker_log.exists():
            return 0
        return self.worker_log.read_text(errors="replace").count("supervise: celery-worker exited")

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds (user + system) used so far by each part of the stack,
        children included: ``server`` (the granian servers), ``celery``
        (the other processes started: the worker under its supervisor),
        ``postgres``, ``redis`` and, behind the balancer, ``nginx``. A process
        that ended since an earlier reading (a PostgreSQL backend, the whole
        cluster at a restart) keeps what it used, so a part's total never
        falls: subtract two readings (``cpu_delta``) to cost what ran between."""
        var = ROOT / ".var" / self.instance
        servers = [process.pid for process in self.server_processes]
        roots: dict[str, list[int]] = {
            "server": servers,
            "celery": [process.pid for process in self.processes if process.pid not in servers],
            "postgres": [],
            "redis": [],
        }
        with contextlib.suppress(OSError, ValueError, IndexError):
            roots["postgres"].append(int((var / "pg" / "postmaster.pid").read_text().split()[0]))
        with contextlib.suppress(OSError, ValueError):
            roots["redis"].append(int((var / "run" / "redis.pid").read_text().strip()))
        if self.balancer_started:
            roots["nginx"] = []
            for pid_file in var.glob("nginx/*/nginx.pid"):
                with contextlib.suppress(OSError, ValueError):
                    roots["nginx"].append(int(pid_file.read_text().strip()))
        for part, pids in roots.items():
            for pid in pids:
                with contextlib.suppress(psutil.Error):
                    root = psutil.Process(pid)
                    for process in [root, *root.children(recursive=True)]:
                        with contextlib.suppress(psutil.Error):
                            times = process.cpu_times()
                            self._cpu_seen[(part, process.pid, process.create_time())] = times.user + times.system
        totals = dict.fromkeys(roots, 0.0)
        for (part, _pid, _started), seconds in self._cpu_seen.items():
            totals[part] = totals.get(part, 0.0) + seconds
        return totals

    def route_costs(self) -> dict[tuple[str, str], tuple[float, float]]:
        """(method, route) -> (requests, CPU seconds of the serving threads),
        added up over every gateway instance's /metrics (each instance adds
        up its workers): subtract two of these to cost what ran between."""
        totals: dict[tuple[str, str], list[float]] = {}
        for server_port in self.server_ports:
            text = requests.get(f"http://127.0.0.1:{server_port}/metrics", timeout=30).text
            for line in text.splitlines():
                for prefix, index in (
                    ("gateway_http_requests_total{", 0),
                    ("gateway_http_request_cpu_seconds_total{", 1),
                ):
                    if line.startswith(prefix):
                        labels_text, _, value = line[len(prefix) :].rpartition("} ")
                        labels = dict(part.split("=", 1) for part in labels_text.split(","))
                        key = (labels["method"].strip('"'), labels["route"].strip('"'))
                        totals.setdefault(key, [0.0, 0.0])[index] += float(value)
        return {key: (count, cpu) for key, (count, cpu) in totals.items()}

    def manage(self, *args: str) -> str:
        done = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def start_server(self, port: int | None = None) -> None:
        """Starts granian and waits until it answers; a slow first answer on a
        busy machine (a read timeout) means "not up yet", not a failure."""
        port = port or self.port
        progress(f"starting granian on 127.0.0.1:{port} ({self.workers} workers x {self.threads} threads)")
        command = [PYTHON, "-m", "gateway.serve", "--port", str(port)]
        command += ["--workers", str(self.workers), "--threads", str(self.threads)]
        server = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.processes.append(server)
        self.server_processes.append(server)
        self._wait_live(f"http://127.0.0.1:{port}")

    def _wait_live(self, url: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/health/live", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{url} did not start")

    def _lib(self, *call: str) -> None:
        """One function of bin/lib.sh, in a bash of its own (the library sets -euo pipefail)."""
        script = 'source "$0"; "$@"'
        subprocess.run(["bash", "-c", script, str(ROOT / "bin" / "lib.sh"), *call], check=True, cwd=ROOT, env=self.env)

    def services_call(self, *functions: str) -> None:
        """Functions of bin/lib.sh without arguments (``stop_postgres``,
        ``start_redis``, ...) on this instance's own PostgreSQL and Redis, in turn."""
        script = 'source "$0"; instance_env "$1"; shift; for f in "$@"; do "$f" >/dev/null; done'
        subprocess.run(
            ["bash", "-c", script, str(ROOT / "bin" / "lib.sh"), self.instance, *functions],
            check=True,
            cwd=ROOT,
            env={**self.env, **self.ports},
        )

    def start_balancer(self) -> None:
        progress(f"starting the nginx balancer on {self.url} in front of ports {self.server_ports}")
        self._lib("start_balancer", self.instance, str(self.port), *map(str, self.server_ports))
        self.balancer_started = True
        self._wait_live(self.url)

    def client(self, kind: str, name: str, *extra: str) -> tuple[str, str]:
        """A new API client made with manage.py create_api_client: (client_id, secret)."""
        out = self.manage("create_api_client", "--kind", kind, "--name", name, *extra)
        values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        return values["client_id"], values["client_secret"]

    def token(self, client_id: str, secret: str, scope: str | None = None) -> str:
        data = {"grant_type": "client_credentials"}
        if scope:
            data["scope"] = scope
        response = requests.post(f"{self.url}/oauth/token/", data=data, auth=(client_id, secret), timeout=30)
        response.raise_for_status()
        return str(response.json()["access_token"])

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Any:
        if self.balancer_started:
            try:
                self._lib("stop_balancer", self.instance, str(self.port))
            except subprocess.CalledProcessError as exc:
                progress(f"stopping the balancer failed: {exc}")
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        self.services("stop")
        progress("stack stopped")
        return None
