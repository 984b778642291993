"""Prometheus metrics.

The web tier runs several worker processes (gateway/serve.py), and a scrape
reaches one of them: so each process counts in files under
PROMETHEUS_MULTIPROC_DIR, which gateway/serve.py sets for every run, and
/metrics adds up every process's files, those of replaced workers included.
Counters and histograms need nothing more; a Gauge must say how to combine its
processes (``multiprocess_mode``, e.g. "livesum"), since the default reports one
series per process id, dead ones included. Without the variable (the test
client, a management command) the metrics live in the process, as usual."""

import os

from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

REQUESTS = Counter("gateway_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "gateway_http_request_duration_seconds",
    "HTTP request duration",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
# The web process's own CPU per route (the serving thread's CPU time, so the
# database's share is not in it): what capacity planning divides by requests
# (docs/capacity.md). Not the wall time above, which grows with the queue.
CPU = Counter("gateway_http_request_cpu_seconds_total", "CPU seconds the serving thread spent", ["method", "route"])
RATE_LIMITER_FAIL_OPEN = Counter(
    "gateway_rate_limiter_fail_open_total", "Requests let through because Redis was unreachable"
)
OUTBOX_DOORBELL_FAIL_OPEN = Counter(
    "gateway_outbox_doorbell_fail_open_total",
    "Commits whose events were left to the webhook sweep because Redis or the broker was unreachable",
)
READ_CACHE = Counter(
    "gateway_read_cache_total",
    "Hot reads by outcome: not_modified (304 before any SQL), hit (the process's cached answer), shared "
    "(an answer another process computed, from Redis), miss (computed and kept), bypass (Redis unreachable: "
    'computed; kind "-": the versions were not read)',
    ["kind", "outcome"],
)
READ_CACHE_BUMP_FAILED = Counter(
    "gateway_read_cache_bump_failed_total",
    "Version bumps that did not reach Redis (the process replaces the epoch once it answers again)",
)

ADMISSION_SHED = Counter(
    "gateway_admission_shed_total",
    "Requests answered 503 overloaded by admission control (gateway/api/admission.py)",
    ["admission_class", "reason"],
)
ADMISSION_WAIT = Histogram(
    "gateway_admission_wait_seconds",
    "Time from the balancer's X-Request-Start stamp until a thread took the request",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


def observe_request(method: str, route: str, status: int, seconds: float, cpu_seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(route).observe(seconds)
    CPU.labels(method, route).inc(cpu_seconds)


def render() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(DEFAULT_REGISTRY)
