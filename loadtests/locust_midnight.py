"""Locust scenario of the midnight release: shoppers with baskets ready, all
ordering the moment the slots open.

Run by loadtests/bench_midnight_release.py (headless); it reads the plan the
seeding command wrote (MIDNIGHT_PLAN: tokens, stores, slots, products, the
release instant) and writes every order request it made to MIDNIGHT_HISTORY
(JSON lines), which the bench script checks against the database.

Each Locust user is one connection serving a queue of shoppers (a front end
or proxy multiplexes many devices onto few upstream connections). A shopper:

- waits for the release instant (a few arrive a little early and are told
  ``slot_not_released`` with Retry-After);
- leans to morning slots (personal taste dominates), so early slots fill first;
- posts its order with an Idempotency-Key; on a timeout, a connection error, a
  5xx or 409 ``idempotency_in_progress`` it retries with the same key; on a
  definitive refusal it changes what it asks for and uses a new key:
  ``slot_full`` -> takes its favourite among the ``alternatives`` the refusal
  lists (the day's slots with room left; ``slot_started`` and ``store_closed``
  reload them with GET /pickup-slots), ``slot_not_released`` -> same slot after
  Retry-After, ``insufficient_stock`` -> without the missing lines."""

import json
import os
import random
import secrets
import time
from collections import deque
from pathlib import Path
from typing import Any

import gevent
from locust import FastHttpUser, events, task
from locust.exception import StopUser

PLAN: dict[str, Any] = (
    json.loads(Path(os.environ["MIDNIGHT_PLAN"]).read_text()) if "MIDNIGHT_PLAN" in os.environ else {}
)
HISTORY_PATH = os.environ.get("MIDNIGHT_HISTORY", "")
# How early the first shoppers fire, in seconds: the gate is the database clock, not ours.
EARLY_S = float(os.environ.get("MIDNIGHT_EARLY_S", "0.3"))
MAX_ATTEMPTS = 100

_queue: deque[int] = deque(range(len(PLAN.get("tokens", []))))
_history: list[dict[str, Any]] = []
_done = {"shoppers": 0}


class Shopper:
    def __init__(self, index: int, rng: random.Random) -> None:
        self.index = index
        self.token = PLAN["tokens"][index]
        store = PLAN["stores"][index % len(PLAN["stores"])]
        # Demand leans to the morning (a mild bias under personal taste, weight 1 : 2),
        # so early slots fill first and shoppers move on to their next choice.
        count = len(store["slot_ids"])
        ranked = sorted(range(count), key=lambda index: index / count + rng.random() * 2)
        self.slots = [store["slot_ids"][index] for index in ranked]
        self.slot_pos = 0
        products = rng.sample(store["product_ids"], k=min(len(store["product_ids"]), rng.randint(3, 8)))
        self.lines = [{"product_id": pid, "quantity": rng.randint(1, 3)} for pid in products]
        self.key = secrets.token_hex(16)

    def body(self) -> dict[str, Any]:
        return {"slot_id": self.slots[self.slot_pos], "lines": self.lines}

    def next_choice(self, available: set[int]) -> bool:
        """Their most preferred slot among those still available; False if none is."""
        self.key = secrets.token_hex(16)
        for position, slot in enumerate(self.slots):
            if slot in available:
                self.slot_pos = position
                return True
        return False


class MidnightShopper(FastHttpUser):
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.rng = random.Random()
        wait = PLAN["release_epoch"] - EARLY_S * self.rng.random() - time.time()
        if wait > 0:
            gevent.sleep(wait)

    @task
    def order(self) -> None:
        if not _queue:
            raise StopUser()
        shopper = Shopper(_queue.popleft(), self.rng)
        outcome, attempts = "too_many_attempts", 0
        while attempts < MAX_ATTEMPTS and outcome not in ("placed", "given_up"):
            outcome, attempts = self._post(shopper), attempts + 1
        _history.append({"shopper": shopper.index, "final": outcome, "attempts": attempts})
        _done["shoppers"] += 1
        if _done["shoppers"] == len(PLAN["tokens"]):
            gevent.spawn(self.environment.runner.quit)  # not from this user's greenlet, which quit() kills

    def _post(self, shopper: Shopper) -> str:
        body = shopper.body()
        sent = time.time()
        with self.client.post(
            "/api/v1/orders",
            json=body,
            headers={"Authorization": f"Bearer {shopper.token}", "Idempotency-Key": shopper.key},
            name="POST /api/v1/orders",
            catch_response=True,
        ) as response:
            status = response.status_code or 0
            data = _json(response)
            code = data.get("code", "") if status >= 400 else ""
            _history.append(
                {
                    "shopper": shopper.index,
                    "key": shopper.key,
                    "status": status,
                    "code": code,
                    "order_id": data.get("id") if status == 201 else None,
                    "sent": sent,
                    "ms": (time.time() - sent) * 1000,
                }
            )
            if status == 201 or status in (409, 422, 429):
                response.success()  # expected outcomes of the rush; the bench counts them by code
            return self._next_step(shopper, status, code, data, response.headers or {})

    def _next_step(self, shopper: Shopper, status: int, code: str, data: dict[str, Any], headers: Any) -> str:
        if status == 201:
            return "placed"
        if status == 0 or status >= 500 or code == "idempotency_in_progress":
            gevent.sleep(0.05 + 0.1 * self.rng.random())
            return "retry_same_key"
        if status == 429:
            gevent.sleep(float(headers.get("Retry-After", "1")))
            return "retry_same_key"
        if code == "slot_not_released":
            gevent.sleep(min(float(headers.get("Retry-After", "1")), 1.0) * self.rng.random())
            shopper.key = secrets.token_hex(16)
            return "retry"
        if code == "slot_full" and "alternatives" in data:
            # the refusal lists the day's slots with room left: no reload needed
            available = {row["id"] for row in data["alternatives"]}
            return "retry" if shopper.next_choice(available) else "given_up"
        if code in ("slot_full", "slot_started", "store_closed"):
            return "retry" if shopper.next_choice(self._available(shopper)) else "given_up"
        if code == "insufficient_stock":
            short = {line.get("sku") for line in data.get("lines", [])}
            kept = [line for line in shopper.lines if PLAN["skus"].get(str(line["product_id"])) not in short]
            if not kept:
                return "given_up"
            shopper.lines = kept
            shopper.key = secrets.token_hex(16)
            return "retry"
        return "given_up"

    def _available(self, shopper: Shopper) -> set[int]:
        """What the app shows after a full slot: the day's slots with room left."""
        store = PLAN["stores"][shopper.index % len(PLAN["stores"])]
        response = self.client.get(
            f"/api/v1/pickup-slots?store={store['code']}&from={PLAN['date']}&to={PLAN['date']}&available=true"
            "&page_size=100",
            headers={"Authorization": f"Bearer {shopper.token}"},
            name="GET /api/v1/pickup-slots",
        )
        return {row["id"] for row in _json(response).get("results", [])}


def _json(response: Any) -> dict[str, Any]:
    try:
        value = response.json()
    except Exception:  # an empty or non-JSON body (connection error, proxy page): recorded by status alone
        return {}
    return value if isinstance(value, dict) else {}


@events.quitting.add_listener
def _write_history(environment: Any, **_kwargs: Any) -> None:
    if HISTORY_PATH:
        with open(HISTORY_PATH, "w") as out:
            for row in _history:
                out.write(json.dumps(row) + "\n")


class OrdersReader(FastHttpUser):
    """The ceiling run, just before the release: the cheapest authenticated
    request a shopper makes (its own orders list: token, rate limit, one
    query), on the same server and connections."""

    network_timeout = 30.0

    def on_start(self) -> None:
        self.rng = random.Random()

    @task
    def read(self) -> None:
        token = PLAN["tokens"][self.rng.randrange(len(PLAN["tokens"]))]
        sent = time.time()
        with self.client.get(
            "/api/v1/orders?page_size=1",
            headers={"Authorization": f"Bearer {token}"},
            name="GET /api/v1/orders",
            catch_response=True,
        ) as response:
            _history.append({"status": response.status_code or 0, "sent": sent, "ms": (time.time() - sent) * 1000})
