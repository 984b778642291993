"""The Black Friday scenario's figures and judgements, without Locust (so the
bench, the locustfile and the tests share them): the traffic mix derived from
the figures we design for, the steps, the verdict on a step, and the webhook
receiver the bench runs.

The mix (docs/capacity.md, "The traffic we design for", busiest hour of a
normal day for the 1,800 stores): 60,000 click-and-collect orders a day are
2.4/s in the busiest hour; about twenty shopper reads come before each order
(48/s); store staff make three status changes per order with a queue read
before each (15/s); 50 partner systems each sync 5,000 changed lines every
minute (4,200 lines/s) and read their feed and availability (20/s); 1,800
stores x 2 entrances post a count every 15 minutes (4 intervals/s).

One machine serves one region: a quarter of the network (``REGION_SHARE``,
450 stores, the Paris basin's density), because the plan's Black Friday
(12x the busiest hour for shopper-driven flows) needs about 3 web cores, 1
PostgreSQL core and 0.8 worker cores for the whole network, and one 2-core
machine with its load generator on the same cores carries about a quarter of
that. Scaled to the region, at the normal rate (1x):

| flow | rate | Locust class |
| --- | --- | --- |
| orders | 0.6/s | ``Shopper`` checkout (hold or slot, order) |
| shopper reads | 12/s (20 per order) | ``Shopper``: catalogue, product, availability, open slots, own orders |
| staff | 1.8 status changes/s + a queue read each (3.6/s) | ``StoreStaff`` |
| partner syncs | 12 partners x 5,000 lines a minute (1,000 lines/s) | ``PartnerSystem`` |
| partner reads | 5/s | ``PartnerSystem``: events feed (cursor), availability |
| footfall | 450 stores x 2 entrances every 15 min (1 interval/s, 0.5 posts/s) | ``SensorBox`` |
| till sales | one 15-minute interval per store (0.5 posts/s) | ``Till`` (not in the capacity plan: our addition) |

Locust users: ``Shopper`` 12 users at 1.05 tasks/s (tasks weighted 20 reads
to 1 checkout, so 0.6 checkouts/s), ``StoreStaff`` 4 users at 0.5 tasks/s
(a queue read and one status change each), by weight; ``PartnerSystem`` 12,
``SensorBox`` 2 and ``Till`` 2 users with ``fixed_count``. A step at
multiplier m runs m times the weighted users; the fixed ones pace themselves
at min(m, 2) times their normal rate, because partner syncs and footfall do
not follow shoppers (the capacity plan counts them at twice their normal rate
on Black Friday). Recommendations and coupons join as one ``Shopper`` task
each when their endpoints answer (``OPTIONAL_SHOPPER_TASKS``): a product
page's recommendations take 2 of the 5 product reads, so a shopper still
makes twenty reads per order; the coupon quote has no task yet (no endpoint)."""

import hmac
import importlib.util
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REGION_SHARE = 0.25
NETWORK = {
    "orders_per_s": 2.4,
    "reads_per_order": 20,
    "staff_per_s": 15.0,
    "sync_lines_per_s": 4200.0,
    "partner_reads_per_s": 20.0,
    "footfall_intervals_per_s": 4.0,
}

# Weighted classes: users at 1x (Locust ``weight``) and tasks per second per user.
SHOPPERS, SHOPPER_PACE = 12, 1.05
STAFF, STAFF_PACE = 4, 0.5
# Shopper task weights: twenty reads to one checkout.
SHOPPER_READS = {"catalogue": 5, "product": 5, "availability": 5, "slots": 3, "my_orders": 2}
CHECKOUT_WEIGHT = 1
# Fixed classes: users whatever the step, each at this rate at 1x.
PARTNERS, PARTNER_SYNC_EVERY_S, PARTNER_READS_PER_S = 12, 60.0, 5.0 / 12
SYNC_LINES = 5000
SENSOR_BOXES, SENSOR_POSTS_PER_S = 2, 0.25  # each post: both entrances of one store
TILLS, TILL_POSTS_PER_S = 2, 0.25
FIXED_USERS = PARTNERS + SENSOR_BOXES + TILLS
# The cap of the non-shopper flows, as a multiple of their normal rate.
BACKGROUND_CAP = 2.0

P95_LIMIT_MS = 500.0
FULL_STEPS = [1, 2, 4, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64]
QUICK_STEPS = [1, 2, 4, 8]
# Endpoints that join the shopper's journey (one task each) once they exist: path -> task weight.
OPTIONAL_SHOPPER_TASKS = {"/api/v1/recommendations": 2, "/api/v1/loyalty/quote": 1}


def background(multiplier: float) -> float:
    """How many times their normal rate partners, sensors and tills run at a step."""
    return min(multiplier, BACKGROUND_CAP)


def class_rates(multiplier: float) -> dict[str, float]:
    """The designed rates (per second) at ``multiplier`` times the normal day's busiest hour."""
    shopper_tasks = SHOPPERS * SHOPPER_PACE * multiplier
    per_task = shopper_tasks / (sum(SHOPPER_READS.values()) + CHECKOUT_WEIGHT)
    orders = per_task * CHECKOUT_WEIGHT
    rest = background(multiplier)
    return {
        "orders": orders,
        "shopper_reads": per_task * sum(SHOPPER_READS.values()),
        "staff_requests": min(STAFF * STAFF_PACE * multiplier, orders * 3) * 2,
        "sync_lines": PARTNERS * SYNC_LINES / PARTNER_SYNC_EVERY_S * rest,
        "partner_reads": PARTNERS * PARTNER_READS_PER_S * rest,
        "footfall_posts": SENSOR_BOXES * SENSOR_POSTS_PER_S * rest,
        "till_posts": TILLS * TILL_POSTS_PER_S * rest,
    }


def users_at(multiplier: int) -> int:
    """Locust users at a step: the weighted classes times the multiplier, plus the fixed ones."""
    return (SHOPPERS + STAFF) * multiplier + FIXED_USERS


def multipliers(*, quick: bool) -> list[int]:
    return list(QUICK_STEPS if quick else FULL_STEPS)


@dataclass(frozen=True)
class StepVerdict:
    """Whether the stack held a step: every class's p95 within the limit and no error."""

    held: bool
    reason: str = ""
    worst: dict[str, float] = field(default_factory=dict)

    @classmethod
    def judge(cls, *, p95_by_class: dict[str, float], server_errors: int, other_errors: int) -> "StepVerdict":
        slow = {name: p95 for name, p95 in p95_by_class.items() if p95 > P95_LIMIT_MS}
        reasons = [f"p95 of {name} {p95:.0f} ms > {P95_LIMIT_MS:.0f} ms" for name, p95 in sorted(slow.items())]
        if server_errors:
            reasons.append(f"{server_errors} 5xx or connection errors")
        if other_errors:
            reasons.append(f"{other_errors} unexpected answers")
        return cls(held=not reasons, reason="; ".join(reasons), worst=slow)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _project_signature() -> Callable[..., str]:
    """partners.services.signing.signature itself, loaded from its file: the
    bench process runs without Django's app registry, which importing the
    partners.services package needs, and the receiver must verify with the
    project's own scheme, not a copy of it."""
    spec = importlib.util.spec_from_file_location(
        "loadtests_webhook_signing", Path(__file__).resolve().parent.parent / "partners" / "services" / "signing.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    signature: Callable[..., str] = module.signature
    return signature


_SIGNATURE = _project_signature()


def signature_valid(secret: str, msg_id: str, timestamp: str, body: bytes, header: str) -> bool:
    """One of the space-separated signatures of ``header`` matches (a rotation sends two)."""
    try:
        expected = _SIGNATURE(secret=secret, msg_id=msg_id, timestamp=int(timestamp), body=body)
    except ValueError:  # a timestamp or secret that does not parse is no valid signature
        return False
    return any(hmac.compare_digest(expected, candidate) for candidate in header.split())


class WebhookReceiver:
    """A real HTTP endpoint for the gateway's webhooks: one path per
    subscription, each verified with its secret; counts what it got.
    Answers 204 to a valid delivery and 400 to a bad signature (the gateway
    then retries, and the bench reports it)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.secrets: dict[str, str] = {}
        self.received: dict[str, set[str]] = {}
        self.deliveries = 0
        self.invalid = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                ok = receiver.take(self.path, self.headers, body)
                self.send_response(204 if ok else 400)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def take(self, path: str, headers: Any, body: bytes) -> bool:
        secret = self.secrets.get(path)
        msg_id = headers.get("webhook-id", "")
        ok = secret is not None and signature_valid(
            secret, msg_id, headers.get("webhook-timestamp", ""), body, headers.get("webhook-signature", "")
        )
        with self.lock:
            self.deliveries += 1
            if ok:
                self.received.setdefault(path, set()).add(msg_id)
            else:
                self.invalid += 1
        return ok

    def start(self) -> "WebhookReceiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return {
                "deliveries": self.deliveries,
                "invalid": self.invalid,
                "unique": {path: len(ids) for path, ids in self.received.items()},
            }
