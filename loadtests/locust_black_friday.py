"""Locust scenario of a whole region's day, every channel at once, stepped up
from the normal day's busiest hour to Black Friday and beyond.

Run by loadtests/bench_black_friday.py (headless). It reads the plan the
seeding command wrote (``BF_PLAN``: tokens, stores, slot dates, products,
partners' lines, from ``manage.py seed_black_friday``), writes every
acknowledged write the database checks need to ``BF_HISTORY`` (JSON lines)
and one line per step to ``BF_STEPS`` (multiplier, throughput, p95 per class,
errors, verdict).

The user classes, their weights and paces, and how they were derived from
the figures we design for are in loadtests/black_friday.py (the same module
the bench and the tests read). In short, per region (a quarter of the
network) at the normal rate:

- ``Shopper`` (weight 12, 1.05 tasks/s each): twenty reads to one checkout:
  the catalogue by category, one product (with the ETag it holds, so a 304
  is an answer) and, once the endpoint exists, a product page's
  recommendations, availability near them (1-3 SKUs, 10 km), their home
  store's open slots today and tomorrow, the status of an order placed
  earlier (read by its own shopper). The checkout holds a slot first half of
  the time, then orders with an Idempotency-Key and the retry logic of
  loadtests/shoppers.py (``slot_full`` -> an alternative, 5xx -> same key).
- ``StoreStaff`` (weight 4, 0.5 tasks/s): the store's queue, then one move
  of an order placed there (preparing, ready, collected), as the staff app does.
- ``PartnerSystem`` (12 fixed): its bulk stock sync of every line it has
  (5,000 at full size) with an Idempotency-Key every minute, and between
  syncs its events feed followed by cursor and availability at a store.
- ``SensorBox`` and ``Till`` (2 fixed each): a store's two entrance counts,
  a till's sales, one 15-minute interval per post.
- Loyalty (shares derived in loadtests/black_friday.py): a member's checkout
  orders with a ``loyalty`` object (the program, and the points a points
  holder spends); a member carrying the Black Friday code prices the basket
  with it first (``POST /api/v1/loyalty/quote``) and orders with the code
  only if the quote applied it. Once recommendations answer, the basket page
  asks for the basket's offers (``POST /api/v1/recommendations`` with the
  slot) before the order. ``TicketTill`` (4 fixed) posts the tickets of
  members rung up in stores (``POST /api/v1/loyalty/tickets``: card, lines at
  the shelf price, the member's code if any).

A step at multiplier m runs m times the weighted users; the fixed ones pace
at min(m, 2) times their normal rate (``BlackFridayShape``). A step is
measured after ``BF_WARMUP_S`` (users spawned, connections open) to its
end; the shape stops at the first step the stack did not hold (a class's p95
over 500 ms, a 5xx, a connection error or an unexpected answer) or after the
last multiplier.

Expected answers are not failures: 409 ``slot_full`` and its kin on a hold or
an order (the retry logic acts on them, a refused coupon included), 409 on a
status change another staff member made first, 304 on a product read, 200 for
a till ticket the store already sent (a replay). The overload answer (503
``overloaded``, gateway/api/admission.py) is no failure either: it is counted
as shed, apart from the admitted answers whose latency the step reports, and
the user waits its Retry-After as the app does (a checkout then posts the
same order again with the same Idempotency-Key, loadtests/shoppers.py); the
verdict counts a class's sheds as answers over the p95 limit. Everything else that is not 2xx fails
the request and the step.
"""

import itertools
import json
import math
import os
import random
import secrets
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

import gevent
from locust import FastHttpUser, LoadTestShape, constant_throughput, events, task

# Locust puts the locustfile's own directory on the path, not the repository's.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtests import black_friday as mix
from loadtests.shoppers import (
    EXPECTED_REFUSALS,
    GIVEN_UP,
    PLACED,
    RETRY_SAME_KEY,
    Basket,
    order_next_step,
    response_json,
    retry_after,
)

PLAN: dict[str, Any] = json.loads(Path(os.environ["BF_PLAN"]).read_text()) if "BF_PLAN" in os.environ else {}
HISTORY_PATH = os.environ.get("BF_HISTORY", "")
STEPS_PATH = os.environ.get("BF_STEPS", "")
STEP_S = float(os.environ.get("BF_STEP_S", "45"))
WARMUP_S = float(os.environ.get("BF_WARMUP_S", "10"))
MULTIPLIERS = [int(m) for m in os.environ.get("BF_MULTIPLIERS", ",".join(map(str, mix.FULL_STEPS))).split(",")]
# Endpoints found working by the bench before the run (recommendations, coupons): they join as tasks.
OPTIONAL = set(json.loads(os.environ.get("BF_OPTIONAL", "[]")))
# A product page shows its recommendations once they exist: that read replaces part of the product reads,
# so a shopper still makes twenty reads per order.
RECOMMENDATIONS = mix.OPTIONAL_SHOPPER_TASKS["/api/v1/recommendations"] if "/api/v1/recommendations" in OPTIONAL else 0
MAX_ATTEMPTS = 12
QUARTER = 900  # seconds in a footfall or sales interval

_history: list[dict[str, Any]] = []
# Orders waiting for a store's staff: (store index, order id, next status).
_work: deque[tuple[int, str, str]] = deque()
# Orders placed so far: (shopper index, order id), whose shoppers come back for the status.
_placed: list[tuple[int, str]] = []
_next_status = {"preparing": "ready", "ready": "collected"}
_shopper_ids = itertools.count()
_partner_ids = itertools.count()
_footfall_posts = itertools.count()
_till_posts = itertools.count()
_tickets = itertools.count()
LOYALTY: dict[str, Any] = PLAN.get("loyalty", {})
# Shopper index -> its membership (card, code or null, spendable points).
MEMBERS: dict[int, dict[str, Any]] = {member["shopper"]: member for member in LOYALTY.get("members", [])}
_started = time.time()


class _Step:
    """The step being run: its multiplier, when its measurement starts, and
    what was measured since (response times per class, errors by kind)."""

    def __init__(self) -> None:
        self.index = -1
        self.multiplier = 1
        self.measure_from = math.inf
        self.samples: dict[str, list[float]] = {}
        self.statuses: dict[str, int] = {}
        self.server_errors = 0
        self.connection_errors = 0
        self.timeouts = 0
        self.other_errors = 0
        self.examples: list[str] = []
        # Answers shed by admission control (503 overloaded), by class, apart from the admitted samples.
        self.shed: dict[str, list[float]] = {}

    def open(self, index: int) -> None:
        self.__init__()  # type: ignore[misc]  # a fresh step, same object (the listeners hold it)
        self.index, self.multiplier = index, MULTIPLIERS[index]
        self.measure_from = time.time() + WARMUP_S
        self.opened = time.time()

    def record(self, label: str, status: int, ms: float, failed: str | None, shed: bool = False) -> None:
        if time.time() < self.measure_from:
            return
        (self.shed if shed else self.samples).setdefault(label, []).append(ms)
        self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1
        if failed is None:
            return
        if status == 0:
            self.connection_errors += 1
            if "timed out" in failed.lower() or "timeout" in failed.lower():
                self.timeouts += 1
        elif status >= 500:
            self.server_errors += 1
        else:
            self.other_errors += 1
        if len(self.examples) < 5:
            self.examples.append(f"{label} {status} {failed[:200]}")

    def close(self) -> mix.StepVerdict:
        seconds = max(time.time() - self.measure_from, 1e-3)
        # Latencies are the admitted answers' (every answer but the sheds).
        p95 = {label: mix.percentile(values, 0.95) for label, values in self.samples.items()}
        every = [ms for values in self.samples.values() for ms in values]
        shed = sum(len(values) for values in self.shed.values())
        judged = {
            label: mix.p95_counting_sheds(self.samples.get(label, []), len(self.shed.get(label, [])))
            for label in {*self.samples, *self.shed}
        }
        verdict = mix.StepVerdict.judge(
            p95_by_class=judged,
            server_errors=self.server_errors + self.connection_errors,
            other_errors=self.other_errors,
            shed=shed,
        )
        row = {
            "step": self.index,
            "multiplier": self.multiplier,
            "users": mix.users_at(self.multiplier),
            "seconds": seconds,
            "requests": len(every),
            "rps": len(every) / seconds,
            "rps_by_class": {label: len(values) / seconds for label, values in self.samples.items()},
            "p95_ms": mix.percentile(every, 0.95),
            "p50_ms": mix.percentile(every, 0.50),
            "p95_by_class": p95,
            "shed": shed,
            "shed_share": shed / max(shed + len(every), 1),
            "shed_by_class": {label: len(values) for label, values in self.shed.items()},
            "shed_p95_ms": mix.percentile([ms for values in self.shed.values() for ms in values], 0.95),
            "statuses": self.statuses,
            "server_errors": self.server_errors,
            "connection_errors": self.connection_errors,
            "timeouts": self.timeouts,
            "other_errors": self.other_errors,
            "examples": self.examples,
            "held": verdict.held,
            "reason": verdict.reason,
            "measured_from": self.measure_from,
            "measured_to": time.time(),
        }
        if STEPS_PATH:
            with open(STEPS_PATH, "a") as out:
                out.write(json.dumps(row) + "\n")
        return verdict


STEP = _Step()


def multiplier() -> int:
    return STEP.multiplier


class BlackFridayShape(LoadTestShape):
    """The steps: ``STEP_S`` seconds at each multiplier of ``MULTIPLIERS``;
    stops after the first step the stack did not hold."""

    def tick(self) -> tuple[int, float] | None:
        index = int(self.get_run_time() // STEP_S)
        if index != STEP.index:
            if STEP.index >= 0 and not STEP.close().held:
                return None
            if index >= len(MULTIPLIERS):
                return None
            STEP.open(index)
        users = mix.users_at(MULTIPLIERS[index])
        return users, float(users)


@events.request.add_listener
def _on_request(name: str, response_time: float, response: Any, exception: Any, **_kwargs: Any) -> None:
    status = getattr(response, "status_code", 0) or 0
    shed = status == 503 and mix.is_overload_answer(status, response_json(response))
    STEP.record(name.split(":", 1)[0], status, response_time, None if exception is None else str(exception), shed=shed)


@events.quitting.add_listener
def _write_history(environment: Any, **_kwargs: Any) -> None:
    if HISTORY_PATH:
        with open(HISTORY_PATH, "w") as out:
            for row in _history:
                out.write(json.dumps(row) + "\n")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _check(response: Any, ok: tuple[int, ...], backoff: bool = True) -> int:
    """Marks the answer a failure unless its status is one of ``ok`` or it is
    the overload answer (503 ``overloaded``: shed, counted apart, never a
    failure); returns the status. After a shed the user waits Retry-After, as
    the app does, unless ``backoff`` is off (the checkout's retry logic,
    loadtests/shoppers.py, waits itself)."""
    status = response.status_code or 0
    if status in ok:
        response.success()
    elif mix.is_overload_answer(status, response_json(response)):
        response.success()
        if backoff:
            gevent.sleep(retry_after(response.headers or {}))
    else:
        response.failure(f"{status}: {(response.text or '')[:200]}")
    return int(status)


def _instant(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class Shopper(FastHttpUser):
    """A shopper's app: browses, checks availability near them and a store's
    slots, checks out, reads its orders. Each user serves one shopper at a
    time and takes the next one after a checkout."""

    weight = mix.SHOPPERS
    wait_time = constant_throughput(mix.SHOPPER_PACE)
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.rng = random.Random()
        self.etags: dict[int, str] = {}
        self._next_shopper()

    def _next_shopper(self) -> None:
        tokens = PLAN["shopper_tokens"]
        self.index = next(_shopper_ids) % len(tokens)
        self.token = tokens[self.index]
        (lat, lng), (dlat, dlng) = PLAN["centre"], PLAN["half_box"]
        self.point = (lat + (self.rng.random() * 2 - 1) * dlat, lng + (self.rng.random() * 2 - 1) * dlng)
        stores = PLAN["stores"]
        self.home = min(
            range(len(stores)),
            key=lambda i: (stores[i]["lat"] - self.point[0]) ** 2 + (stores[i]["lng"] - self.point[1]) ** 2,
        )
        self.slot_ids: list[int] = []

    def _get(self, path: str, name: str, ok: tuple[int, ...] = (200,), headers: dict[str, str] | None = None) -> Any:
        with self.client.get(
            path, headers={**_bearer(self.token), **(headers or {})}, name=f"shopper: {name}", catch_response=True
        ) as response:
            _check(response, ok)
            return response

    @task(mix.SHOPPER_READS["catalogue"])
    def catalogue(self) -> None:
        category = self.rng.choice(PLAN["categories"])
        self._get(f"/api/v1/products?category={category}&page_size=20", "GET /api/v1/products")

    @task(mix.SHOPPER_READS["product"] - RECOMMENDATIONS)
    def product(self) -> None:
        product = self.rng.choice(PLAN["products"])["id"]
        etag = self.etags.get(product)
        response = self._get(
            f"/api/v1/products/{product}",
            "GET /api/v1/products/{id}",
            ok=(200, 304),
            headers={"If-None-Match": etag} if etag else None,
        )
        if response.status_code == 200 and response.headers.get("ETag"):
            self.etags[product] = response.headers["ETag"]

    @task(mix.SHOPPER_READS["availability"])
    def availability(self) -> None:
        skus = ",".join(row["sku"] for row in self.rng.sample(PLAN["products"], k=self.rng.randint(1, 3)))
        lat, lng = self.point
        self._get(
            f"/api/v1/availability?lat={lat:.5f}&lng={lng:.5f}&radius_km=10&sku={skus}", "GET /api/v1/availability"
        )

    @task(mix.SHOPPER_READS["slots"])
    def slots(self) -> None:
        self.slot_ids = self._open_slots()

    @task(mix.SHOPPER_READS["my_orders"])
    def my_orders(self) -> None:
        """A shopper who ordered earlier checks the order's status (with its own token); before
        any order exists, the current shopper's (empty) list."""
        if not _placed:
            self._get("/api/v1/orders?page_size=5", "GET /api/v1/orders")
            return
        index, order_id = self.rng.choice(_placed)
        with self.client.get(
            f"/api/v1/orders/{order_id}",
            headers=_bearer(PLAN["shopper_tokens"][index]),
            name="shopper: GET /api/v1/orders/{id}",
            catch_response=True,
        ) as response:
            _check(response, (200,))

    @task(RECOMMENDATIONS)
    def recommendations(self) -> None:
        """A product page's offers at the home store (cross-sell, upsell)."""
        sku, store = self.rng.choice(PLAN["products"])["sku"], PLAN["stores"][self.home]["code"]
        self._get(f"/api/v1/recommendations?sku={sku}&store={store}", "GET /api/v1/recommendations")

    @task(mix.CHECKOUT_WEIGHT)
    def checkout(self) -> None:
        if not self.slot_ids:
            self.slot_ids = self._open_slots()
        if not self.slot_ids:
            self._next_shopper()
            return
        basket = Basket(
            index=self.index,
            token=self.token,
            slot_ids=self.slot_ids,
            product_ids=[row["id"] for row in PLAN["products"]],
            rng=self.rng,
            lines=(1, 5),
        )
        basket.loyalty = self._loyalty(basket)
        if RECOMMENDATIONS:
            self._basket_offers(basket)
        hold_first = self.rng.random() < 0.5
        outcome, attempts = "too_many_attempts", 0
        while attempts < MAX_ATTEMPTS and outcome not in (PLACED, GIVEN_UP):
            attempts += 1
            if hold_first and basket.hold_id is None:
                outcome = self._hold(basket)
                if outcome == PLACED:  # the hold is taken: now the order
                    outcome = self._order(basket)
            else:
                outcome = self._order(basket)
        _history.append({"kind": "checkout", "final": outcome, "attempts": attempts, "member": self.index in MEMBERS})
        self._next_shopper()

    def _loyalty(self, basket: Basket) -> dict[str, Any] | None:
        """A member's loyalty part: the program, the points a holder spends,
        and the code if a quote of this basket applies it."""
        member = MEMBERS.get(self.index)
        if member is None:
            return None
        loyalty: dict[str, Any] = {"program": LOYALTY["program"]}
        if member["points"] >= mix.POINTS_SPENT:
            loyalty["points"] = mix.POINTS_SPENT
        if member["code"] and self._quote_applies(basket, member["code"]):
            loyalty["codes"] = [member["code"]]
        return loyalty

    def _quote_applies(self, basket: Basket, code: str) -> bool:
        body = {
            "program": LOYALTY["program"],
            "store": PLAN["stores"][self.home]["code"],
            "codes": [code],
            "lines": basket.lines,
        }
        with self.client.post(
            "/api/v1/loyalty/quote",
            json=body,
            headers=_bearer(self.token),
            name="shopper: POST /api/v1/loyalty/quote",
            catch_response=True,
        ) as response:
            if _check(response, (200,)) != 200:
                return False
            refused = {row.get("code") for row in response_json(response).get("refused", [])}
        _history.append({"kind": "quote", "code_applies": code not in refused})
        return code not in refused

    def _basket_offers(self, basket: Basket) -> None:
        """The basket page's offers, collectable by the chosen slot's day."""
        skus = PLAN["skus"]
        body = {
            "store": PLAN["stores"][self.home]["code"],
            "lines": [{"sku": skus[str(line["product_id"])], "quantity": line["quantity"]} for line in basket.lines],
            "slot_id": basket.slot_id,
            "k": 5,
        }
        with self.client.post(
            "/api/v1/recommendations",
            json=body,
            headers=_bearer(self.token),
            name="shopper: POST /api/v1/recommendations",
            catch_response=True,
        ) as response:
            _check(response, (200,))

    def _hold(self, basket: Basket) -> str:
        with self.client.post(
            "/api/v1/pickup-holds",
            json={"slot_id": basket.slot_id},
            headers={**_bearer(self.token), "Idempotency-Key": secrets.token_hex(16)},
            name="shopper: POST /api/v1/pickup-holds",
            catch_response=True,
        ) as response:
            status = _check(response, (201, *EXPECTED_REFUSALS), backoff=False)
            data = response_json(response)
            if status == 201:
                basket.hold_id = data["id"]
                return PLACED
            return self._next_step(basket, status, data, response)

    def _order(self, basket: Basket) -> str:
        with self.client.post(
            "/api/v1/orders",
            json=basket.body(),
            headers={**_bearer(self.token), "Idempotency-Key": basket.key},
            name="shopper: POST /api/v1/orders",
            catch_response=True,
        ) as response:
            status = _check(response, (201, *EXPECTED_REFUSALS), backoff=False)
            data = response_json(response)
            if status == 201:
                store = self.home
                _placed.append((self.index, data["id"]))
                loyalty = basket.loyalty or {}
                _history.append(
                    {"kind": "order", "order_id": data["id"], "key": basket.key, "store": store,
                     "member": "program" in loyalty, "coupon": bool(loyalty.get("codes")),
                     "points": loyalty.get("points", 0)}
                )  # fmt: skip
                _work.append((store, data["id"], "preparing"))
                return PLACED
            return self._next_step(basket, status, data, response)

    def _next_step(self, basket: Basket, status: int, data: dict[str, Any], response: Any) -> str:
        code = data.get("code", "") if status >= 400 else ""
        outcome = order_next_step(
            basket,
            status=status,
            code=code,
            data=data,
            headers=response.headers or {},
            rng=self.rng,
            sku_of=PLAN["skus"],
            reload_available=lambda: set(self._open_slots()),
        )
        if outcome != RETRY_SAME_KEY:
            basket.hold_id = None
        return outcome

    def _open_slots(self) -> list[int]:
        """The home store's slots with room left, today and tomorrow, in start
        order, from five minutes ahead (a slot about to start is no choice)."""
        store = PLAN["stores"][self.home]
        first, last = PLAN["dates"][0], PLAN["dates"][-1]
        response = self._get(
            f"/api/v1/pickup-slots?store={store['code']}&from={first}&to={last}&available=true&page_size=100",
            "GET /api/v1/pickup-slots",
        )
        soon = _instant(time.time() + 300)
        return [row["id"] for row in response_json(response).get("results", []) if row["starts_at"] > soon]


class StoreStaff(FastHttpUser):
    """A store's staff app: reads the store's queue, then moves one order on."""

    weight = mix.STAFF
    wait_time = constant_throughput(mix.STAFF_PACE)
    network_timeout = 30.0

    def on_start(self) -> None:
        self.rng = random.Random()

    @task
    def work(self) -> None:
        stores = PLAN["stores"]
        job = _work.popleft() if _work else None
        store = job[0] if job else self.rng.randrange(len(stores))
        token = stores[store]["staff_token"]
        with self.client.get(
            "/api/v1/orders?status=placed,preparing,ready&page_size=20",
            headers=_bearer(token),
            name="staff: GET /api/v1/orders (queue)",
            catch_response=True,
        ) as response:
            _check(response, (200,))
        if job is None:
            return
        _store, order_id, to_status = job
        with self.client.post(
            f"/api/v1/orders/{order_id}/status",
            json={"status": to_status},
            headers=_bearer(token),
            name="staff: POST /api/v1/orders/{id}/status",
            catch_response=True,
        ) as response:
            status = _check(response, (200, 409))
        if status == 200:
            _history.append({"kind": "status", "order_id": order_id, "status": to_status})
            if to_status in _next_status:
                _work.append((store, order_id, _next_status[to_status]))
        elif status != 409:
            _work.append(job)  # not done: another try later


class PartnerSystem(FastHttpUser):
    """A partner's system: its bulk stock sync every minute, and between
    syncs its events feed (by cursor) and availability at the retailer's stores."""

    fixed_count = mix.PARTNERS
    network_timeout = 60.0

    def wait_time(self) -> float:
        return 1.0 / (mix.PARTNER_READS_PER_S * mix.background(multiplier()))

    def on_start(self) -> None:
        self.rng = random.Random()
        partners = PLAN["partners"]
        self.partner = partners[next(_partner_ids) % len(partners)]
        self.cursor: str | None = None
        self.next_sync = time.time() + self.rng.random() * mix.PARTNER_SYNC_EVERY_S
        pairs = [(code, sku) for code in self.partner["locations"] for sku in self.partner["skus"]]
        self.pairs = pairs[: mix.SYNC_LINES]

    @task
    def work(self) -> None:
        if time.time() >= self.next_sync:
            self.next_sync += mix.PARTNER_SYNC_EVERY_S / mix.background(multiplier())
            self._sync()
        elif self.rng.random() < 0.5:
            self._feed()
        else:
            self._availability()

    def _sync(self) -> None:
        """Every line it has: four in five absolute counts, one in five a delivery (a positive delta)."""
        rng = self.rng
        lines = [
            {"location": code, "sku": sku, "on_hand": rng.randint(0, 400)}
            if rng.random() < 0.8
            else {"location": code, "sku": sku, "delta": rng.randint(1, 5)}
            for code, sku in self.pairs
        ]
        key = secrets.token_hex(16)
        with self.client.post(
            "/api/v1/stock/sync",
            json={"lines": lines, "reference": f"feed-{key[:8]}", "error_policy": "reject_all"},
            headers={**_bearer(self.partner["token"]), "Idempotency-Key": key},
            name="partner: POST /api/v1/stock/sync",
            catch_response=True,
        ) as response:
            if _check(response, (200,)) == 200:
                _history.append({"kind": "sync", "partner": self.partner["id"], "key": key, "lines": len(lines)})

    def _feed(self) -> None:
        after = f"&after={self.cursor}" if self.cursor else ""
        with self.client.get(
            f"/api/v1/events?page_size=500{after}",
            headers=_bearer(self.partner["token"]),
            name="partner: GET /api/v1/events",
            catch_response=True,
        ) as response:
            if _check(response, (200,)) == 200:
                results = response_json(response).get("results", [])
                if results:
                    self.cursor = results[-1]["cursor"]

    def _availability(self) -> None:
        store = self.rng.choice(PLAN["stores"])["code"]
        skus = ",".join(self.rng.sample(self.partner["skus"], k=min(2, len(self.partner["skus"]))))
        with self.client.get(
            f"/api/v1/availability?store={store}&sku={skus}",
            headers=_bearer(self.partner["token"]),
            name="partner: GET /api/v1/availability",
            catch_response=True,
        ) as response:
            _check(response, (200,))


def _interval(post: int) -> tuple[int, str, str]:
    """The store and the 15-minute interval of the ``post``-th post: stores in
    turn, each going back one quarter from the last whole one before the run."""
    stores = len(PLAN["stores"])
    store, back = post % stores, post // stores + 1
    start = (math.floor(_started / QUARTER) - back) * QUARTER
    return store, _instant(start), _instant(start + QUARTER)


class SensorBox(FastHttpUser):
    """Stores' sensor boxes: both entrance counts of one store's quarter hour per post."""

    fixed_count = mix.SENSOR_BOXES
    network_timeout = 30.0

    def wait_time(self) -> float:
        return 1.0 / (mix.SENSOR_POSTS_PER_S * mix.background(multiplier()))

    def on_start(self) -> None:
        self.rng = random.Random()

    @task
    def post_counts(self) -> None:
        store, start, end = _interval(next(_footfall_posts))
        intervals = [
            {
                "sensor": sensor,
                "start": start,
                "end": end,
                "in": self.rng.randint(0, 300),
                "out": self.rng.randint(0, 300),
            }
            for sensor in PLAN["stores"][store]["sensors"]
        ]
        with self.client.post(
            "/api/v1/footfall/counts",
            json={"intervals": intervals},
            headers=_bearer(PLAN["stores"][store]["device_token"]),
            name="sensor: POST /api/v1/footfall/counts",
            catch_response=True,
        ) as response:
            _check(response, (200,))


class Till(FastHttpUser):
    """Stores' tills: one till's sales of a quarter hour per post."""

    fixed_count = mix.TILLS
    network_timeout = 30.0

    def wait_time(self) -> float:
        return 1.0 / (mix.TILL_POSTS_PER_S * mix.background(multiplier()))

    def on_start(self) -> None:
        self.rng = random.Random()

    @task
    def post_sales(self) -> None:
        store, start, end = _interval(next(_till_posts))
        tickets = self.rng.randint(*mix.TILL_TICKETS)
        revenue = f"{tickets * self.rng.uniform(12, 40):.2f}"
        with self.client.post(
            "/api/v1/footfall/sales",
            json={
                "intervals": [
                    {
                        "register": "T1",
                        "start": start,
                        "end": end,
                        "tickets": tickets,
                        "revenue": {"amount": revenue, "currency": "EUR"},
                    }
                ]
            },
            headers=_bearer(PLAN["stores"][store]["staff_token"]),
            name="till: POST /api/v1/footfall/sales",
            catch_response=True,
        ) as response:
            _check(response, (200,))


class TicketTill(FastHttpUser):
    """Stores' tills sending the tickets of loyalty members as they are rung
    up: a member's card, 1-8 lines of the catalogue at the shelf price, the
    member's code if they carry one (a code that does not apply never
    refuses a ticket: it is listed as refused)."""

    fixed_count = mix.TICKET_TILLS
    network_timeout = 30.0

    def wait_time(self) -> float:
        return 1.0 / (mix.TICKET_POSTS_PER_S * mix.background(multiplier()))

    def on_start(self) -> None:
        self.rng = random.Random()
        self.members = LOYALTY["members"]

    @task
    def post_ticket(self) -> None:
        number = next(_tickets)
        store = PLAN["stores"][number % len(PLAN["stores"])]
        member = self.rng.choice(self.members)
        products = self.rng.sample(PLAN["products"], k=min(len(PLAN["products"]), self.rng.randint(1, 8)))
        ticket_id = f"T{number}-{secrets.token_hex(3)}"
        body = {
            "program": LOYALTY["program"],
            "store": store["code"],
            "ticket_id": ticket_id,
            "card_number": member["card"],
            "codes": [member["code"]] if member["code"] else [],
            "lines": [
                {"sku": row["sku"], "quantity": self.rng.randint(1, 3), "unit_price": row["price"]} for row in products
            ],
            "till_time": _instant(time.time()),
        }
        with self.client.post(
            "/api/v1/loyalty/tickets",
            json=body,
            headers=_bearer(store["staff_token"]),  # a ticket is idempotent by its store and id already
            name="till: POST /api/v1/loyalty/tickets",
            catch_response=True,
        ) as response:
            if _check(response, (200, 201)) in (200, 201):
                data = response_json(response)
                _history.append(
                    {"kind": "ticket", "store": store["id"], "ticket_id": ticket_id,
                     "coupon": bool(data.get("applied")) and bool(member["code"]),
                     "discount": data.get("discount", {}).get("amount", "0")}
                )  # fmt: skip
