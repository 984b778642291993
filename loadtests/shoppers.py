"""What a shopper's app does at checkout, shared by the Locust scenarios
(loadtests/locust_midnight.py, loadtests/locust_black_friday.py): the basket,
the slot it prefers, and what it does after each answer to its order POST.

An app posts its order with an ``Idempotency-Key``. On a timeout, a
connection error, a 5xx or 409 ``idempotency_in_progress`` it retries with the
same key (the first attempt may have been placed); on a definitive refusal it
changes what it asks for and takes a new key:

- ``slot_full``: its favourite among the ``alternatives`` the refusal lists
  (the day's slots with room left, so no reload); ``slot_started`` and
  ``store_closed`` reload the open slots with GET /pickup-slots;
- ``slot_not_released``: the same slot after ``Retry-After``;
- ``insufficient_stock``: the basket without the missing lines;
- a coupon refused (``coupon_not_applicable``, ``budget_exhausted``,
  ``coupon_used_up``): the same basket without the loyalty part (the app shows
  "this code no longer applies" and the shopper checks out at full price);
- 429, and 503 ``overloaded`` (admission control shed the request before it
  ran): the same key after ``Retry-After``, as the app shows "busy, trying
  again in a moment".

Pure Python apart from the sleep (gevent's by default, the scenarios run under
Locust), so tests drive it with made-up answers."""

import random
import secrets
from collections.abc import Callable, Mapping
from typing import Any

import gevent

# Outcomes of one attempt, as the scenarios record them.
PLACED, RETRY, RETRY_SAME_KEY, GIVEN_UP = "placed", "retry", "retry_same_key", "given_up"
# Refusals an app expects and acts on: the bench counts them by code, Locust does not fail them.
EXPECTED_REFUSALS = (409, 422, 429)
# Refusals of the coupon entered (the order is otherwise fine).
COUPON_REFUSALS = ("coupon_not_applicable", "budget_exhausted", "coupon_used_up")


def ranked_slots(slot_ids: list[int], rng: random.Random) -> list[int]:
    """The slots (in start order) in this shopper's order of preference.
    Demand leans to the earliest slots (a mild bias under personal taste,
    weight 1 : 2), so early slots fill first and shoppers move on to their
    next choice."""
    count = len(slot_ids)
    ranked = sorted(range(count), key=lambda index: index / count + rng.random() * 2)
    return [slot_ids[index] for index in ranked]


class Basket:
    """One shopper's checkout: token, slots by preference, lines, the current
    Idempotency-Key (new for each different request, kept for retries)."""

    def __init__(
        self,
        *,
        index: int,
        token: str,
        slot_ids: list[int],
        product_ids: list[int],
        rng: random.Random,
        lines: tuple[int, int] = (3, 8),
        loyalty: dict[str, Any] | None = None,
    ) -> None:
        self.index = index
        self.token = token
        self.slots = ranked_slots(slot_ids, rng)
        self.slot_pos = 0
        products = rng.sample(product_ids, k=min(len(product_ids), rng.randint(*lines)))
        self.lines = [{"product_id": pid, "quantity": rng.randint(1, 3)} for pid in products]
        self.key = secrets.token_hex(16)
        self.hold_id: str | None = None
        self.loyalty = loyalty  # the order's loyalty part (program, codes), if the shopper has one

    @property
    def slot_id(self) -> int:
        return self.slots[self.slot_pos]

    def body(self) -> dict[str, Any]:
        """The order body: from the hold the shopper has, else for its slot."""
        body: dict[str, Any] = (
            {"hold_id": self.hold_id, "lines": self.lines}
            if self.hold_id is not None
            else {"slot_id": self.slot_id, "lines": self.lines}
        )
        if self.loyalty is not None:
            body["loyalty"] = self.loyalty
        return body

    def next_choice(self, available: set[int]) -> bool:
        """Their most preferred slot among those still available; False if none is."""
        self.key = secrets.token_hex(16)
        self.hold_id = None
        for position, slot in enumerate(self.slots):
            if slot in available:
                self.slot_pos = position
                return True
        return False


def order_next_step(
    basket: Basket,
    *,
    status: int,
    code: str,
    data: dict[str, Any],
    headers: Mapping[str, str],
    rng: random.Random,
    sku_of: Mapping[str, str],
    reload_available: Callable[[], set[int]],
    sleep: Callable[[float], Any] = gevent.sleep,
) -> str:
    """What the app does after the answer to its order (or hold) POST:
    ``placed``, ``retry`` (basket or slot changed, new key), ``retry_same_key``
    or ``given_up``. ``sku_of`` maps product ids (as text) to SKUs, for
    ``insufficient_stock``; ``reload_available`` is GET /pickup-slots."""
    if status in (200, 201):
        return PLACED
    if status == 503 and code == "overloaded":
        sleep(retry_after(headers))
        return RETRY_SAME_KEY
    if status == 0 or status >= 500 or code == "idempotency_in_progress":
        sleep(0.05 + 0.1 * rng.random())
        return RETRY_SAME_KEY
    if status == 429:
        sleep(retry_after(headers))
        return RETRY_SAME_KEY
    if code == "slot_not_released":
        sleep(min(float(headers.get("Retry-After", "1")), 1.0) * rng.random())
        basket.key = secrets.token_hex(16)
        return RETRY
    if code == "slot_full" and "alternatives" in data:
        # the refusal lists the day's slots with room left: no reload needed
        available = {row["id"] for row in data["alternatives"]}
        return RETRY if basket.next_choice(available) else GIVEN_UP
    if code in ("slot_full", "slot_started", "store_closed", "hold_expired", "hold_not_active"):
        return RETRY if basket.next_choice(reload_available()) else GIVEN_UP
    if code == "insufficient_stock":
        short = {line.get("sku") for line in data.get("lines", [])}
        kept = [line for line in basket.lines if sku_of.get(str(line["product_id"])) not in short]
        if not kept:
            return GIVEN_UP
        basket.lines = kept
        basket.key = secrets.token_hex(16)
        return RETRY
    if code in COUPON_REFUSALS and basket.loyalty is not None:
        basket.loyalty = None
        basket.key = secrets.token_hex(16)
        return RETRY
    return GIVEN_UP


def retry_after(headers: Mapping[str, str], default: float = 1.0) -> float:
    """Seconds the answer's ``Retry-After`` asks for (delta-seconds; anything else: ``default``)."""
    try:
        return max(float(headers.get("Retry-After", default)), 0.0)
    except ValueError:
        return default


def response_json(response: Any) -> dict[str, Any]:
    """The body as a dict; {} for an empty or non-JSON body (a connection
    error, a proxy's page), which the caller then judges by status alone."""
    try:
        value = response.json()
    except Exception:  # any body that is not JSON is recorded by status alone
        return {}
    return value if isinstance(value, dict) else {}
