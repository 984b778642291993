"""KPIs crossed with sales, checked against values computed by hand; sales
ingest; who may read and post what."""

import datetime as dt
from decimal import Decimal

import pytest

from footfall.models import SalesDay, SalesInterval
from partners.models import CallerKind
from tests.factories import api_as, make_client
from tests.footfall.helpers import interval

KPIS = "/api/v1/footfall/kpis"
SALES = "/api/v1/footfall/sales"


def counts(api, sensor: str, day: str, in_: int, out: int) -> None:
    row = interval(sensor, f"{day}T12:00:00+01:00", 60, in_=in_, out=out)
    assert api.post("/api/v1/footfall/counts", {"intervals": [row]}, format="json").json()["created"] == 1


def sale(store: str, day: str, tickets: int, amount: str, register: str = "T1", hour: int = 12) -> dict:
    return {
        "store": store,
        "register": register,
        "start": f"{day}T{hour:02d}:00:00+01:00",
        "end": f"{day}T{hour + 1:02d}:00:00+01:00",
        "tickets": tickets,
        "revenue": {"amount": amount, "currency": "EUR"},
    }


@pytest.fixture
def a_week_of_figures(operator_api, entrance, window):
    """Saturday 2026-03-14, the Saturday before, and the Saturday a year before (364 days)."""
    counts(operator_api, "PAR01-E1", "2026-03-14", 400, 390)
    counts(operator_api, "PAR01-W1", "2026-03-14", 3000, 2000)
    counts(operator_api, "PAR01-E1", "2026-03-07", 500, 480)
    counts(operator_api, "PAR01-E1", "2025-03-15", 200, 200)
    sales = [
        sale("PAR01", "2026-03-14", 80, "2000.00", "T1"),
        sale("PAR01", "2026-03-14", 20, "512.35", "T2"),
        sale("PAR01", "2026-03-07", 100, "2600.00"),
        sale("PAR01", "2025-03-15", 90, "1800.00"),
    ]
    assert operator_api.post(SALES, {"intervals": sales}, format="json").json()["created"] == 4


def test_kpis_match_a_hand_computation(operator_api, a_week_of_figures):
    # when the KPIs of Saturday 14 March are read
    response = operator_api.get(KPIS, {"store": "PAR01", "from": "2026-03-14", "to": "2026-03-14"})
    body = response.json()
    assert response.status_code == 200, body
    current = body["current"]
    # then: 400 visitors, 5,000 passers-by, 100 tickets for 2,512.35 EUR
    assert (current["visitors"], current["exits"], current["passersby"], current["tickets"]) == (400, 390, 5000, 100)
    assert current["revenue"] == {"amount": "2512.35", "currency": "EUR"}
    assert current["conversion_rate"] == 0.25  # 100 / 400
    assert current["capture_rate"] == 0.08  # 400 / 5000
    assert body["capture_rate_formula"] == "entries / passersby"
    assert current["sales_per_visitor"] == {"amount": "6.28", "currency": "EUR"}  # 2512.35 / 400 = 6.280875
    assert current["average_ticket"] == {"amount": "25.12", "currency": "EUR"}  # 2512.35 / 100 = 25.1235
    # and the same Saturday last week and last year
    last_week, last_year = body["same_period_last_week"], body["same_period_last_year"]
    assert (last_week["from"], last_week["visitors"], last_week["conversion_rate"]) == ("2026-03-07", 500, 0.2)
    assert (last_year["from"], last_year["visitors"], last_year["conversion_rate"]) == ("2025-03-15", 200, 0.45)
    assert last_week["capture_rate"] is None  # no window data that day: unknown, not zero
    assert last_year["average_ticket"] == {"amount": "20.00", "currency": "EUR"}


def test_the_other_capture_formula_is_named_in_the_answer(operator_api, a_week_of_figures):
    query = {"store": "PAR01", "from": "2026-03-14", "to": "2026-03-14"}
    body = operator_api.get(KPIS, query | {"capture_formula": "entries_per_entries_and_passersby"}).json()
    assert body["capture_rate_formula"] == "entries / (entries + passersby)"
    assert body["current"]["capture_rate"] == round(400 / 5400, 4)


def test_ratios_over_several_days_divide_sums_and_never_average_ratios(operator_api, entrance):
    # given day 1: 100 visitors, 50 tickets (50 %); day 2: 300 visitors, 30 tickets (10 %)
    counts(operator_api, "PAR01-E1", "2026-03-10", 100, 100)
    counts(operator_api, "PAR01-E1", "2026-03-11", 300, 300)
    batch = [sale("PAR01", "2026-03-10", 50, "500.00"), sale("PAR01", "2026-03-11", 30, "900.00")]
    operator_api.post(SALES, {"intervals": batch}, format="json")
    # when both days are read together
    current = operator_api.get(KPIS, {"store": "PAR01", "from": "2026-03-10", "to": "2026-03-11"}).json()["current"]
    # then conversion is 80 / 400 = 20 %, not the 30 % mean of the two days
    assert current["conversion_rate"] == 0.2
    assert current["average_ticket"] == {"amount": "17.50", "currency": "EUR"}  # 1400 / 80


def test_conversion_without_any_sales_is_unknown_not_zero(operator_api, entrance):
    # given a store whose door counted 400 people and whose tills sent nothing (it has none)
    counts(operator_api, "PAR01-E1", "2026-03-10", 400, 390)
    # when its KPIs are read
    current = operator_api.get(KPIS, {"store": "PAR01", "from": "2026-03-10", "to": "2026-03-10"}).json()["current"]
    # then conversion is null (unknown), not 0.0, and so is every sales figure
    assert current["visitors"] == 400
    assert current["conversion_rate"] is None
    assert (current["revenue"], current["sales_per_visitor"], current["average_ticket"]) == (None, None, None)


def test_a_till_that_sold_nothing_is_a_zero_conversion(operator_api, entrance):
    # given tills that reported the day with no ticket: a known zero
    counts(operator_api, "PAR01-E1", "2026-03-10", 400, 390)
    operator_api.post(SALES, {"intervals": [sale("PAR01", "2026-03-10", 0, "0.00")]}, format="json")
    current = operator_api.get(KPIS, {"store": "PAR01", "from": "2026-03-10", "to": "2026-03-10"}).json()["current"]
    assert current["conversion_rate"] == 0.0


def test_entrance_completeness_shows_missing_hours(operator_api, entrance):
    counts(operator_api, "PAR01-E1", "2026-03-10", 100, 100)  # one hour of the day
    current = operator_api.get(KPIS, {"store": "PAR01", "from": "2026-03-10", "to": "2026-03-10"}).json()["current"]
    assert current["entrance_completeness"] == round(1 / 24, 4)


def test_the_operator_reads_the_whole_network(operator_api, entrance, other_entrance):
    counts(operator_api, "PAR01-E1", "2026-03-10", 100, 100)
    counts(operator_api, "LYO01-E1", "2026-03-10", 300, 300)
    operator_api.post(
        SALES,
        {"intervals": [sale("PAR01", "2026-03-10", 10, "100.00"), sale("LYO01", "2026-03-10", 30, "300.00")]},
        format="json",
    )
    body = operator_api.get(KPIS, {"from": "2026-03-10", "to": "2026-03-10"}).json()
    assert body["store"] is None
    assert (body["current"]["visitors"], body["current"]["tickets"]) == (400, 40)
    assert body["current"]["conversion_rate"] == 0.1


def test_the_network_in_several_currencies_asks_for_one_store_at_a_time(operator_api, entrance, other_entrance):
    operator_api.post(SALES, {"intervals": [sale("PAR01", "2026-03-10", 1, "1.00")]}, format="json")
    chf = sale("LYO01", "2026-03-10", 1, "1.00") | {"revenue": {"amount": "1.00", "currency": "CHF"}}
    operator_api.post(SALES, {"intervals": [chf]}, format="json")
    response = operator_api.get(KPIS, {"from": "2026-03-10", "to": "2026-03-10"})
    assert response.status_code == 422
    assert response.json()["code"] == "mixed_currencies"


def test_a_store_client_sees_only_its_store(store_api, entrance, other_store):
    assert store_api.get(KPIS, {"from": "2026-03-10", "to": "2026-03-10"}).json()["store"] == "PAR01"
    assert store_api.get(KPIS, {"store": "LYO01", "from": "2026-03-10", "to": "2026-03-10"}).status_code == 404


@pytest.mark.parametrize("kind", [CallerKind.PARTNER, CallerKind.DEVICE, CallerKind.SHOPPER])
def test_other_callers_read_nothing(db, store, kind, entrance):
    api = api_as(make_client(kind, store=store if kind == CallerKind.DEVICE else None))
    for url in (KPIS, "/api/v1/footfall/aggregates", "/api/v1/footfall/anomalies", "/api/v1/footfall/sensors"):
        response = api.get(url, {"store": "PAR01", "from": "2026-03-10", "to": "2026-03-10"})
        assert response.status_code == 403, url
        assert response.json()["code"] == "insufficient_scope"


# ------------------------------------------------------------------ sales ingest


def test_sales_sent_twice_and_corrected(operator_api, store):
    batch = {"intervals": [sale("PAR01", "2026-03-10", 10, "100.00"), sale("PAR01", "2026-03-10", 5, "50.00", "T2")]}
    assert operator_api.post(SALES, batch, format="json").json()["created"] == 2
    assert operator_api.post(SALES, batch, format="json").json()["unchanged"] == 2
    fix = {"intervals": [sale("PAR01", "2026-03-10", 11, "110.00")]}
    assert operator_api.post(SALES, fix, format="json").json()["updated"] == 1
    assert sorted(SalesInterval.objects.values_list("register", "tickets")) == [("T1", 11), ("T2", 5)]
    # and the day's totals followed the correction
    day = SalesDay.objects.get(store=store)
    assert (day.day, day.tickets, day.revenue_amount) == (dt.date(2026, 3, 10), 16, Decimal("160.00"))


def test_a_day_whose_sales_change_currency_keeps_no_stale_total(operator_api, store):
    operator_api.post(SALES, {"intervals": [sale("PAR01", "2026-03-10", 10, "100.00")]}, format="json")
    chf = sale("PAR01", "2026-03-10", 10, "100.00") | {"revenue": {"amount": "95.00", "currency": "CHF"}}
    operator_api.post(SALES, {"intervals": [chf]}, format="json")
    assert list(SalesDay.objects.values_list("revenue_currency", "revenue_amount")) == [("CHF", Decimal("95.00"))]


def test_bad_sales_records_get_their_own_errors(operator_api, store, other_store):
    batch = [
        sale("PAR01", "2026-03-10", 10, "100.00"),
        sale("PAR01", "2026-03-10", 10, "100.001", "T2"),
        sale("PAR01", "2026-03-10", 10, "100.00", "T3") | {"revenue": {"amount": "1.00", "currency": "euro"}},
        sale("NOPE", "2026-03-10", 10, "100.00"),
        sale("PAR01", "2026-03-10", -1, "100.00", "T4"),
        sale("PAR01", "2026-03-10", 1, "1.00", "T5") | {"end": "2026-03-10T11:00:00+01:00"},
        sale("PAR01", "2026-03-10", 1, "1.00", "T6") | {"revenue": 12.5},
    ]
    body = operator_api.post(SALES, {"intervals": batch}, format="json").json()
    codes = [r["errors"][0]["code"] if "errors" in r else r["status"] for r in body["results"]]
    assert codes == [
        "created",
        "invalid_amount",
        "invalid_currency",
        "unknown_store",
        "invalid_count",
        "invalid_period",
        "invalid_money",
    ]


def test_a_till_posts_for_its_own_store_only(store, other_store):
    till = make_client(CallerKind.STORE, store=store)
    assert "footfall:ingest" in till.allowed_scope_list()
    api = api_as(till, scopes=["footfall:ingest"])
    own = {k: v for k, v in sale("PAR01", "2026-03-10", 10, "100.00").items() if k != "store"}
    body = api.post(SALES, {"intervals": [own, sale("LYO01", "2026-03-10", 10, "100.00")]}, format="json").json()
    assert [r["status"] for r in body["results"]] == ["created", "rejected"]
    assert body["results"][1]["errors"][0]["code"] == "unknown_store"
    assert list(SalesInterval.objects.values_list("store__code", flat=True)) == ["PAR01"]


def test_devices_do_not_post_sales(device_api, store):
    response = device_api.post(SALES, {"intervals": [sale("PAR01", "2026-03-10", 1, "1.00")]}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "sales_not_for_devices"


def test_sales_in_local_time_are_read_in_the_store_zone(operator_api, store):
    row = sale("PAR01", "2026-03-10", 1, "1.00") | {"start": "2026-03-10 12:00:00", "end": "2026-03-10 13:00:00"}
    operator_api.post(SALES, {"intervals": [row]}, format="json")
    assert SalesInterval.objects.get().start == dt.datetime(2026, 3, 10, 11, tzinfo=dt.UTC)
