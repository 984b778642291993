"""Admission control: beyond the load the stack holds, a request that waited
too long for a thread is answered at once with 503 ``overloaded`` and
``Retry-After``, instead of being run late (docs/api-guide.md, "Overload").

Why the wait: a granian worker runs ``--threads`` requests at once and the
rest wait in granian's queue (gateway/serve.py), where they cost nothing but
grow older. Past the held load that queue only grows: every request is run,
each later than the last, until clients time out or the balancer gives up,
and everyone is served badly. Shedding the requests that already waited
longer than their class may (``ADMISSION_WAIT_MS``) keeps the queue short,
so the requests that are admitted keep their latency, and a shed costs
microseconds: no database, no Redis, no body read.

How the wait is known: the balancer stamps every request it passes on with
the time it did so, ``X-Request-Start: t=<seconds since the epoch>`` (nginx:
``proxy_set_header X-Request-Start "t=${msec}"``, bin/nginx.conf.template;
ingress-nginx in deploy/kubernetes), overwriting anything a client sent. The
wait is the time from that stamp to the moment a thread runs this
middleware: granian's queue, plus the hop from the balancer. Portable: any
ingress that stamps the header works; one that does not, or a direct call
(tests, a probe on the pod), is never shed. The stamp may also be in
milliseconds or microseconds (Heroku's router, New Relic's convention), told
apart by its size. A stamp in the future (another host's clock a little
ahead) counts as no wait at all; one more than ``_CREDIBLE_S`` old is a
broken clock, not a queue, and is ignored rather than shedding everything;
a malformed one is ignored.

Classes: the health probes and /metrics are never shed (a probe shed would
take a busy pod out of service, and the scrape is how an overload is seen).
Requests that finish a purchase or move an order (``CHECKOUT_ROUTES``: an
order's POST, from a hold or a slot, its cancellation, a status change by
staff) may wait ``ADMISSION_CHECKOUT_WAIT_MS``, longer than everything else,
so under overload browsing, new holds and partner traffic are shed first and
checkouts already under way get through. The queue is one FIFO, so while
the cheaper class is being shed the wait stays near its budget and
checkouts, under a larger one, pass.

A standing queue: under sustained overload the FIFO is never empty, every
request waits about its class's budget and then runs on a saturated machine,
so every admitted answer takes the budget plus its own (slower) run: at three
times the held peak 460-580 ms at the 95th percentile with a 350 ms budget
(docs/benchmarks.md). A shorter budget everywhere sheds bursts the stack
would have absorbed (300 ms shed at steps a 350 ms budget held). So the
budget shortens only while the queue stands, the controlled-delay idea of
CoDel (Nichols and Jacobson, "Controlling Queue Delay", 2012) as Facebook's
RPC servers apply it to request queues ("Fail at Scale", 2015): a burst
drains and some request soon finds a thread at once; a standing queue does
not. When every request this process took over one interval
(``ADMISSION_INTERVAL_MS``) had waited longer than ``ADMISSION_TARGET_MS``,
the queue stands and a standard request may wait only
``ADMISSION_STANDING_WAIT_MS`` (shed with reason ``standing``); the first
request that waited less than the target ends it. Checkouts keep their
budget: behind the standard requests, shed sooner, they wait less too.
Per process, like the queue it watches (each granian worker has its own).
At three times the held peak the admitted p95 went from 463-583 ms to
232-368 ms, as many answers admitted a second; the price is a few more
sheds at the edge of the held load (docs/benchmarks.md, "a standing queue
waits 100 ms"; a 25 ms target shed from 8x on; 50 ms held 10-14x).

Per shopper: the rate limits (gateway/api/ratelimit.py) count each
shopper's requests across every process, and the shedding is first come
first served. On top, once a request has waited half its budget (the queue
is building), a caller (its ``Authorization``) that already has a request
running in this process is shed: a client firing requests in parallel
cannot hold several of a worker's few threads while others wait. Per
process, a dict of in-flight callers under a lock: nothing shared.

Sheds are counted in ``gateway_admission_shed_total`` by class and reason,
and every stamped request's wait goes to ``gateway_admission_wait_seconds``
(the figures the budgets were picked from: docs/benchmarks.md)."""

import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from gateway.api import metrics
from gateway.api.problems import problem_response

GetResponse = Callable[[HttpRequest], HttpResponse]

HEADER = "X-Request-Start"
_META = "HTTP_X_REQUEST_START"
# "t=" and a number: seconds (nginx's $msec, "1733470000.123"), or milliseconds or
# microseconds as whole numbers. Bounded, so no float parsing of "nan" or "1e999".
_STAMP = re.compile(r"^(?:t=)?(\d{1,17})(?:\.(\d{1,6}))?$")
# Older than this, a stamp says the balancer's clock is wrong (nginx gives up on a request after 60 s).
_CREDIBLE_S = 300.0

NEVER, CHECKOUT, STANDARD = "never", "checkout", "standard"
_NEVER_PREFIXES = ("/health/", "/metrics")
# (URL name, method) of the requests that finish a purchase or move an order.
CHECKOUT_ROUTES = frozenset(
    {("v1:order-list", "POST"), ("v1:order-status", "POST"), ("v1:order-cancel", "POST")}
)  # fmt: skip


def stamp_seconds(value: str) -> float | None:
    """The epoch seconds of a stamp, or None when it is malformed."""
    match = _STAMP.match(value.strip())
    if match is None:
        return None
    whole, fraction = match.groups()
    number = float(f"{whole}.{fraction}") if fraction else float(whole)
    if number < 1e11:  # seconds (until the year 5138)
        return number
    if fraction:  # a fraction of milliseconds or microseconds: not a format anyone sends
        return None
    return number / 1e3 if number < 1e14 else number / 1e6


def queue_wait(value: str, now: float) -> float | None:
    """Seconds between the stamp and ``now``: at least 0 (a clock a little
    ahead, or a stamp from the future), None when the stamp is malformed or
    not credible."""
    stamped = stamp_seconds(value)
    if stamped is None:
        return None
    wait = now - stamped
    if wait > _CREDIBLE_S:
        return None
    return max(wait, 0.0)


@dataclass(frozen=True)
class Budgets:
    standard_s: float
    checkout_s: float
    standing_s: float
    target_s: float
    interval_s: float

    @classmethod
    def from_settings(cls) -> "Budgets":
        return cls(
            settings.ADMISSION_WAIT_MS / 1000,
            settings.ADMISSION_CHECKOUT_WAIT_MS / 1000,
            settings.ADMISSION_STANDING_WAIT_MS / 1000,
            settings.ADMISSION_TARGET_MS / 1000,
            settings.ADMISSION_INTERVAL_MS / 1000,
        )

    def of(self, admission_class: str, standing: bool) -> float:
        if admission_class == CHECKOUT:
            return self.checkout_s
        return min(self.standard_s, self.standing_s) if standing else self.standard_s


class QueueWatch:
    """Whether this process's queue stands: every request taken over the last
    whole interval waited longer than the target (module docstring). Fed the
    wait of every stamped request, in the order threads take them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.standing = False
        self.interval_end = 0.0
        self.interval_min = 0.0

    def observe(self, wait: float, now: float, target_s: float, interval_s: float) -> bool:
        """Records one wait taken at ``now``; says whether the queue stands."""
        with self.lock:
            if now >= self.interval_end:
                # the interval that just closed judges; one closed long ago (no request for a
                # whole interval since) says the process was idle, so not standing
                recent = now - self.interval_end < interval_s
                self.standing = recent and self.interval_min > target_s
                self.interval_end = now + interval_s
                self.interval_min = wait
            else:
                self.interval_min = min(self.interval_min, wait)
            if wait <= target_s:
                # a request found a thread soon enough: the queue drained (CoDel leaves its
                # dropping state on the first packet under the target)
                self.standing = False
            return self.standing

    def reset(self) -> None:
        with self.lock:
            self.standing, self.interval_end, self.interval_min = False, 0.0, 0.0


QUEUE = QueueWatch()


def admission_class(request: HttpRequest) -> str:
    """``never``, ``checkout`` or ``standard``; resolves the URL (and keeps the
    match on the request, so a shed is counted under its route)."""
    path = request.path_info
    if path.startswith(_NEVER_PREFIXES):
        return NEVER
    try:
        match = resolve(path)
    except Resolver404:
        return STANDARD
    request.resolver_match = match
    return CHECKOUT if (match.view_name, request.method) in CHECKOUT_ROUTES else STANDARD


class _InFlight:
    """Callers with a request running in this process, and how many."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}

    def busy(self, caller: str) -> bool:
        return caller in self.counts

    def enter(self, caller: str) -> None:
        with self.lock:
            self.counts[caller] = self.counts.get(caller, 0) + 1

    def leave(self, caller: str) -> None:
        with self.lock:
            left = self.counts.get(caller, 1) - 1
            if left > 0:
                self.counts[caller] = left
            else:
                self.counts.pop(caller, None)


IN_FLIGHT = _InFlight()


class AdmissionMiddleware:
    """Sheds a request that waited longer than its class's budget (module
    docstring). Placed right after RequestIdMiddleware, so a shed answer
    carries a request id and is logged and counted like any other."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        stamp = request.META.get(_META)
        if not stamp or not settings.ADMISSION_ENABLED:
            return self.get_response(request)
        wait = queue_wait(stamp, time.time())
        if wait is None:
            return self.get_response(request)
        metrics.ADMISSION_WAIT.observe(wait)
        caller = request.META.get("HTTP_AUTHORIZATION", "")
        budgets = Budgets.from_settings()
        standing = QUEUE.observe(wait, time.monotonic(), budgets.target_s, budgets.interval_s)
        if wait >= min(budgets.of(STANDARD, standing), budgets.checkout_s) / 2:
            kind = admission_class(request)
            if kind != NEVER:
                budget = budgets.of(kind, standing)
                if wait > budget:
                    reason = "wait" if wait > budgets.of(kind, False) else "standing"
                    return self._shed(request, kind, reason, wait)
                if wait >= budget / 2 and caller and IN_FLIGHT.busy(caller):
                    return self._shed(request, kind, "caller_busy", wait)
        if not caller:
            return self.get_response(request)
        IN_FLIGHT.enter(caller)
        try:
            return self.get_response(request)
        finally:
            IN_FLIGHT.leave(caller)

    def _shed(self, request: HttpRequest, kind: str, reason: str, wait: float) -> HttpResponse:
        metrics.ADMISSION_SHED.labels(kind, reason).inc()
        base = max(int(settings.ADMISSION_RETRY_AFTER_S), 1)
        # Jittered, so that the shed clients do not all come back in the same second.
        retry_after = base + random.randint(0, base)  # noqa: S311  # spreading retries, not a secret
        detail = _(
            "The service is overloaded and did not run this request. Try again in %(seconds)d seconds "
            "(an order with the same Idempotency-Key)."
        ) % {"seconds": retry_after}
        response = problem_response(
            request, status=503, code="overloaded", detail=detail, extra={"retry_after": retry_after}
        )
        response["Retry-After"] = str(retry_after)
        response["Cache-Control"] = "no-store"
        # An expected answer, logged once as every request is (RequestIdMiddleware's access line,
        # status 503), not also as an error by django.request: under overload that would be an
        # error line per shed, the log pipe's cost on top of the load being shed.
        response._has_been_logged = True  # type: ignore[attr-defined]  # django.utils.log.log_response reads it
        return response
