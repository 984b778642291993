"""Money rounding and ETag preconditions, the shared pieces every app uses."""

from decimal import Decimal

import pytest
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from gateway.api.etag import check_if_match, etag_for, not_modified
from gateway.api.money import MoneySerializer, money, money_round
from gateway.api.problems import PreconditionFailed, PreconditionRequired


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [("10.005", "EUR", "10.01"), ("10.004", "EUR", "10.00"), ("-2.345", "EUR", "-2.35"), ("99.5", "JPY", "100")],
)
def test_rounding_is_half_up_to_the_minor_unit(amount: str, currency: str, expected: str) -> None:
    assert money_round(Decimal(amount), currency) == Decimal(expected)


def test_money_shape_uses_decimal_strings() -> None:
    assert money(Decimal("10"), "EUR") == {"amount": "10.00", "currency": "EUR"}


def test_money_input_refuses_floats_of_too_many_places_and_bad_currencies() -> None:
    assert not MoneySerializer(data={"amount": "1.234", "currency": "EUR"}).is_valid()
    assert not MoneySerializer(data={"amount": "1.23", "currency": "euro"}).is_valid()
    assert MoneySerializer(data={"amount": "1.23", "currency": "EUR"}).is_valid()


def request_with(**headers: str):
    return APIView().initialize_request(APIRequestFactory().get("/", None, **headers))


def test_etag_changes_with_the_version() -> None:
    assert etag_for("product", 7, 1) != etag_for("product", 7, 2)
    assert etag_for("product", 7, 1).startswith('"')


def test_if_match_mismatch_is_412_and_absence_428() -> None:
    current = etag_for("product", 7, 2)
    with pytest.raises(PreconditionFailed):
        check_if_match(request_with(HTTP_IF_MATCH=etag_for("product", 7, 1)), current)
    with pytest.raises(PreconditionRequired):
        check_if_match(request_with(), current)
    check_if_match(request_with(HTTP_IF_MATCH=current), current)
    check_if_match(request_with(), current, required=False)


def test_if_none_match_tells_when_to_answer_304() -> None:
    current = etag_for("product", 7, 2)
    assert not_modified(request_with(HTTP_IF_NONE_MATCH=current), current)
    assert not not_modified(request_with(HTTP_IF_NONE_MATCH=etag_for("product", 7, 1)), current)
    assert not not_modified(request_with(), current)
