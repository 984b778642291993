"""Two gateway instances behind the balancer bin/serve starts (nginx,
bin/nginx.conf.template): the web tier keeps no state of its own, so the
capacity invariant, token revocation, rate limits and acknowledged writes
hold whichever instance serves a request, and a client trickling its body
holds an nginx connection rather than one of the instances' threads.

The two instances and the balancer are started once for the module (about
20 s on the 2-core test machine); every test gets an empty database."""

import contextlib
import json
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import psutil
import psycopg
import pytest
import requests
from django.db import connection

from commerce.models import Order, PickupSlot
from gateway.api.auth import token_checksum
from partners.models import CallerKind
from tests.commerce.factories import (
    crowd_tokens,
    ledger_matches_levels,
    open_slot,
    shopper_app,
    stock_of,
    stocked_product,
    store_with_schedule,
)
from tests.conftest import Balancer, GatewayServer
from tests.factories import UserFactory, make_client, token_for

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

ORDERS = "/api/v1/orders"
ME = "/api/v1/partners/me"
# Small enough for a test to pass it, large enough for the other tests' one request per shopper.
RATE_LIMIT = 40
# What each instance runs with: the production token cache (5 s), and one
# process of 4 threads, so that four stuck requests are all an instance has;
# the production read cache (15 s, gateway/api/readcache.py).
SERVER_ENV = {"AUTH_TOKEN_CACHE_SECONDS": "5", "RATE_LIMIT_STANDARD": str(RATE_LIMIT), "READ_CACHE_SECONDS": "15"}


@dataclass
class Stack:
    servers: list[GatewayServer]
    balancer: Balancer

    @property
    def url(self) -> str:
        return self.balancer.url

    def restart(self, index: int) -> None:
        """Start instance ``index`` again on its port (after a test killed it)."""
        old = self.servers[index]
        old.stop()
        self.servers[index] = GatewayServer(workers=old.workers, threads=old.threads, env=old.env, port=old.port)


@pytest.fixture(scope="module")
def stack(django_db_setup: Any) -> Iterator[Stack]:
    servers = [GatewayServer(workers=1, threads=4, env=SERVER_ENV) for _ in range(2)]
    try:
        balancer = Balancer(*servers)
    except Exception:
        for server in servers:
            server.stop()
        raise
    built = Stack(servers, balancer)
    try:
        yield built
    finally:
        built.balancer.stop()
        for server in built.servers:
            server.stop()


def order_body(slot: PickupSlot, product_id: int) -> dict[str, Any]:
    return {"slot_id": slot.pk, "lines": [{"product_id": product_id, "quantity": 1}]}


def post_order(url: str, token: str, body: dict[str, Any], key: str | None = None) -> requests.Response:
    # A connection of its own per request, as separate shoppers' devices would have.
    return requests.post(
        f"{url}{ORDERS}",
        json=body,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key or secrets.token_hex(12)},
        timeout=60,
    )


def test_500_shoppers_on_a_slot_of_50_through_two_instances_give_exactly_50(stack: Stack) -> None:
    # given a slot of capacity 50, plenty of stock, and 500 shoppers
    store = store_with_schedule()
    slot = open_slot(store, capacity=50)
    product = stocked_product(store, on_hand=1000)
    tokens = crowd_tokens(shopper_app(), 500)
    body = order_body(slot, product.pk)
    start = threading.Barrier(500)
    shed = Counter[str]()

    def shopper(token: str) -> str:
        start.wait()
        key = secrets.token_hex(12)
        for _attempt in range(10):
            response = post_order(stack.url, token, body, key)
            code = response.json().get("code") if response.status_code != 201 else ""
            if (response.status_code, code) != (503, "overloaded"):
                break
            # more orders at once than 8 threads run within the checkout budget: the app waits
            # Retry-After and posts the same order again with the same key (docs/api-guide.md, Overload)
            shed[token] += 1
            time.sleep(int(response.headers["Retry-After"]))
        return "201" if response.status_code == 201 else f"{response.status_code} {code}"

    # when all 500 order at once, each on its own connection to the balancer
    with ThreadPoolExecutor(max_workers=500) as pool:
        outcomes = Counter(pool.map(shopper, tokens))
    # then exactly 50 orders went through, everyone else was told the slot is full
    # (some, shed at first, after posting again)
    assert outcomes == {"201": 50, "409 slot_full": 450}, dict(shed)
    slot.refresh_from_db()
    assert (slot.booked, slot.held) == (50, 0)
    assert Order.objects.filter(slot=slot).count() == 50
    assert stock_of(store, product).reserved == 50
    assert ledger_matches_levels()
    # and both instances took part
    served = stack.balancer.served_by(ORDERS)
    assert set(served) == {server.port for server in stack.servers}, served
    assert sum(served.values()) == 500 + shed.total()


def _sql(statement: str, params: list[Any]) -> None:
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"], dbname=db["NAME"]
    ) as conn:
        conn.execute(statement, params)


def test_a_token_revoked_through_one_instance_is_refused_by_the_other_at_once(stack: Stack) -> None:
    # given a partner whose tokens both instances have read (and cache, 5 s)
    client = make_client(CallerKind.PARTNER, secret="s", rate_limit_tier="premium")  # 16 requests a round
    first, second = (server.url for server in stack.servers)
    credentials = (client.client_id, "s")
    for _round in range(5):
        token, witness = (
            requests.post(
                f"{stack.url}/oauth/token/", data={"grant_type": "client_credentials"}, auth=credentials, timeout=10
            ).json()["access_token"]
            for _ in range(2)
        )

        def me(url: str, raw: str) -> int:
            return requests.get(f"{url}{ME}", headers={"Authorization": f"Bearer {raw}"}, timeout=10).status_code

        for _ in range(4):  # the first requests start each process's eviction listener
            assert {me(first, token), me(second, token), me(first, witness), me(second, witness)} == {200}
            time.sleep(0.3)
        # the other instance answers from its cache: a delete behind its back goes unnoticed
        _sql("DELETE FROM oauth2_provider_accesstoken WHERE token_checksum = %s", [token_checksum(witness)])
        assert me(second, witness) == 200
        # when the token is revoked through the first instance
        revoked = requests.post(f"{first}/oauth/revoke/", data={"token": token}, auth=credentials, timeout=10)
        assert revoked.status_code == 200
        # then the very next request to the other instance is refused
        assert me(second, token) == 401
        assert me(stack.url, token) == 401


def test_a_stock_change_or_a_booking_through_one_instance_shows_on_the_other_at_once(stack: Stack) -> None:
    # given a store with a slot and a product, and both instances' read caches warm
    store = store_with_schedule()
    slot = open_slot(store, capacity=5)
    product = stocked_product(store, on_hand=20)
    operator = token_for(make_client(CallerKind.OPERATOR))
    shopper = token_for(shopper_app(), user=UserFactory.create())
    first, second = (server.url for server in stack.servers)
    near = f"/api/v1/availability?sku={product.sku}&lat=48.8566&lng=2.3522"
    day = slot.local_date.isoformat()
    slots = f"/api/v1/pickup-slots?store={store.code}&from={day}&to={day}"

    def get(url: str, path: str, etag: str = "") -> requests.Response:
        headers = {"Authorization": f"Bearer {shopper}", **({"If-None-Match": etag} if etag else {})}
        return requests.get(f"{url}{path}", headers=headers, timeout=10)

    def figure(response: requests.Response) -> int:
        assert response.status_code == 200, response.text
        return int(response.json()["results"][0]["locations"][0]["available"])

    def left(response: requests.Response) -> int:
        assert response.status_code == 200, response.text
        return int(response.json()["results"][0]["remaining"])

    for _ in range(3):
        for url in (first, second):
            assert figure(get(url, near)) == 20
            assert left(get(url, slots)) == 5
    etag = get(first, near).headers["ETag"]
    assert get(second, near, etag).status_code == 304  # the versions are shared, not the instance's

    # when the stock changes through the first instance
    changed = requests.put(
        f"{first}/api/v1/locations/{store.code}/stock/{product.sku}",
        json={"on_hand": 7, "expected_on_hand": 20},
        headers={"Authorization": f"Bearer {operator}"},
        timeout=10,
    )
    assert changed.status_code == 200, changed.text
    # then the very next read through the other shows the new figure
    after = get(second, near, etag)
    assert after.status_code == 200
    assert figure(after) == 7
    assert figure(get(stack.url, near)) == 7

    # and a booking through the second shows in the first's slots and availability at once
    placed = post_order(second, shopper, order_body(slot, product.pk))
    assert placed.status_code == 201, placed.text
    assert left(get(first, slots)) == 4
    assert figure(get(first, near)) == 6
    assert left(get(stack.url, slots)) == 4


def test_rate_limits_are_counted_once_across_instances(stack: Stack) -> None:
    # given a partner client of the standard tier (RATE_LIMIT requests a window)
    raw = token_for(make_client(CallerKind.PARTNER))
    headers = {"Authorization": f"Bearer {raw}"}
    # when it sends half again its budget through the balancer, which spreads the requests
    statuses = Counter(
        requests.get(f"{stack.url}{ME}", headers=headers, timeout=10).status_code for _ in range(RATE_LIMIT * 3 // 2)
    )
    # then its budget was spent once, not once per instance
    assert statuses == {200: RATE_LIMIT, 429: RATE_LIMIT // 2}
    served = stack.balancer.served_by(ME)
    assert set(served) == {server.port for server in stack.servers}, served
    # and either instance, asked directly, agrees the budget is gone
    for server in stack.servers:
        assert requests.get(f"{server.url}{ME}", headers=headers, timeout=10).status_code == 429


def _kill(server: GatewayServer) -> None:
    """SIGKILL to every process of the instance, workers first: no clean-up, no answer."""
    main = psutil.Process(server.process.pid)
    for process in [*main.children(recursive=True), main]:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()


def test_an_instance_killed_mid_request_loses_no_acknowledged_order(stack: Stack) -> None:
    # given a slot with room for everyone, and 16 shoppers ordering one after the other, each
    # retrying with the same Idempotency-Key until they get an answer, as the app does
    store = store_with_schedule()
    slot = open_slot(store, capacity=1000)
    product = stocked_product(store, on_hand=1000)
    tokens = crowd_tokens(shopper_app(), 320)
    body = order_body(slot, product.pk)
    acknowledged: dict[str, str] = {}  # Idempotency-Key -> public id of the order a 201 announced
    failures: Counter[str] = Counter()
    lock = threading.Lock()

    def shopper(index: int) -> None:
        for token in tokens[index::16]:
            key = secrets.token_hex(12)
            for _attempt in range(20):
                try:
                    response = post_order(stack.url, token, body, key)
                except requests.RequestException as exc:
                    with lock:
                        failures[type(exc).__name__] += 1
                    continue
                if response.status_code == 201:
                    with lock:
                        acknowledged[key] = response.json()["id"]
                    break
                # 503 from the balancer while no instance could answer, or 409 while the
                # killed request's transaction still held the key: both say "try again".
                with lock:
                    failures[f"{response.status_code} {response.json().get('code', '')}"] += 1
                time.sleep(0.2)

    # when one instance is killed while the orders flow: once a quarter of them is acknowledged,
    # whatever the machine's speed (a fixed delay let a fast machine finish before the kill)
    with ThreadPoolExecutor(max_workers=16) as pool:
        running = [pool.submit(shopper, index) for index in range(16)]
        deadline = time.monotonic() + 60
        while len(acknowledged) < 80 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(acknowledged) < 320, "every order was in before the kill: the test would prove nothing"
        _kill(stack.servers[0])
        for future in running:
            future.result()
    stack.restart(0)
    # then every shopper got an order, and every acknowledged order exists once
    assert len(acknowledged) == 320, failures
    assert failures, "the kill interrupted nothing: the test proved nothing"
    assert len(set(acknowledged.values())) == 320
    orders = Order.objects.filter(slot=slot)
    assert {str(public_id) for public_id in orders.values_list("public_id", flat=True)} == set(acknowledged.values())
    slot.refresh_from_db()
    assert slot.booked == 320
    assert stock_of(store, product).reserved == 320
    assert ledger_matches_levels()


class Trickler(threading.Thread):
    """A client sending an order one body byte every ``pause`` seconds, for ``bytes_to_send``
    bytes, then falling silent with its connection open; ``closed_after`` is how long after
    its last byte the other end closed the connection (None: still open at the end)."""

    def __init__(self, url: str, token: str, body: bytes, pause: float, bytes_to_send: int) -> None:
        super().__init__(daemon=True)
        host, port = url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=60)
        self.body, self.pause, self.bytes_to_send = body, pause, bytes_to_send
        self.sock.sendall(
            (
                f"POST {ORDERS} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                f"Idempotency-Key: {secrets.token_hex(12)}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
        )
        self.closed_after: float | None = None
        self.answer = b""

    def run(self) -> None:
        try:
            for index in range(self.bytes_to_send):
                if index:
                    time.sleep(self.pause)
                self.sock.sendall(self.body[index : index + 1])
            silent_since = time.monotonic()
            self.answer = self.sock.recv(4096)  # b"" once the other end closes
            self.closed_after = time.monotonic() - silent_since
        except OSError:
            self.closed_after = None

    def close(self) -> None:
        self.sock.close()


def _prompt(call: Callable[[], int], expected: int, within: float) -> bool:
    started = time.monotonic()
    try:
        status = call()
    except requests.RequestException:
        return False
    return status == expected and time.monotonic() - started < within


def test_slow_bodies_wait_in_the_balancer_and_are_cut_off_there(stack: Stack) -> None:
    # given 4 shoppers on a poor network (as many as an instance has threads) and one on a good one
    store = store_with_schedule()
    slot = open_slot(store, capacity=100)
    product = stocked_product(store, on_hand=100)
    tokens = crowd_tokens(shopper_app(), 5)
    body = json.dumps(order_body(slot, product.pk)).encode()
    # when the 4 send their order a byte every 2.5 s through the balancer, then fall silent
    tricklers = [Trickler(stack.url, token, body, pause=2.5, bytes_to_send=4) for token in tokens[:4]]
    for trickler in tricklers:
        trickler.start()
    try:
        # then, while they trickle, health checks and another shopper's order are answered at once
        for _ in range(5):
            assert _prompt(lambda: requests.get(f"{stack.url}/health/ready", timeout=5).status_code, 200, within=2)
            time.sleep(0.5)
        assert _prompt(lambda: post_order(stack.url, tokens[4], order_body(slot, product.pk)).status_code, 201, 5)
        # and the balancer ends each of them after 10 s of silence, without an instance ever seeing it
        for trickler in tricklers:
            trickler.join(timeout=30)
            assert trickler.closed_after is not None
            assert 9 <= trickler.closed_after <= 15
    finally:
        for trickler in tricklers:
            trickler.close()
    cut = [line for line in stack.balancer.access_log() if f"POST {ORDERS}" in line and '" 408 ' in line]
    assert len(cut) == 4
    assert all("upstream=- " in line for line in cut)
    assert Order.objects.filter(slot=slot).count() == 1


def test_without_the_balancer_four_slow_bodies_freeze_an_instance(transactional_db: Any) -> None:
    # given an instance of 4 threads reached directly, as before the balancer
    store = store_with_schedule()
    slot = open_slot(store, capacity=100)
    product = stocked_product(store, on_hand=100)
    tokens = crowd_tokens(shopper_app(), 4)
    body = json.dumps(order_body(slot, product.pk)).encode()
    server = GatewayServer(workers=1, threads=4)
    tricklers = [Trickler(server.url, token, body, pause=2.5, bytes_to_send=3) for token in tokens]
    try:
        # when 4 clients trickle their order bodies
        for trickler in tricklers:
            trickler.start()
        time.sleep(1)
        # then the instance does not even answer its liveness probe: each body holds a thread
        with pytest.raises(requests.ReadTimeout):
            requests.get(f"{server.url}/health/live", timeout=3)
    finally:
        for trickler in tricklers:
            trickler.close()
        server.stop()
