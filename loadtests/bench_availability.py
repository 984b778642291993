"""Availability lookups near a point (cold), the hot reads of a peak, and the bare-DRF ceiling, in one run.

    .venv/bin/python loadtests/bench_availability.py [--quick] [--connections N] [--seconds S]
        [--hot-stores N] [--hot-skus N] [--no-writer] [--hot-warmup S]

Starts PostgreSQL, Redis and granian with the bench settings
(loadtests/harness.py), whose URLs add /api/v1/bench/bare (loadtests/views.py:
an authenticated DRF view answering a constant, with the same authentication,
scope check and rate limiter as every endpoint). Seeds
1,800 stores (a third around Paris) holding stock with
``manage.py seed_bench_stock``. Then a light threaded client (http.client,
keep-alive, ``--connections`` connections) alternates timed rounds of
GET /api/v1/availability?sku=..&lat=..&lng=..&radius_km=10 (random points
in Paris, one to three SKUs) and GET /api/v1/bench/bare, as a store client
(figures of other stores capped, as for shoppers and partners). Afterwards it checks answers against the database
(nearest first, within the radius, click-and-collect stores with stock, capped
figures) and that no request failed, and prints
``RESULT availability_lookups_per_s``, ``bare_drf_per_s`` and
``availability_vs_bare_ratio``. ``--quick``: fewer levels, shorter rounds.

Random points never repeat, so that measurement is the cold path: every
lookup runs its query. The hot pattern of a peak is measured beside it, in
rounds of its own: shoppers (one token per connection, the capped view) ask
availability at and near their chosen store, the store's open slots for
tomorrow and one product, SKUs, stores and products drawn Zipf-like
(exponent ``ZIPF_S``) among ``HOT_STORES`` Paris stores, and revalidate with
If-None-Match as an app does (each connection keeps the ETags it was given).
Meanwhile one writer (the operator) places an order for every
``READS_PER_ORDER`` reads answered (stock reserved and a slot booked) and
changes a level for every ``READS_PER_STOCK_CHANGE``, on the same skewed
keys; after each acknowledged write it reads the keys it changed through the
API, revalidating with the ETag it held, and compares the answer with the
database (it is the only writer: the database cannot move meanwhile). A
figure or a slot count that is not the database's is a check failure: a unit
already gone shown. After the rounds a sample of every hot key is read again
and compared with the database. Each timed hot round follows as many
seconds of the same traffic, untimed (``--hot-warmup``): a peak lasts hours,
and without it every hot round started from answers the other rounds had
left to expire. The cache's outcomes per kind of read (availability at a
store, near a point, slots, product) are printed as progress. RESULT lines: ``hot_reads_per_s``,
``hot_vs_bare_ratio``, ``hot_p95_ms``, ``not_modified_share`` (304s among
hot reads), ``cache_hit_share`` (reads answered without SQL: 304s and the
process caches' answers, from the servers' ``gateway_read_cache_total``),
``hot_writes_per_s`` and ``hot_check_failures``.
"""

import argparse
import http.client
import json
import math
import os
import random
import secrets
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import django
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtests.harness import Stack, cpu_speed, progress, result

# The hot pattern: how many stores shoppers choose among, how skewed their
# choices are, and the writer's pace against the reads.
HOT_STORES = 30
ZIPF_S = 1.1
READS_PER_ORDER = 20  # the figure: about twenty reads come before each order
READS_PER_STOCK_CHANGE = 40
SLOT_CAPACITY = 1_000_000

SIZES = {
    "full": {"stores": 1800, "levels": 200_000, "seconds": 15.0, "rounds": 2},
    "quick": {"stores": 1800, "levels": 18_000, "seconds": 4.0, "rounds": 1},
}
PARIS = (48.8566, 2.3522)
RADIUS_KM = 10.0
CAP = 20  # AVAILABILITY_QUANTITY_CAP default
OWN_STORE = "BST00001"  # the benchmark's store client acts for it, so it sees its figures exactly


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="18,000 levels, 4 s rounds (under a minute).")
    parser.add_argument("--connections", type=int, default=8, help="Concurrent keep-alive connections (default 8).")
    parser.add_argument("--seconds", type=float, help="Length of each timed round.")
    parser.add_argument(
        "--hot-stores", type=int, default=HOT_STORES, help=f"Stores the shoppers choose among (default {HOT_STORES})."
    )
    parser.add_argument("--hot-skus", type=int, help="SKUs the shoppers choose among (default: every bench SKU).")
    parser.add_argument(
        "--no-writer", action="store_true", help="Hot rounds without the writer (what invalidation costs)."
    )
    parser.add_argument(
        "--hot-warmup",
        type=float,
        help="Seconds of the hot traffic, untimed, before each timed hot round (default: a round's length; "
        "0 measures each hot round from the cache the other rounds left).",
    )
    args = parser.parse_args()
    size = dict(SIZES["quick" if args.quick else "full"])
    seconds = args.seconds or size["seconds"]
    warmup = seconds if args.hot_warmup is None else args.hot_warmup
    with Stack(instance="inventory-availability-bench", pg_port=15465, redis_port=16415, port=8865) as stack:
        progress(f"seeding {size['stores']:,} stores and {size['levels']:,} stock levels (seed_bench_stock)")
        stack.manage("seed_bench_stock", "--stores", str(size["stores"]), "--levels", str(size["levels"]))
        dsn = stack.env["DATABASE_URL"]
        _django(stack.env)
        skus = _skus(dsn)
        # a store client: figures of every other store capped, like a shopper's; one lookup more per request
        client_id, secret = stack.client("store", "bench store till", "--scopes", "inventory:read")
        stack.manage("bind_client_store", client_id, OWN_STORE)
        token = stack.token(client_id, secret)
        port = stack.port
        rng = random.Random(11)
        hot = _hot_setup(stack, skus[: args.hot_skus or len(skus)], args.connections, args.hot_stores)
        progress("warming up the endpoints")
        _load(port, token, lambda: _availability_path(rng, skus), 2.0, args.connections)
        _load(port, token, lambda: "/api/v1/bench/bare", 2.0, args.connections)
        _load_hot(port, hot, 2.0, args.connections)
        figures: dict[str, list[float]] = {"availability": [], "bare": [], "hot": []}
        latencies: dict[str, list[float]] = {"availability": [], "bare": [], "hot": []}
        failures: list[str] = []
        hot_failures: list[str] = []
        statuses: dict[int, int] = {}
        writes = 0.0
        outcomes: dict[tuple[str, str], float] = {}
        hot_seconds = 0.0
        for round_ in range(int(size["rounds"])):
            for name, path in (
                ("bare", lambda: "/api/v1/bench/bare"),
                ("availability", lambda: _availability_path(rng, skus)),
            ):
                rate, times, errors = _load(port, token, path, seconds, args.connections)
                figures[name].append(rate)
                latencies[name].extend(times)
                failures.extend(errors)
                progress(f"round {round_ + 1}: {name} {rate:,.0f} requests/s")
            writer = _Writer(port, hot, dsn)
            if not args.no_writer:
                writer.start()
            # The same traffic first, untimed: a peak's reads find the answers of the
            # reads before them, not a cache the other rounds left to expire.
            _rate, _times, errors, _counted = _load_hot(port, hot, warmup, args.connections, writer)
            hot_failures.extend(errors)
            cache_before = _cache_outcomes(port)  # the hot rounds' only: the cold rounds miss by design
            writes_before = writer.writes
            rate, times, errors, counted = _load_hot(port, hot, seconds, args.connections, writer)
            writer.stop()
            for labels, count in _cache_outcomes(port).items():
                outcomes[labels] = outcomes.get(labels, 0) + count - cache_before.get(labels, 0)
            figures["hot"].append(rate)
            latencies["hot"].extend(times)
            hot_seconds += seconds
            writes += writer.writes - writes_before
            hot_failures.extend(errors + writer.failures)
            for status, count in counted.items():
                statuses[status] = statuses.get(status, 0) + count
            progress(f"round {round_ + 1}: hot reads {rate:,.0f} requests/s, {writer.writes - writes_before} writes")
        for kind in sorted({kind for kind, _outcome in outcomes}):
            mine = {outcome: count for (of, outcome), count in outcomes.items() if of == kind}
            shares = ", ".join(f"{outcome} {count / sum(mine.values()):.3f}" for outcome, count in sorted(mine.items()))
            progress(f"hot reads of kind {kind}: {sum(mine.values()):,.0f} ({shares})")
        failures.extend(_check_answers(port, token, dsn, skus))
        hot_failures.extend(_check_hot(port, hot, dsn))
    for failure in (failures + hot_failures)[:20]:
        print(f"CHECK FAILED: {failure}", file=sys.stderr)
    availability = sum(figures["availability"]) / len(figures["availability"])
    bare = sum(figures["bare"]) / len(figures["bare"])
    hot_rate = sum(figures["hot"]) / len(figures["hot"])
    answered = sum(statuses.values()) or 1
    served = sum(outcomes.values()) or 1
    by_outcome: dict[str, float] = {}
    for (_kind, outcome), count in outcomes.items():
        by_outcome[outcome] = by_outcome.get(outcome, 0) + count
    result("availability_lookups_per_s", round(availability), "requests/s")
    result("bare_drf_per_s", round(bare), "requests/s")
    result("availability_vs_bare_ratio", round(availability / bare, 3), "ratio", digits=3)
    result("availability_p50_ms", round(_percentile(latencies["availability"], 50) * 1000, 2), "ms")
    result("availability_p95_ms", round(_percentile(latencies["availability"], 95) * 1000, 2), "ms")
    result("availability_check_failures", len(failures), "failures")
    result("hot_stores", len(hot.stores), "stores")
    result("hot_skus", len(hot.skus), "skus")
    result("hot_reads_per_s", round(hot_rate), "requests/s")
    result("hot_vs_bare_ratio", round(hot_rate / bare, 3), "ratio", digits=3)
    result("hot_p50_ms", round(_percentile(latencies["hot"], 50) * 1000, 2), "ms")
    result("hot_p95_ms", round(_percentile(latencies["hot"], 95) * 1000, 2), "ms")
    result("not_modified_share", round(statuses.get(304, 0) / answered, 3), "share", digits=3)
    result(
        "cache_hit_share",
        round(sum(by_outcome.get(outcome, 0) for outcome in ("not_modified", "hit", "shared")) / served, 3),
        "share",
        digits=3,
    )
    result("hot_writes_per_s", round(writes / hot_seconds, 1), "writes/s")
    result("hot_check_failures", len(hot_failures), "failures")
    result("cpu_speed_index", round(cpu_speed(), 1), "Msteps/s")  # harness.cpu_speed: compare runs alongside it
    return 1 if failures or hot_failures else 0


def _django(env: dict[str, str]) -> None:
    """Django set up in this process with the server's settings, so the
    checks below take table names from the models (gateway.sql), as the app does."""
    os.environ.update(env)
    django.setup()


def _skus(dsn: str) -> list[str]:
    from gateway.sql import fragment
    from inventory.models import Product

    sql = fragment("SELECT p.sku FROM {product} p WHERE p.sku LIKE 'BENCH-%' ORDER BY p.sku", product=Product)
    with psycopg.connect(dsn) as conn:
        return [row[0] for row in conn.execute(sql)]


def _point(rng: random.Random) -> tuple[float, float]:
    return PARIS[0] + rng.uniform(-0.15, 0.15), PARIS[1] + rng.uniform(-0.2, 0.2)


def _availability_path(rng: random.Random, skus: list[str]) -> str:
    lat, lng = _point(rng)
    chosen = ",".join(rng.sample(skus, rng.randint(1, 3)))
    return "/api/v1/availability?" + urlencode(
        {"sku": chosen, "lat": f"{lat:.5f}", "lng": f"{lng:.5f}", "radius_km": RADIUS_KM}
    )


def _load(
    port: int, token: str, next_path: Any, seconds: float, connections: int
) -> tuple[float, list[float], list[str]]:
    """Requests/s over ``seconds`` from ``connections`` keep-alive connections; latencies; failures."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        while time.perf_counter() < deadline:
            with lock:
                path = next_path()
            sent = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            mine.append(time.perf_counter() - sent)
            if response.status != 200:
                with lock:
                    errors.append(f"GET {path} answered {response.status}: {body[:200]!r}")
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies) / (time.perf_counter() - started), latencies, errors


def _haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


# ---------------------------------------------------------------- the hot pattern


@dataclass
class Hot:
    """What the hot rounds read and write: Paris stores (id, code, latitude,
    longitude), SKUs with their product ids, tomorrow's slots per store, a
    token per shopper connection, the operator's token and its customer."""

    stores: list[tuple[int, str, float, float]]
    skus: list[str]
    product_ids: dict[str, int]
    day: str
    slots: dict[int, list[int]]
    tokens: list[str]
    operator: str
    customer_id: int
    reads: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    # What each shopper connection was given, kept from one call of _load_hot to the next.
    etags: dict[int, dict[str, str]] = field(default_factory=dict)

    def zipf(self, rng: random.Random, count: int) -> int:
        return rng.choices(range(count), cum_weights=_zipf_weights(count))[0]

    def store(self, rng: random.Random) -> tuple[int, str, float, float]:
        return self.stores[self.zipf(rng, len(self.stores))]

    def sku(self, rng: random.Random) -> str:
        return self.skus[self.zipf(rng, len(self.skus))]


_WEIGHTS: dict[int, list[float]] = {}


def _zipf_weights(count: int) -> list[float]:
    if count not in _WEIGHTS:
        total, cumulative = 0.0, []
        for rank in range(1, count + 1):
            total += 1 / rank**ZIPF_S
            cumulative.append(total)
        _WEIGHTS[count] = cumulative
    return _WEIGHTS[count]


def _hot_setup(stack: Stack, skus: list[str], connections: int, hot_stores: int) -> Hot:
    """Tomorrow's slots at the hot stores, shoppers with tokens, the writer's operator and customer."""
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from oauth2_provider.models import get_access_token_model, set_token_value

    from commerce.models import PickupSlot
    from inventory.local_time import zone
    from inventory.models import Location, Product
    from partners.models import ApiClient, CallerKind
    from partners.services import api_client_create

    codes = [f"BST{i:05d}" for i in range(3, 3 * hot_stores + 1, 3)]  # the seed puts every third store in Paris
    rows = Location.objects.filter(code__in=codes).values_list("id", "code", "latitude", "longitude")
    stores = sorted(
        ((pk, code, float(lat or 0), float(lng or 0)) for pk, code, lat, lng in rows), key=lambda row: row[1]
    )
    product_ids = dict(Product.objects.filter(sku__in=skus).values_list("sku", "id"))
    paris = zone("Europe/Paris")
    tomorrow = (timezone.now().astimezone(paris) + dt.timedelta(days=1)).date()
    released = timezone.now() - dt.timedelta(hours=1)
    PickupSlot.objects.bulk_create(
        [
            PickupSlot(
                store_id=pk,
                local_date=tomorrow,
                starts_at=start,
                ends_at=start + dt.timedelta(minutes=30),
                release_at=released,
                capacity=SLOT_CAPACITY,
            )
            for pk, _code, _lat, _lng in stores
            for start in (
                dt.datetime.combine(tomorrow, dt.time(8, 0), paris) + dt.timedelta(minutes=30 * n) for n in range(24)
            )
        ]
    )
    slots: dict[int, list[int]] = {}
    for slot_id, store_id in PickupSlot.objects.filter(local_date=tomorrow).values_list("id", "store_id"):
        slots.setdefault(store_id, []).append(slot_id)
    app, _secret = api_client_create(
        name="Bench hot shopper app",
        kind=CallerKind.SHOPPER,
        partner=None,
        scopes=["inventory:read", "catalog:read", "orders:read"],
        client_id="bench-hot-shoppers",
        redirect_uris="https://shop.example/callback",
        rate_limit_tier="internal",
    )
    assert isinstance(app, ApiClient)
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"hot-{index:03d}") for index in range(connections + 1)]
    )
    access_token = get_access_token_model()
    expires = timezone.now() + dt.timedelta(hours=2)
    tokens, token_rows = [], []
    for user in users[1:]:
        raw = secrets.token_urlsafe(32)
        row = access_token(application=app, user=user, scope="inventory:read catalog:read orders:read", expires=expires)
        set_token_value(row, raw)
        tokens.append(raw)
        token_rows.append(row)
    access_token.objects.bulk_create(token_rows)
    client_id, secret = stack.client(
        "operator",
        "bench hot writer",
        "--scopes",
        "inventory:read inventory:write orders:read orders:write catalog:read",
    )
    operator = stack.token(client_id, secret)
    return Hot(
        stores=stores,
        skus=skus,
        product_ids=product_ids,
        day=tomorrow.isoformat(),
        slots=slots,
        tokens=tokens,
        operator=operator,
        customer_id=users[0].pk,
    )


def _hot_path(rng: random.Random, hot: Hot) -> str:
    """One read of a shopper's app: availability at or near its chosen
    store, the store's slots for tomorrow, or a product."""
    pick = rng.random()
    _pk, code, lat, lng = hot.store(rng)
    if pick < 0.35:
        return "/api/v1/availability?" + urlencode({"sku": hot.sku(rng), "store": code})
    if pick < 0.65:
        return "/api/v1/availability?" + urlencode(
            {"sku": hot.sku(rng), "lat": f"{lat:.5f}", "lng": f"{lng:.5f}", "radius_km": 5}
        )
    if pick < 0.9:
        return "/api/v1/pickup-slots?" + urlencode({"store": code, "from": hot.day, "to": hot.day})
    return f"/api/v1/products/{hot.product_ids[hot.sku(rng)]}"


def _load_hot(
    port: int, hot: Hot, seconds: float, connections: int, writer: "_Writer | None" = None
) -> tuple[float, list[float], list[str], dict[int, int]]:
    """Hot reads/s over ``seconds``, each connection a shopper revalidating what it read."""
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + seconds

    def worker(index: int) -> None:
        rng = random.Random(1000 + index)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        base = {"Authorization": f"Bearer {hot.tokens[index]}", "Accept": "application/json"}
        etags = hot.etags.setdefault(index, {})
        mine: list[float] = []
        counted: dict[int, int] = {}
        while time.perf_counter() < deadline:
            path = _hot_path(rng, hot)
            headers = {**base, "If-None-Match": etags[path]} if path in etags else base
            sent = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            mine.append(time.perf_counter() - sent)
            counted[response.status] = counted.get(response.status, 0) + 1
            if response.status == 200:
                etag = response.getheader("ETag")
                if etag:
                    etags[path] = etag
            elif response.status != 304:
                with lock:
                    errors.append(f"GET {path} answered {response.status}: {body[:200]!r}")
            if writer is not None:
                with hot.lock:
                    hot.reads += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for status, count in counted.items():
                statuses[status] = statuses.get(status, 0) + count

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies) / (time.perf_counter() - started), latencies, errors, statuses


class _Writer(threading.Thread):
    """The only writer of the hot rounds: an order per READS_PER_ORDER reads
    and a stock change per READS_PER_STOCK_CHANGE, on Zipf-chosen keys. After
    each acknowledged write it reads what it changed through the API
    (revalidating with the ETag it holds) and compares with the database."""

    def __init__(self, port: int, hot: Hot, dsn: str) -> None:
        super().__init__(daemon=True)
        self.port, self.hot, self.dsn = port, hot, dsn
        self.rng = random.Random(7)
        self.failures: list[str] = []
        self.writes = 0
        self.orders = 0
        self.changes = 0
        self.etags: dict[str, tuple[str, bytes]] = {}
        self._halt = threading.Event()
        hot.reads = 0

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join()

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        with psycopg.connect(self.dsn, autocommit=True) as db:
            while not self._halt.is_set():
                with self.hot.lock:
                    reads = self.hot.reads
                if self.orders < reads // READS_PER_ORDER:
                    self.orders += 1
                    self._order(conn, db)
                elif self.changes < reads // READS_PER_STOCK_CHANGE:
                    self.changes += 1
                    self._stock_change(conn, db)
                else:
                    time.sleep(0.002)
        conn.close()

    def _send(
        self, conn: http.client.HTTPConnection, method: str, path: str, body: dict[str, Any]
    ) -> tuple[int, bytes]:
        headers = {
            "Authorization": f"Bearer {self.hot.operator}",
            "Content-Type": "application/json",
            "Idempotency-Key": secrets.token_hex(12),
        }
        conn.request(method, path, body=json.dumps(body), headers=headers)
        response = conn.getresponse()
        return response.status, response.read()

    def _order(self, conn: http.client.HTTPConnection, db: psycopg.Connection[Any]) -> None:
        store_id, code, _lat, _lng = self.hot.store(self.rng)
        sku = self.hot.sku(self.rng)
        slot_id = self.rng.choice(self.hot.slots[store_id])
        body = {
            "slot_id": slot_id,
            "customer_id": self.hot.customer_id,
            "lines": [{"product_id": self.hot.product_ids[sku], "quantity": 1}],
        }
        status, answer = self._send(conn, "POST", "/api/v1/orders", body)
        if status == 409 and b"insufficient_stock" in answer:
            return  # the level ran out: a refusal, nothing changed
        if status != 201:
            self.failures.append(f"order at {code} answered {status}: {answer[:200]!r}")
            return
        self.writes += 1
        self._verify(conn, db, store_id, code, sku, slot_id)

    def _stock_change(self, conn: http.client.HTTPConnection, db: psycopg.Connection[Any]) -> None:
        store_id, code, _lat, _lng = self.hot.store(self.rng)
        sku = self.hot.sku(self.rng)
        on_hand, reserved = _level(db, store_id, sku)
        # Low figures, so that a shopper (capped at CAP) sees every change.
        body = {"on_hand": reserved + self.rng.randint(0, CAP + 5), "expected_on_hand": on_hand}
        status, answer = self._send(conn, "PUT", f"/api/v1/locations/{code}/stock/{sku}", body)
        if status != 200:
            self.failures.append(f"stock set at {code} answered {status}: {answer[:200]!r}")
            return
        self.writes += 1
        self._verify(conn, db, store_id, code, sku, None)

    def _verify(
        self,
        conn: http.client.HTTPConnection,
        db: psycopg.Connection[Any],
        store_id: int,
        code: str,
        sku: str,
        slot_id: int | None,
    ) -> None:
        on_hand, reserved = _level(db, store_id, sku)
        path = "/api/v1/availability?" + urlencode({"sku": sku, "store": code})
        shown = _own_figure(self._read(conn, path), code)
        if shown != min(on_hand - reserved, CAP):
            self.failures.append(f"{sku} at {code}: shown {shown} after the write, database {on_hand - reserved}")
        if slot_id is not None:
            path = "/api/v1/pickup-slots?" + urlencode({"store": code, "from": self.hot.day, "to": self.hot.day})
            answer = self._read(conn, path)
            remaining = next((row["remaining"] for row in answer["results"] if row["id"] == slot_id), None)
            left = _slot_left(db, slot_id)
            if remaining != left:
                self.failures.append(f"slot {slot_id} at {code}: shown {remaining} after the booking, database {left}")

    def _read(self, conn: http.client.HTTPConnection, path: str) -> dict[str, Any]:
        """The shopper's view of ``path`` (the first token), revalidated with the ETag held."""
        headers = {"Authorization": f"Bearer {self.hot.tokens[0]}", "Accept": "application/json"}
        if path in self.etags:
            headers["If-None-Match"] = self.etags[path][0]
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.status == 304:
            return json.loads(self.etags[path][1])
        self.etags[path] = (response.getheader("ETag") or "", body)
        answer: dict[str, Any] = json.loads(body)
        return answer


def _level(db: psycopg.Connection[Any], store_id: int, sku: str) -> tuple[int, int]:
    from gateway.sql import fragment
    from inventory.models import Product, StockLevel

    sql = fragment(
        "SELECT s.on_hand, s.reserved FROM {level} s JOIN {product} p ON p.id = s.product_id "
        "WHERE s.location_id = %s AND p.sku = %s AND p.owner_id IS NULL",
        level=StockLevel,
        product=Product,
    )
    row = db.execute(sql, [store_id, sku]).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def _slot_left(db: psycopg.Connection[Any], slot_id: int) -> int:
    from commerce.models import PickupSlot
    from gateway.sql import fragment

    sql = fragment(
        "SELECT s.capacity - s.booked - s.held FROM {slot} s WHERE s.id = %s", slot=PickupSlot
    )  # no hold in the bench, so no expired one either
    row = db.execute(sql, [slot_id]).fetchone()
    return int(row[0]) if row else -1


def _own_figure(answer: dict[str, Any], code: str) -> int | None:
    results = answer.get("results") or []
    if not results:
        return 0
    return next((loc["available"] for loc in results[0]["locations"] if loc["code"] == code), 0)


def _check_hot(port: int, hot: Hot, dsn: str) -> list[str]:
    """After the writer: every hot store's figure of the hottest SKUs and
    its slots, read through the API, against the database."""
    failures = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {hot.tokens[-1]}", "Accept": "application/json"}
    with psycopg.connect(dsn, autocommit=True) as db:
        for store_id, code, _lat, _lng in hot.stores:
            for sku in hot.skus[:10]:
                conn.request("GET", "/api/v1/availability?" + urlencode({"sku": sku, "store": code}), headers=headers)
                shown = _own_figure(json.loads(conn.getresponse().read()), code)
                on_hand, reserved = _level(db, store_id, sku)
                if shown != min(on_hand - reserved, CAP):
                    failures.append(f"after the rounds: {sku} at {code} shown {shown}, database {on_hand - reserved}")
            query = urlencode({"store": code, "from": hot.day, "to": hot.day, "page_size": 100})
            conn.request("GET", f"/api/v1/pickup-slots?{query}", headers=headers)
            for row in json.loads(conn.getresponse().read())["results"]:
                left = _slot_left(db, row["id"])
                if row["remaining"] != left:
                    failures.append(
                        f"after the rounds: slot {row['id']} at {code} shown {row['remaining']}, database {left}"
                    )
    conn.close()
    return failures


def _cache_outcomes(port: int) -> dict[tuple[str, str], float]:
    """The servers' gateway_read_cache_total by kind and outcome (every worker process added up)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    outcomes: dict[tuple[str, str], float] = {}
    for line in text.splitlines():
        if line.startswith("gateway_read_cache_total{"):
            labels, value = line.rsplit(" ", 1)
            kind, outcome = (labels.split(f'{name}="')[1].split('"')[0] for name in ("kind", "outcome"))
            outcomes[kind, outcome] = float(value)
    return outcomes


def _check_answers(port: int, token: str, dsn: str, skus: list[str]) -> list[str]:
    """A sample of answers against the database, computed independently in Python."""
    from gateway.sql import fragment
    from inventory.models import Location, Product, StockLevel

    stores_sql = fragment(
        "SELECT l.id, l.code, l.latitude::float8, l.longitude::float8 FROM {location} l "
        "WHERE l.kind = 'store' AND l.is_active AND l.click_and_collect AND l.latitude IS NOT NULL",
        location=Location,
    )
    stock_sql = fragment(
        "SELECT s.location_id, s.available FROM {level} s "
        "JOIN {product} p ON p.id = s.product_id WHERE p.sku = %s AND s.available > 0",
        level=StockLevel,
        product=Product,
    )
    rng = random.Random(99)
    failures = []
    with psycopg.connect(dsn) as db:
        stores = db.execute(stores_sql).fetchall()
        for _ in range(25):
            lat, lng = _point(rng)
            sku = rng.choice(skus)
            stock: dict[int, int] = dict(db.execute(stock_sql, [sku]).fetchall())
            near = sorted(
                (round(_haversine_km(lat, lng, slat, slng), 3), code, stock[pk])
                for pk, code, slat, slng in stores
                if pk in stock and _haversine_km(lat, lng, slat, slng) <= RADIUS_KM
            )[:10]
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            query = urlencode({"sku": sku, "lat": lat, "lng": lng, "radius_km": RADIUS_KM})
            conn.request("GET", f"/api/v1/availability?{query}", headers={"Authorization": f"Bearer {token}"})
            answer = json.loads(conn.getresponse().read())
            conn.close()
            got = [(loc["distance_km"], loc["code"], loc["available"]) for loc in answer["results"][0]["locations"]]
            want = [(km, code, available if code == OWN_STORE else min(available, CAP)) for km, code, available in near]
            if [g[1] for g in got] != [w[1] for w in want] or any(
                abs(g[0] - w[0]) > 0.002 or g[2] != w[2] for g, w in zip(got, want, strict=True)
            ):
                failures.append(f"{sku} near ({lat:.4f}, {lng:.4f}): got {got[:3]}..., want {want[:3]}...")
    return failures


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] if ordered else 0.0


if __name__ == "__main__":
    sys.exit(main())
