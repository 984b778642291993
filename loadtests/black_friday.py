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
on Black Friday). Recommendations join when their endpoint answers
(``OPTIONAL_SHOPPER_TASKS``): a product page's recommendations take 2 of the
5 product reads, so a shopper still makes twenty reads per order, and the
basket page asks for the basket's offers (``POST /api/v1/recommendations``
with the slot) once per checkout, before the order.

Loyalty. The capacity plan has no loyalty figures yet, so the shares below
are assumptions, stated here and in the seed's defaults, to be replaced by the
retailer's own: ``MEMBER_SHARE`` (0.5) of the shoppers are members of the
program (the app knows the membership of its signed-in shopper) and as many
of the tickets rung up in stores carry a member's card; ``CODE_SHARE`` (0.3)
of the members carry the Black Friday code (5 EUR off 40 EUR; half of them
the public code, half a single-use code mailed to them); ``POINTS_SHARE``
(0.2) of the members pay ``POINTS_SPENT`` points (3 EUR) of each order. At
checkout a member's order carries a ``loyalty`` object (the program; the
code; the points), so it earns points on collection; a member with a code
first prices the basket with it (``POST /api/v1/loyalty/quote``, as the app
shows the discount before the shopper confirms) and orders without the code
when the quote refuses it (minimum not met, budget spent, code used up); a
code refused by the order itself (the budget spent meanwhile) is dropped and
the order posted again (loadtests/shoppers.py). Tickets: the tills' own
figures give the rate: a store's quarter hour has 5 to 60 tickets
(``TILL_TICKETS``, 32.5 on average, the same range ``Till`` posts as sales),
so the region's 450 stores ring up 16.25 tickets/s, and a member's ticket
(``MEMBER_SHARE`` of them: 8.1/s) goes to ``POST /api/v1/loyalty/tickets``
with the card and, for a code carrier, the code, from ``TicketTill`` (4
users, fixed, paced like the other tills at min(m, 2) times the normal
rate, since in-store traffic is not what the app's Black Friday multiplies):

| flow | rate at 1x | Locust class |
| --- | --- | --- |
| orders with a ``loyalty`` object | 0.3/s (half the orders) | ``Shopper`` checkout |
| coupon quotes | 0.09/s (members with a code) | ``Shopper`` checkout |
| basket recommendations | 0.6/s (one per checkout, once the endpoint answers) | ``Shopper`` checkout |
| till tickets of members | 8.1/s | ``TicketTill`` |"""

import hmac
import importlib.util
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
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
# Tickets of one store's quarter hour (what a till's sales post says, and the ticket rate's source).
TILL_TICKETS = (5, 60)
REGION_STORES = 450
QUARTER_S = 900
# Loyalty: assumed shares (module docstring) and the Black Friday campaign the seed creates.
MEMBER_SHARE, CODE_SHARE, POINTS_SHARE = 0.5, 0.3, 0.2
POINTS_SPENT = 300  # 3 EUR at the bench program's burn rate (0.01)
COUPON_DISCOUNT, COUPON_MINIMUM = Decimal("5.00"), Decimal("40.00")
# Member tickets of the region: 450 stores x 32.5 tickets a quarter hour x the members' share, over 4 tills.
TICKET_TILLS = 4
TICKET_POSTS_PER_S = REGION_STORES * sum(TILL_TICKETS) / 2 / QUARTER_S * MEMBER_SHARE / TICKET_TILLS
FIXED_USERS = PARTNERS + SENSOR_BOXES + TILLS + TICKET_TILLS
# The cap of the non-shopper flows, as a multiple of their normal rate.
BACKGROUND_CAP = 2.0

P95_LIMIT_MS = 500.0
FULL_STEPS = [1, 2, 4, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64]
QUICK_STEPS = [1, 2, 4, 8]
# Endpoints that join the shopper's journey once they answer: path -> weight of its product-page task
# (the basket page's POST joins the checkout with them).
OPTIONAL_SHOPPER_TASKS = {"/api/v1/recommendations": 2}


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
        "loyalty_orders": orders * MEMBER_SHARE,
        "coupon_quotes": orders * MEMBER_SHARE * CODE_SHARE,
        "member_tickets": TICKET_TILLS * TICKET_POSTS_PER_S * rest,
    }


def users_at(multiplier: int) -> int:
    """Locust users at a step: the weighted classes times the multiplier, plus the fixed ones."""
    return (SHOPPERS + STAFF) * multiplier + FIXED_USERS


def multipliers(*, quick: bool) -> list[int]:
    return list(QUICK_STEPS if quick else FULL_STEPS)


# The last step, after the stepping: the scenario at this many times the held peak's multiplier.
OVERLOAD_FACTOR = 3


@dataclass(frozen=True)
class StepVerdict:
    """Whether the stack held a step: every class's p95 within the limit and
    no error. The p95 a class is judged by counts its shed answers (503
    ``overloaded``, gateway/api/admission.py) as answers over the limit
    (``p95_counting_sheds``): a shed request was not served, so a class with
    more than 5 % of its requests shed, or shed and slow together, is not
    held, while one request shed at 1x (a worker's two threads busy for a
    moment) does not make the normal rate "not held"."""

    held: bool
    reason: str = ""
    worst: dict[str, float] = field(default_factory=dict)

    @classmethod
    def judge(
        cls, *, p95_by_class: dict[str, float], server_errors: int, other_errors: int, shed: int = 0
    ) -> "StepVerdict":
        slow = {name: p95 for name, p95 in p95_by_class.items() if p95 > P95_LIMIT_MS}
        reasons = [
            f"p95 of {name} {'over the limit with its sheds' if math.isinf(p95) else f'{p95:.0f} ms'} "
            f"> {P95_LIMIT_MS:.0f} ms"
            for name, p95 in sorted(slow.items())
        ]
        if server_errors:
            reasons.append(f"{server_errors} 5xx or connection errors")
        if other_errors:
            reasons.append(f"{other_errors} unexpected answers")
        if reasons and shed:
            reasons.append(f"{shed} answers shed (503 overloaded)")
        return cls(held=not reasons, reason="; ".join(reasons), worst=slow)


def p95_counting_sheds(admitted_ms: list[float], shed: int) -> float:
    """A class's p95 for the verdict: its admitted answers' times, and each
    shed answer as one over any limit (infinite)."""
    return percentile([*admitted_ms, *[math.inf] * shed], 0.95)


def is_overload_answer(status: int, body: dict[str, Any]) -> bool:
    """The gateway's admission control shed the request (503 ``overloaded``):
    an answer the app shows and retries after Retry-After, not a server error.
    nginx's own 503 (no instance could answer) is ``service_unavailable``."""
    return status == 503 and body.get("code") == "overloaded"


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
