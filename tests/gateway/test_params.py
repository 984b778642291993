"""gateway.api.params through real DRF requests: each function's accepted
values, and each bad value a 400 ``invalid_query_parameter`` naming the
parameter. Query strings are written raw, as a client would send them."""

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import translation
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from gateway.api import params
from gateway.api.problems import InvalidQueryParameter

UTC = dt.UTC


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def request(query: str) -> Request:
    return Request(APIRequestFactory().get(f"/api/v1/anything?{query}"))


def refused(parse: Callable[[Request], Any], query: str) -> dict[str, str]:
    """The one field error of the 400 that ``parse`` raises on ``query``."""
    with pytest.raises(InvalidQueryParameter) as raised:
        parse(request(query))
    assert raised.value.status_code == 400
    assert raised.value.code == "invalid_query_parameter"
    (error,) = raised.value.extra["errors"]
    return dict(error)


# ---------------------------------------------------------------- instants


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("t=2026-01-01T00:00:00Z", dt.datetime(2026, 1, 1, tzinfo=UTC)),
        ("t=2026-01-01t00:00:00z", dt.datetime(2026, 1, 1, tzinfo=UTC)),
        ("t=2026-01-01T00:00:00%2B01:00", dt.datetime(2025, 12, 31, 23, tzinfo=UTC)),
        # an unencoded '+' arrives as a space and is read back as the '+' it was
        ("t=2026-01-01T00:00:00+01:00", dt.datetime(2025, 12, 31, 23, tzinfo=UTC)),
        ("t=2026-01-01T00:00:00-02:30", dt.datetime(2026, 1, 1, 2, 30, tzinfo=UTC)),
        ("t=2026-01-01T10:15Z", dt.datetime(2026, 1, 1, 10, 15, tzinfo=UTC)),
        ("t=2026-01-01T10:15:30.250+00:00", dt.datetime(2026, 1, 1, 10, 15, 30, 250000, tzinfo=UTC)),
        ("t=2026-01-01 10:15:30%2B00:00", dt.datetime(2026, 1, 1, 10, 15, 30, tzinfo=UTC)),
        ("t=", None),
        ("", None),
    ],
)
def test_instants_are_rfc_3339_with_an_offset(query: str, expected: dt.datetime | None) -> None:
    value = params.instant_param(request(query), "t")
    assert value == expected
    if value is not None:
        assert value.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    "raw",
    [
        "2026-01-01T00:00:00",  # no offset: ambiguous
        "2026-01-01",
        "2026-01-01T00:00:00%2B0100",
        "2026-01-01T00:00:00%2B01",
        "2026-02-30T00:00:00Z",
        "2026-01-01T24:00:00Z",
        "2026-01-01T00:00:00%2B24:00",
        "0001-01-01T00:00:00%2B01:00",  # before year 1 in UTC
        "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
        "yesterday",
        "2026-01-01T00:00:00Z%00",
        "%00",
        "1767225600",
        "2026-01-01T00:00:00Z" + "0" * 100,
    ],
)
def test_anything_else_is_not_an_instant(raw: str) -> None:
    error = refused(lambda r: params.instant_param(r, "updated_since"), f"updated_since={raw}")
    assert error["field"] == "updated_since"
    assert error["code"] == "invalid"


def test_a_required_parameter_missing_or_empty_has_the_code_required() -> None:
    for query in ("", "at="):
        error = refused(lambda r: params.instant_param(r, "at", required=True), query)
        assert (error["field"], error["code"]) == ("at", "required")
    assert refused(lambda r: params.text_param(r, "q", required=True), "")["code"] == "required"
    assert refused(lambda r: params.id_param(r, "store", required=True), "")["code"] == "required"
    assert refused(lambda r: params.date_param(r, "from", required=True), "")["code"] == "required"


# ---------------------------------------------------------------- text and codes


@pytest.mark.parametrize(
    "raw",
    ["AB%00C", "%00", "A%01", "tab%09", "line%0Abreak", "del%7F", "c1%C2%85", "%C2%9F"],
)
def test_nul_and_every_control_character_are_refused_in_text_and_codes(raw: str) -> None:
    assert refused(lambda r: params.text_param(r, "q"), f"q={raw}")["field"] == "q"
    assert refused(lambda r: params.code_param(r, "store"), f"store={raw}")["field"] == "store"
    assert refused(lambda r: params.list_param(r, "sku", limit=5), f"sku=A,{raw}")["field"] == "sku"
    assert refused(lambda r: params.choices_param(r, "status", ["a"]), f"status={raw}")["field"] == "status"


def test_text_keeps_spaces_accents_and_emoji() -> None:
    raw = "Caf%C3%A9 cr%C3%A8me %F0%9F%91%A9%E2%80%8D%F0%9F%8D%B3"
    assert params.text_param(request(f"q={raw}"), "q") == "Café crème 👩\u200d🍳"


def test_text_and_codes_have_a_bounded_length() -> None:
    assert params.text_param(request("q=" + "x" * 100), "q") == "x" * 100
    refused(lambda r: params.text_param(r, "q"), "q=" + "x" * 101)
    assert params.text_param(request("q=" + "x" * 12), "q", max_length=12) == "x" * 12
    refused(lambda r: params.text_param(r, "q", max_length=12), "q=" + "x" * 13)
    assert params.code_param(request("store=" + "C" * 64), "store") == "C" * 64
    refused(lambda r: params.code_param(r, "store"), "store=" + "C" * 65)
    assert params.code_param(request("other=1"), "store") is None


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize(("raw", "expected"), [("1", 1), ("10", 10), ("007", 7), ("", 5), (None, 5)])
def test_whole_numbers_within_bounds(raw: str | None, expected: int) -> None:
    query = "" if raw is None else f"limit={raw}"
    assert params.int_param(request(query), "limit", low=1, high=10, default=5) == expected


@pytest.mark.parametrize("raw", ["0", "11", "-1", "abc", "1.0", "1e1", "%C2%B2", "%D9%A1", "%205", "5%00", "9" * 40])
def test_whole_numbers_out_of_bounds_or_not_ascii_digits_are_refused(raw: str) -> None:
    error = refused(lambda r: params.int_param(r, "limit", low=1, high=10, default=5), f"limit={raw}")
    assert error == {"field": "limit", "code": "invalid", "message": "Expected a whole number from 1 to 10."}


def test_ids_are_positive_and_fit_a_bigint() -> None:
    assert params.id_param(request("store=42"), "store") == 42
    assert params.id_param(request(f"store={2**63 - 1}"), "store") == 2**63 - 1
    assert params.id_param(request(""), "store") is None
    for raw in ("0", "-3", str(2**63), "abc", "%C2%B2", "4 2"):
        assert refused(lambda r: params.id_param(r, "store"), f"store={raw}")["field"] == "store"


@pytest.mark.parametrize(("raw", "expected"), [("48.85", 48.85), ("-2", -2.0), ("%2B3.5", 3.5), ("1e1", 10.0)])
def test_decimal_numbers_within_bounds(raw: str, expected: float) -> None:
    assert params.float_param(request(f"lat={raw}"), "lat", low=-90, high=90) == expected


@pytest.mark.parametrize("raw", ["nan", "NaN", "inf", "-inf", "infinity", "1e400", "91", "1_0", "0x10", "", "%00"])
def test_nan_infinities_and_out_of_bounds_decimals_are_refused(raw: str) -> None:
    if raw == "":
        assert params.float_param(request("lat="), "lat", low=-90, high=90, default=1.5) == 1.5
        return
    assert refused(lambda r: params.float_param(r, "lat", low=-90, high=90), f"lat={raw}")["field"] == "lat"


def test_page_size_is_one_to_five_hundred_never_clamped() -> None:
    assert params.page_size_param(request("")) == 50
    assert params.page_size_param(request("page_size=")) == 50
    assert params.page_size_param(request("page_size=1")) == 1
    assert params.page_size_param(request("page_size=500")) == 500
    for raw in ("0", "501", "-1", "abc", "100000000000"):
        error = refused(params.page_size_param, f"page_size={raw}")
        assert (error["field"], error["code"]) == ("page_size", "invalid")


# ---------------------------------------------------------------- booleans and dates


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("TRUE", True), ("1", True), ("false", False), ("0", False)]
)
def test_booleans(raw: str, expected: bool) -> None:
    assert params.bool_param(request(f"available={raw}"), "available") is expected


def test_a_missing_boolean_is_its_default_and_anything_else_is_refused() -> None:
    assert params.bool_param(request(""), "available") is None
    assert params.bool_param(request(""), "available", default=False) is False
    for raw in ("yes", "maybe", "2", "t"):
        assert refused(lambda r: params.bool_param(r, "available"), f"available={raw}")["field"] == "available"


def test_dates_are_yyyy_mm_dd_only() -> None:
    assert params.date_param(request("from=2026-03-29"), "from") == dt.date(2026, 3, 29)
    for raw in ("2026-02-30", "20260329", "2026-W13-7", "29/03/2026", "2026-3-29", "2026-03-29T00:00:00Z", "%00"):
        assert refused(lambda r: params.date_param(r, "from"), f"from={raw}")["field"] == "from"


def test_date_ranges_count_both_days_and_have_a_maximum_length() -> None:
    def dates(r: Request) -> tuple[dt.date, dt.date]:
        return params.date_range_params(r, max_days=7)

    assert dates(request("from=2026-03-01&to=2026-03-07")) == (dt.date(2026, 3, 1), dt.date(2026, 3, 7))
    assert dates(request("from=2026-03-01&to=2026-03-01")) == (dt.date(2026, 3, 1), dt.date(2026, 3, 1))
    assert refused(dates, "from=2026-03-01&to=2026-03-08") == {
        "field": "to",
        "code": "range_too_long",
        "message": "At most 7 days per request.",
    }
    assert refused(dates, "from=2026-03-02&to=2026-03-01")["field"] == "to"
    assert refused(dates, "to=2026-03-01") == {
        "field": "from",
        "code": "required",
        "message": "This parameter is required.",
    }
    assert refused(dates, "from=2026-03-01")["code"] == "required"


def test_date_ranges_with_defaults() -> None:
    today = dt.date(2026, 3, 1)

    def dates(query: str) -> tuple[dt.date, dt.date]:
        return params.date_range_params(request(query), max_days=31, default_from=today, default_days=7)

    assert dates("") == (today, dt.date(2026, 3, 8))
    assert dates("from=2026-03-10") == (dt.date(2026, 3, 10), dt.date(2026, 3, 17))
    assert dates("to=2026-03-31") == (today, dt.date(2026, 3, 31))
    assert (
        refused(lambda r: params.date_range_params(r, max_days=31, default_from=today), "to=2026-04-01")["code"]
        == "range_too_long"
    )


# ---------------------------------------------------------------- choices and lists


def test_one_choice() -> None:
    allowed = ["day", "week"]
    assert params.choice_param(request("granularity=week"), "granularity", allowed) == "week"
    assert params.choice_param(request(""), "granularity", allowed) is None
    assert params.choice_param(request(""), "granularity", allowed, default="day") == "day"
    error = refused(lambda r: params.choice_param(r, "granularity", allowed), "granularity=minute")
    assert error == {"field": "granularity", "code": "invalid", "message": "Expected one of: day, week."}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=placed", ["placed"]),
        ("status=placed,ready", ["placed", "ready"]),
        ("status=placed&status=ready", ["placed", "ready"]),
        ("status=ready&status=placed,ready", ["ready", "placed"]),
        ("status=placed,%20ready,", ["placed", "ready"]),
        ("status=", []),
        ("", []),
    ],
)
def test_several_choices_repeated_or_comma_separated(query: str, expected: list[str]) -> None:
    assert params.choices_param(request(query), "status", ["placed", "ready", "collected"]) == expected


def test_an_unknown_choice_is_named_with_the_allowed_ones() -> None:
    error = refused(lambda r: params.choices_param(r, "status", ["placed", "ready"]), "status=placed,shipped")
    assert error["field"] == "status"
    assert error["message"] == "Unknown value(s): shipped. Allowed: placed, ready."


def test_lists_have_a_limit_after_duplicates_are_dropped() -> None:
    assert params.list_param(request("sku=A,B&sku=A"), "sku", limit=2) == ["A", "B"]
    assert params.list_param(request(""), "sku", limit=2) == []
    error = refused(lambda r: params.list_param(r, "sku", limit=2), "sku=A,B,C")
    assert (error["field"], error["code"]) == ("sku", "too_many")
    refused(lambda r: params.list_param(r, "sku", limit=2), "sku=" + "S" * 65)


def test_messages_are_translated() -> None:
    with translation.override("fr"):
        error = refused(lambda r: params.date_param(r, "from"), "from=tomorrow")
    assert error["message"] == "Date attendue au format YYYY-MM-DD."
