"""The stores' calendars over the API: the operator and a store's own client
add and remove closed, event and holiday days; another store's days are
absent; devices keep none; bad input is a precise 4xx."""

import datetime as dt

import pytest

from footfall.models import StoreCalendarDay
from footfall.services.anomalies import store_calendar
from partners.models import CallerKind
from tests.factories import api_as, make_client

URL = "/api/v1/footfall/calendar"


def test_a_store_client_adds_a_closed_day_the_notifier_then_reads(store, store_api):
    response = store_api.post(URL, {"day": "2026-06-30", "kind": "closed", "label": "Stock-taking"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert [body[k] for k in ("store", "day", "kind", "label")] == ["PAR01", "2026-06-30", "closed", "Stock-taking"]
    calendar = store_calendar(store, dt.datetime(2026, 6, 1, tzinfo=dt.UTC), dt.datetime(2026, 7, 31, tzinfo=dt.UTC))
    assert calendar.is_closed_day(dt.date(2026, 6, 30))
    # and the same day again is a conflict, not a second entry
    again = store_api.post(URL, {"day": "2026-06-30", "kind": "event"}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "calendar_day_taken")
    assert StoreCalendarDay.objects.count() == 1


def test_the_operator_names_the_store_and_reads_every_store(operator_api, store, other_store):
    for code in ("PAR01", "LYO01"):
        response = operator_api.post(URL, {"store": code, "day": "2026-07-04", "kind": "event"}, format="json")
        assert response.status_code == 201, response.content
    listed = operator_api.get(URL).json()["results"]
    assert sorted(day["store"] for day in listed) == ["LYO01", "PAR01"]
    assert len(operator_api.get(URL, {"store": "LYO01"}).json()["results"]) == 1
    assert operator_api.get(URL, {"from": "2026-07-05"}).json()["results"] == []
    # the operator must name the store
    assert operator_api.post(URL, {"day": "2026-07-05", "kind": "event"}, format="json").status_code == 404


def test_a_store_sees_and_removes_only_its_own_days(store, other_store, store_api, operator_api):
    own = StoreCalendarDay.objects.create(store=store, day=dt.date(2026, 5, 2), kind="holiday", label="Fête locale")
    other = StoreCalendarDay.objects.create(store=other_store, day=dt.date(2026, 5, 2), kind="closed")
    assert [d["id"] for d in store_api.get(URL).json()["results"]] == [own.pk]
    assert store_api.get(f"{URL}/{other.pk}").status_code == 404
    assert store_api.delete(f"{URL}/{other.pk}").status_code == 404
    elsewhere = {"store": "LYO01", "day": "2026-05-03", "kind": "closed"}
    assert store_api.post(URL, elsewhere, format="json").status_code == 404
    assert store_api.get(f"{URL}/{own.pk}").json()["label"] == "Fête locale"
    assert store_api.delete(f"{URL}/{own.pk}").status_code == 204
    assert list(StoreCalendarDay.objects.values_list("pk", flat=True)) == [other.pk]


def test_devices_keep_no_calendar(store, device_api):
    response = device_api.post(URL, {"day": "2026-05-03", "kind": "closed"}, format="json")
    assert response.status_code == 403
    assert not StoreCalendarDay.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"day": "2026-02-30", "kind": "closed"}, "day"),
        ({"day": "30/06/2026", "kind": "closed"}, "day"),
        ({"day": "2026-06-30", "kind": "shut"}, "kind"),
        ({"day": "2026-06-30", "kind": "closed", "label": "x" * 201}, "label"),
        ({"day": "2026-06-30", "kind": "closed", "label": 5}, "label"),
        ({"day": "2026-06-30", "kind": "closed", "colour": "red"}, "colour"),
        ({"kind": "closed"}, "day"),
    ],
)
def test_bad_calendar_days_are_422_naming_the_field(store, store_api, body, field):
    response = store_api.post(URL, body, format="json")
    assert response.status_code == 422, response.content
    assert field in {e["field"] for e in response.json()["errors"]}


def test_bad_calendar_filters_are_400(store_api):
    for query in ({"from": "yesterday"}, {"kind": "shut"}, {"updated_since": "soon"}):
        response = store_api.get(URL, query)
        assert response.status_code == 400, query
        assert response.json()["code"] == "invalid_query_parameter"


def test_a_partner_has_no_footfall_scope(db):
    partner = api_as(make_client(CallerKind.PARTNER))
    assert partner.get(URL).status_code == 403
