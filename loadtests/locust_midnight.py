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
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

import gevent
from locust import FastHttpUser, events, task
from locust.exception import StopUser

# Locust puts the locustfile's own directory on the path, not the repository's.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtests.shoppers import EXPECTED_REFUSALS, GIVEN_UP, PLACED, Basket, order_next_step, response_json

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


def _basket(index: int, rng: random.Random) -> Basket:
    store = PLAN["stores"][index % len(PLAN["stores"])]
    # A coupon rush (seed_coupon_rush): some shoppers carry a code.
    code = PLAN["loyalty"]["codes"][index] if "loyalty" in PLAN else None
    return Basket(
        index=index,
        token=PLAN["tokens"][index],
        slot_ids=store["slot_ids"],
        product_ids=store["product_ids"],
        rng=rng,
        loyalty={"program": PLAN["loyalty"]["program"], "codes": [code]} if code else None,
    )


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
        shopper = _basket(_queue.popleft(), self.rng)
        outcome, attempts = "too_many_attempts", 0
        while attempts < MAX_ATTEMPTS and outcome not in (PLACED, GIVEN_UP):
            outcome, attempts = self._post(shopper), attempts + 1
        _history.append({"shopper": shopper.index, "final": outcome, "attempts": attempts})
        _done["shoppers"] += 1
        if _done["shoppers"] == len(PLAN["tokens"]):
            gevent.spawn(self.environment.runner.quit)  # not from this user's greenlet, which quit() kills

    def _post(self, shopper: Basket) -> str:
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
            data = response_json(response)
            code = data.get("code", "") if status >= 400 else ""
            _history.append(
                {
                    "shopper": shopper.index,
                    "key": shopper.key,
                    "status": status,
                    "code": code,
                    "order_id": data.get("id") if status == 201 else None,
                    "coupon": shopper.loyalty is not None,
                    "sent": sent,
                    "ms": (time.time() - sent) * 1000,
                }
            )
            if status == 201 or status in EXPECTED_REFUSALS:
                response.success()  # expected outcomes of the rush; the bench counts them by code
            return order_next_step(
                shopper,
                status=status,
                code=code,
                data=data,
                headers=response.headers or {},
                rng=self.rng,
                sku_of=PLAN["skus"],
                reload_available=lambda: self._available(shopper),
            )

    def _available(self, shopper: Basket) -> set[int]:
        """What the app shows after a full slot: the day's slots with room left."""
        store = PLAN["stores"][shopper.index % len(PLAN["stores"])]
        response = self.client.get(
            f"/api/v1/pickup-slots?store={store['code']}&from={PLAN['date']}&to={PLAN['date']}&available=true"
            "&page_size=100",
            headers={"Authorization": f"Bearer {shopper.token}"},
            name="GET /api/v1/pickup-slots",
        )
        return {row["id"] for row in response_json(response).get("results", [])}


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
