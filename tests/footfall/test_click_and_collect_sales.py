"""Collected click-and-collect orders are sales: one ticket of the order's
total, at the store that handed it over, on the store-local day it was
collected. Orders reach footfall through the events feed (the collection's
``order.status_changed`` event), read by ``collected_orders_fold``."""

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from commerce.models import Order, OrderStatus, OrderStatusChange, PickupSlot
from commerce.services.lifecycle import Actor, order_transition
from commerce.services.orders import LineRequest, order_place
from footfall.errors import MixedCurrencies
from footfall.locks import lock_event_feed_position
from footfall.models import CollectedOrderSale, SalesDay
from footfall.selectors.kpis import kpis_compute
from footfall.selectors.reports import daily_figures
from footfall.services.click_and_collect import READER, collected_orders_backfill, collected_orders_fold
from footfall.services.sales import sales_intervals_ingest
from footfall.tasks import fold_collected_orders
from inventory.local_time import local_date, zone
from inventory.models import Location
from partners.callers import Caller
from partners.models import CallerKind
from tests.commerce.factories import idempotency_key, open_slot, stocked_product
from tests.factories import LocationFactory, UserFactory, make_client
from tests.footfall.helpers import interval

KPIS = "/api/v1/footfall/kpis"
UTC = dt.UTC


def an_order(store: Location, *, price: str = "6.25", quantity: int = 2, currency: str = "EUR") -> Order:
    """An order of ``quantity`` x ``price`` placed through commerce (12.50 EUR by default)."""
    product = stocked_product(store, price=price, price_currency=currency)
    caller = Caller(client=make_client(CallerKind.OPERATOR), scopes=frozenset({"orders:write"}))
    return order_place(
        caller=caller,
        lines=[LineRequest(product_id=product.pk, quantity=quantity)],
        slot_id=(PickupSlot.objects.filter(store=store).first() or open_slot(store, capacity=50)).pk,
        customer_id=UserFactory.create().pk,
        idempotency_key=idempotency_key(),
    )


def move(order: Order, *statuses: str) -> None:
    for status in statuses:
        order_transition(order_id=order.pk, to_status=status, actor=Actor())


def collect(order: Order, *, at: str | None = None) -> None:
    """Prepare, ready and hand over the order; ``at`` (UTC) stands for the
    database clock of the collection when the test needs a given instant."""
    move(order, OrderStatus.PREPARING, OrderStatus.READY, OrderStatus.COLLECTED)
    if at is not None:
        instant = dt.datetime.fromisoformat(at).replace(tzinfo=UTC)
        OrderStatusChange.objects.filter(order=order, to_status=OrderStatus.COLLECTED).update(at=instant)


def till(store: Location, day: str, tickets: int, amount: str, currency: str = "EUR") -> None:
    record = {
        "store": store.code,
        "register": "T1",
        "start": f"{day}T12:00:00+01:00",
        "end": f"{day}T13:00:00+01:00",
        "tickets": tickets,
        "revenue": {"amount": amount, "currency": currency},
    }
    assert sales_intervals_ingest(caller=None, payload={"intervals": [record]})[0].status == "created"


def sales_days(store: Location) -> dict[dt.date, tuple[int, Decimal, str]]:
    return {
        d.day: (d.tickets, d.revenue_amount, d.revenue_currency)
        for d in SalesDay.objects.filter(store=store).order_by("day")
    }


@pytest.fixture
def a_day_of_figures(operator_api, store, entrance):
    """Tuesday 10 March 2026 at PAR01: 400 visitors, 80 till tickets for 2,000.00 EUR."""
    row = interval("PAR01-E1", "2026-03-10T12:00:00+01:00", 60, in_=400, out=390)
    assert operator_api.post("/api/v1/footfall/counts", {"intervals": [row]}, format="json").json()["created"] == 1
    till(store, "2026-03-10", 80, "2000.00")


def test_a_collected_order_is_one_ticket_of_its_total(operator_api, store, a_day_of_figures):
    # given an order of 12.50 EUR collected at PAR01 on 10 March, 15:00 Paris time
    collect(an_order(store), at="2026-03-10T14:00:00")
    # when footfall reads the events feed
    assert collected_orders_fold() == 1
    # then the day has one more ticket and 12.50 EUR more revenue
    body = operator_api.get(KPIS, {"store": "PAR01", "from": "2026-03-10", "to": "2026-03-10"}).json()
    current = body["current"]
    assert (current["visitors"], current["tickets"]) == (400, 81)
    assert current["revenue"] == {"amount": "2012.50", "currency": "EUR"}
    # and the pickup counts in conversion: 81 / 400
    assert current["conversion_rate"] == 0.2025
    assert current["average_ticket"] == {"amount": "24.85", "currency": "EUR"}  # 2012.50 / 81 = 24.8457
    assert "click-and-collect" in body["formulas"]["conversion_rate"]
    assert "click-and-collect" in body["formulas"]["tickets"]


def test_orders_that_were_not_collected_are_no_sales(store):
    # given orders placed, being prepared, ready, cancelled and not collected (no-show)
    placed, preparing, ready, cancelled, no_show = (an_order(store) for _ in range(5))
    move(preparing, OrderStatus.PREPARING)
    move(ready, OrderStatus.PREPARING, OrderStatus.READY)
    move(cancelled, OrderStatus.CANCELLED)
    move(no_show, OrderStatus.PREPARING, OrderStatus.READY, OrderStatus.NO_SHOW)
    # when footfall reads the feed
    assert collected_orders_fold() == 0
    # then none of them is a sale
    assert not CollectedOrderSale.objects.exists()
    assert sales_days(store) == {}
    today = local_date(placed.created_at, zone(store.time_zone))
    assert kpis_compute(store_ids=[store.pk], first=today, last=today).current.tickets == 0


def test_an_order_collected_later_joins_the_day_it_was_collected(store):
    # given an order that was only placed when footfall last read the feed
    order = an_order(store)
    assert collected_orders_fold() == 0
    # when it is collected afterwards (database clock) and the feed is read again
    collect(order)
    assert collected_orders_fold() == 1
    # then its store-local day of collection holds it
    collected_at = OrderStatusChange.objects.get(order=order, to_status=OrderStatus.COLLECTED).at
    day = local_date(collected_at, zone("Europe/Paris"))
    assert sales_days(store) == {day: (1, Decimal("12.50"), "EUR")}
    assert kpis_compute(store_ids=[store.pk], first=day, last=day).current.tickets == 1


@pytest.mark.parametrize(
    ("time_zone", "collected_at", "local_day"),
    [
        # Paris, spring forward (29 March 2026): 00:30 CET of the 29th is the 28th in UTC
        ("Europe/Paris", "2026-03-28T23:30:00", dt.date(2026, 3, 29)),
        # 00:30 CEST of the 30th, still the 29th in UTC: the 23-hour day ended at 22:00 UTC
        ("Europe/Paris", "2026-03-29T22:30:00", dt.date(2026, 3, 30)),
        # Paris, fall back (25 October 2026): 02:30 CEST, the first of the repeated hour
        ("Europe/Paris", "2026-10-25T00:30:00", dt.date(2026, 10, 25)),
        # 23:30 CET of the 25-hour day, and 00:30 CET of the next day
        ("Europe/Paris", "2026-10-25T22:30:00", dt.date(2026, 10, 25)),
        ("Europe/Paris", "2026-10-25T23:30:00", dt.date(2026, 10, 26)),
        # New York, spring forward (8 March 2026): 23:30 EST on the 7th is the 8th in UTC
        ("America/New_York", "2026-03-08T04:30:00", dt.date(2026, 3, 7)),
    ],
)
def test_a_collection_counts_on_the_store_local_day(db, time_zone, collected_at, local_day):
    # given a store in its zone and an order collected at an instant near midnight or a clock change
    store = LocationFactory.create(time_zone=time_zone)
    collect(an_order(store), at=collected_at)
    # when footfall reads the feed
    collected_orders_fold()
    # then the sale is on the store-local day, and the KPIs of that day (not the UTC one) show it
    assert sales_days(store) == {local_day: (1, Decimal("12.50"), "EUR")}
    for day, tickets in ((local_day, 1), (local_day - dt.timedelta(days=1), 0), (local_day + dt.timedelta(days=1), 0)):
        assert kpis_compute(store_ids=[store.pk], first=day, last=day).current.tickets == tickets


def test_till_batches_and_collections_rebuild_the_same_day_without_losing_either(store):
    # given a collected order, then till sales of the same day posted afterwards
    collect(an_order(store), at="2026-03-10T10:00:00")
    collected_orders_fold()
    till(store, "2026-03-10", 80, "2000.00")
    # then the day holds both; and a till batch re-sent with other figures replaces only the till part
    assert sales_days(store) == {dt.date(2026, 3, 10): (81, Decimal("2012.50"), "EUR")}
    record = {
        "store": store.code,
        "register": "T1",
        "start": "2026-03-10T12:00:00+01:00",
        "end": "2026-03-10T13:00:00+01:00",
        "tickets": 70,
        "revenue": {"amount": "1500.00", "currency": "EUR"},
    }
    assert sales_intervals_ingest(caller=None, payload={"intervals": [record]})[0].status == "updated"
    assert sales_days(store) == {dt.date(2026, 3, 10): (71, Decimal("1512.50"), "EUR")}


def test_reading_the_feed_again_counts_each_order_once(store):
    # given two collected orders folded once
    for _ in range(2):
        collect(an_order(store), at="2026-03-10T10:00:00")
    assert collected_orders_fold() == 2
    # when the feed is read again, through the beat task, and commerce is read whole (backfill)
    assert fold_collected_orders.apply().get() == 0
    assert collected_orders_backfill() == 0
    # then the day still has two tickets
    assert sales_days(store) == {dt.date(2026, 3, 10): (2, Decimal("25.00"), "EUR")}


def test_the_feed_is_read_in_batches_and_its_position_kept(store):
    # given more events than one batch holds (each order writes several)
    orders = [an_order(store) for _ in range(3)]
    for order in orders:
        collect(order, at="2026-03-10T10:00:00")
    # when the feed is read two events at a time
    assert collected_orders_fold(batch=2) == 3
    # then every order was found once, and nothing is left to read
    assert CollectedOrderSale.objects.count() == 3
    assert collected_orders_fold(batch=2) == 0


def test_orders_written_without_events_are_recorded_by_the_backfill(store):
    # given a collected order whose events footfall never reads (feed already past it)
    collect(an_order(store), at="2026-03-10T10:00:00")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM partners_event")
    assert collected_orders_fold() == 0
    # when commerce's collected orders are read whole
    assert collected_orders_backfill(batch=1) == 1
    # then the order is a sale of its day
    assert sales_days(store) == {dt.date(2026, 3, 10): (1, Decimal("12.50"), "EUR")}


def test_the_daily_report_figures_include_collected_orders(store, a_day_of_figures):
    collect(an_order(store), at="2026-03-10T14:00:00")
    collected_orders_fold()
    (day,) = daily_figures(store=store, first=dt.date(2026, 3, 10), last=dt.date(2026, 3, 10))
    assert (day.visitors, day.tickets, day.revenue) == (400, 81, Decimal("2012.50"))
    assert day.conversion == 81 / 400


def test_each_store_reads_its_own_collections_and_the_operator_the_network(
    operator_api, store_api, store, other_store, entrance, other_entrance
):
    # given one order collected at PAR01 and two at LYO01 on 10 March
    collect(an_order(store), at="2026-03-10T10:00:00")
    for _ in range(2):
        collect(an_order(other_store, price="10.00", quantity=1), at="2026-03-10T11:00:00")
    collected_orders_fold()
    query = {"from": "2026-03-10", "to": "2026-03-10"}
    # then PAR01's till reads its own order only, and LYO01's figures stay hidden from it
    own = store_api.get(KPIS, query).json()
    assert (own["store"], own["current"]["tickets"], own["current"]["revenue"]["amount"]) == ("PAR01", 1, "12.50")
    assert store_api.get(KPIS, query | {"store": "LYO01"}).status_code == 404
    # and the operator reads each store, or the network with all three
    lyon = operator_api.get(KPIS, query | {"store": "LYO01"}).json()["current"]
    assert (lyon["tickets"], lyon["revenue"]["amount"]) == (2, "20.00")
    network = operator_api.get(KPIS, query).json()["current"]
    assert (network["tickets"], network["revenue"]["amount"]) == (3, "32.50")


def test_tills_and_orders_in_different_currencies_are_refused_not_added(operator_api, store, a_day_of_figures):
    # given EUR till sales and an order priced in CHF collected the same day
    collect(an_order(store, price="9.00", currency="CHF"), at="2026-03-10T10:00:00")
    collected_orders_fold()
    rows = SalesDay.objects.filter(store=store).values_list("revenue_currency", "tickets", "revenue_amount")
    assert set(rows) == {("EUR", 80, Decimal("2000.00")), ("CHF", 1, Decimal("18.00"))}  # a row per currency
    # when the store's KPIs are read, then the answer says so instead of adding francs to euros
    response = operator_api.get(KPIS, {"store": "PAR01", "from": "2026-03-10", "to": "2026-03-10"})
    assert response.status_code == 422
    assert response.json()["code"] == "mixed_currencies"
    assert "CHF, EUR" in response.json()["detail"]
    with pytest.raises(MixedCurrencies, match="CHF, EUR"):
        daily_figures(store=store, first=dt.date(2026, 3, 10), last=dt.date(2026, 3, 10))


@pytest.mark.django_db(transaction=True)
def test_a_second_reader_leaves_the_feed_to_the_one_reading_it(store):
    # given footfall reading the feed already (its position exists), a collected order,
    # and another run holding the position
    assert collected_orders_fold() == 0
    collect(an_order(store), at="2026-03-10T10:00:00")
    holding, release = threading.Event(), threading.Event()

    def other_run() -> None:
        try:
            with transaction.atomic():
                assert lock_event_feed_position(reader=READER) is not None
                holding.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_run)
    thread.start()
    try:
        assert holding.wait(timeout=10)
        # when a second run starts meanwhile, then it returns at once without reading
        assert collected_orders_fold() == 0
    finally:
        release.set()
        thread.join()
    # and once the position is free, the next runs read the order, once. (The feed shows an
    # event once every transaction older than it has ended, in the whole PostgreSQL cluster:
    # a test of the other pytest process may hold one for a moment.)
    deadline, folded = time.monotonic() + 30, 0
    while folded == 0 and time.monotonic() < deadline:
        folded += collected_orders_fold()
        time.sleep(0.05 if folded == 0 else 0)
    assert folded == 1
    assert collected_orders_fold() == 0
