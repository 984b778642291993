"""The strict input base (gateway.api.strict): unknown fields refused with
their names sanitised, strict scalar fields, the sanitising helper, and
that every input serializer of every app stands on them."""

import importlib
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from rest_framework import serializers

from gateway.api import strict
from gateway.api.strict import (
    DecimalStringField,
    MoneyInput,
    StrictBooleanField,
    StrictCharField,
    StrictInput,
    StrictIntegerField,
    refuse_unclean_text,
    shown_name,
    validated_body,
)
from partners.models import CallerKind
from tests.commerce.factories import open_slot, shopper, stocked_product, store_with_schedule
from tests.factories import api_as, make_client
from tests.loyalty.factories import ProgramFactory

# ---------------------------------------------------------------- the helper


def test_shown_name_escapes_what_cannot_be_shown_and_bounds_the_length() -> None:
    assert shown_name("sku") == "sku"
    assert shown_name("a\x00b\x1bc\x7f\x85d\ud800") == "a\ufffdb\ufffdc\ufffd\ufffdd\ufffd"
    assert shown_name("x" * 1000) == "x" * 63 + "\u2026"
    assert len(shown_name("\x00" * 10_000)) == strict.SHOWN_NAME_LENGTH
    assert shown_name(12) == "12"


# ---------------------------------------------------------------- scalar fields


def errors_of(field: serializers.Field, value: Any) -> list[str]:
    try:
        field.run_validation(value)
    except serializers.ValidationError as exc:
        return [getattr(item, "code", "") for item in exc.detail]
    return []


@pytest.mark.parametrize("value", ["3", 3.0, 3.5, True, False, None, [3], {"v": 3}, "", " 3"])
def test_the_integer_field_takes_json_integers_only(value: Any) -> None:
    assert errors_of(StrictIntegerField(allow_null=False), value)


def test_the_integer_field_keeps_its_bounds_and_defaults_to_bigint() -> None:
    assert StrictIntegerField(min_value=1, max_value=9).run_validation(3) == 3
    assert errors_of(StrictIntegerField(min_value=1, max_value=9), 10) == ["max_value"]
    assert errors_of(StrictIntegerField(), 2**63) == ["max_value"]
    assert errors_of(StrictIntegerField(), -(2**63) - 1) == ["min_value"]
    assert StrictIntegerField().run_validation(2**63 - 1) == 2**63 - 1


@pytest.mark.parametrize(
    "value", [10.5, 10, "1e3", "1E3", "NaN", "nan", "Infinity", "-Infinity", " 1", "1 ", "1.", ".5", "+1", "1,5", ""]
)
def test_the_decimal_field_takes_decimal_strings_only(value: Any) -> None:
    assert errors_of(DecimalStringField(max_digits=12, decimal_places=2), value)


def test_the_decimal_field_reads_a_decimal_string_and_keeps_drf_checks() -> None:
    field = DecimalStringField(max_digits=6, decimal_places=2, min_value=Decimal("0"))
    assert field.run_validation("12.50") == Decimal("12.50")
    assert field.run_validation("7") == Decimal("7")
    assert errors_of(field, "1.234") == ["max_decimal_places"]
    assert errors_of(field, "-1") == ["min_value"]
    assert errors_of(field, "1" * 2000) == ["max_string_length"]


@pytest.mark.parametrize("value", ["a\x00b", "\x01", "tab\there", "line\nbreak", "del\x7f", "c1\x85", "lone \ud800", 5])
def test_text_refuses_control_characters_lone_surrogates_and_numbers(value: Any) -> None:
    assert errors_of(StrictCharField(), value)


def test_multiline_text_keeps_line_breaks_and_tabs_only() -> None:
    field = StrictCharField(multiline=True)
    assert field.run_validation("one\r\ntwo\tthree") == "one\r\ntwo\tthree"
    assert errors_of(field, "one\x00two") == [strict.INVALID_CHARACTERS]
    assert errors_of(field, "bell\x07") == [strict.INVALID_CHARACTERS]


@pytest.mark.parametrize("value", ["true", "false", 1, 0, "yes", "on", None])
def test_the_boolean_field_takes_json_booleans_only(value: Any) -> None:
    assert errors_of(StrictBooleanField(allow_null=False), value)


# ---------------------------------------------------------------- the base


class Line(StrictInput):
    quantity = StrictIntegerField(min_value=1)


class Basket(StrictInput):
    note = StrictCharField(required=False)
    lines = Line(many=True)
    price = MoneyInput(required=False)


def test_unknown_fields_are_refused_with_sanitised_names_at_every_depth() -> None:
    body = {
        "lines": [{"quantity": 1}, {"quantity": 2, "qty\x00": 2}],
        "price": {"amount": "1.00", "currency": "EUR", "vat": "x"},
        "\x00" * 500: 1,
        "owner": "me",
    }
    serializer = Basket(data=body)

    assert not serializer.is_valid()
    assert {name: [e.code for e in errors] for name, errors in serializer.errors.items()} == {
        shown_name("\x00" * 500): ["unknown_field"],
        "owner": ["unknown_field"],
    }
    nested = Basket(data={"lines": body["lines"], "price": body["price"]})
    assert not nested.is_valid()
    assert [e.code for e in nested.errors["lines"][1]["qty\ufffd"]] == ["unknown_field"]
    assert nested.errors["price"]["vat"][0].code == "unknown_field"


def test_a_body_validated_by_the_shared_instance_gives_what_a_fresh_one_gives() -> None:
    def fresh(body: Any) -> Any:
        serializer = Basket(data=body)
        try:
            serializer.is_valid(raise_exception=True)
        except serializers.ValidationError as exc:
            return ("invalid", exc.detail)
        return ("valid", dict(serializer.validated_data))

    def shared(body: Any) -> Any:
        try:
            return ("valid", validated_body(Basket, body))
        except serializers.ValidationError as exc:
            return ("invalid", exc.detail)

    bodies = [
        {"lines": [{"quantity": 3}], "note": "ok"},
        {"lines": [{"quantity": 0}, {"quantity": "2"}], "owner": "me"},
        {"lines": [], "price": {"amount": "1.005", "currency": "EUR"}},
        {},
        None,
        [{"quantity": 1}],
        "lines",
    ]
    for body in bodies:
        assert shared(body) == fresh(body), body


def test_the_shared_instance_validates_bodies_from_many_threads_at_once() -> None:
    # given 8 threads each validating its own bodies (good and bad) through the one shared instance
    def run(worker: int) -> list[Any]:
        seen: list[Any] = []
        for n in range(300):
            quantity = worker * 1000 + n if n % 3 else 0  # every third line is refused
            try:
                seen.append(validated_body(Basket, {"lines": [{"quantity": quantity}], "note": f"w{worker}"}))
            except serializers.ValidationError as exc:
                seen.append(("refused", quantity, sorted(dict(exc.detail))))  # type: ignore[arg-type]  # a dict here
        return seen

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, range(8)))
    # then each got its own answers: no validation saw another thread's body
    for worker, seen in enumerate(results):
        for n, answer in enumerate(seen):
            quantity = worker * 1000 + n if n % 3 else 0
            if n % 3:
                assert answer == {"lines": [{"quantity": quantity}], "note": f"w{worker}"}
            else:
                assert answer == ("refused", 0, ["lines"])


def test_refuse_unclean_text_names_each_place_in_document_order() -> None:
    body = {"a": [{"s": "ok"}, {"s": "x\x00", "k\x01": 1}], "b": "\ud800", "c": {"d": "fine\n"}}

    with pytest.raises(serializers.ValidationError) as raised:
        refuse_unclean_text(body)

    assert list(raised.value.detail) == ["a.1.s", "a.1.k\ufffd", "b", "c.d"]
    refuse_unclean_text({"a": ["ok", 1, None, True, {"b": 2.5}]})


@pytest.mark.parametrize("text", ["\x08", "\x0c", "\t", "\n", "\r", "\x1f", "\x7f", "\x9f", "\udfff", "ok\x00"])
def test_refuse_unclean_text_misses_no_character_to_refuse(text: str) -> None:
    with pytest.raises(serializers.ValidationError):
        refuse_unclean_text({"records": [{"code": text}]})


@pytest.mark.parametrize("text", ["C:\\new\\table", "\\u0000 written out", "caf\u00e9 \U0001f600", "\u00a0\u2028"])
def test_refuse_unclean_text_lets_printable_text_through(text: str) -> None:
    refuse_unclean_text({"records": [{"code": text}]})


def test_refuse_unclean_text_survives_any_depth_and_reports_a_bounded_number() -> None:
    deep: Any = "\x00"
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(serializers.ValidationError) as raised:
        refuse_unclean_text(deep)
    assert len(raised.value.detail) == 1

    with pytest.raises(serializers.ValidationError) as raised:
        refuse_unclean_text(["\x00"] * 5000)
    assert len(raised.value.detail) == strict.MAX_REPORTED


# ---------------------------------------------------------------- every app uses it

INPUT_MODULES = [
    "commerce.api.v1.serializers",
    "commerce.api.v1.recommendation_serializers",
    "footfall.api.v1.serializers",
    "footfall.api.v1.calendar",
    "inventory.api.v1.serializers",
    "loyalty.api.v1.serializers",
    "loyalty.api.v1.ticket_serializers",
    "loyalty.api.v1.analytics",
    "partners.api.v1.serializers",
    "partners.api.v1.webhook_serializers",
]
# DRF fields that coerce what they are given; their strict counterparts live in gateway.api.strict.
LAX_FIELDS = (
    serializers.IntegerField,
    serializers.FloatField,
    serializers.DecimalField,
    serializers.BooleanField,
    serializers.CharField,
)
STRICT_FIELDS = (StrictIntegerField, DecimalStringField, StrictBooleanField, strict._StrictText)


def input_serializers() -> Iterator[type[serializers.BaseSerializer[Any]]]:
    """Every request-body serializer (named ``...Input``; what they nest is
    checked through them), leaving out the documentation-only components of
    bodies that a spec validates (inventory.specs, footfall formats)."""
    for name in INPUT_MODULES:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, serializers.BaseSerializer)
                and value.__module__ == name
                and "Input" in value.__name__
                and not getattr(value, "documentation_only", False)
            ):
                yield value


def lax_fields(serializer: Any, path: str) -> Iterator[str]:
    if isinstance(serializer, serializers.ListSerializer):
        yield from lax_fields(serializer.child, path)
        return
    if not isinstance(serializer, StrictInput):
        yield f"{path} is not a StrictInput"
        return
    for name, field in serializer.fields.items():
        while isinstance(field, serializers.ListField | serializers.DictField):
            field = field.child
        if isinstance(field, serializers.BaseSerializer):
            yield from lax_fields(field, f"{path}.{name}")
        elif isinstance(field, LAX_FIELDS) and not isinstance(field, STRICT_FIELDS):
            yield f"{path}.{name} is a {type(field).__name__}"


def test_every_input_serializer_stands_on_the_strict_base_and_fields() -> None:
    found = list(input_serializers())
    lax = [problem for cls in found for problem in lax_fields(cls(), cls.__name__)]

    assert len(found) > 25
    assert lax == []


# ---------------------------------------------------------------- defect A: a NUL in an unknown field's name


def _order_setup() -> dict[str, Any]:
    store = store_with_schedule()
    slot = open_slot(store, capacity=5)
    product = stocked_product(store, on_hand=20)
    api, _user = shopper()
    placed = api.post(
        "/api/v1/orders",
        {"slot_id": slot.pk, "lines": [{"product_id": product.pk, "quantity": 1}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="setup-order",
    )
    assert placed.status_code == 201, placed.content
    return {"store": store, "slot": slot, "product": product, "shopper": api, "order": placed.json()["id"]}


def _order_place() -> tuple[Any, str, dict[str, Any]]:
    setup = _order_setup()
    lines = [{"product_id": setup["product"].pk, "quantity": 1}]
    return setup["shopper"], "/api/v1/orders", {"slot_id": setup["slot"].pk, "lines": lines}


def _order_cancel() -> tuple[Any, str, dict[str, Any]]:
    setup = _order_setup()
    return setup["shopper"], f"/api/v1/orders/{setup['order']}/cancel", {"reason": "changed my mind"}


def _order_status() -> tuple[Any, str, dict[str, Any]]:
    setup = _order_setup()
    staff = api_as(make_client(CallerKind.STORE, store=setup["store"]))
    return staff, f"/api/v1/orders/{setup['order']}/status", {"status": "preparing"}


def _pickup_hold() -> tuple[Any, str, dict[str, Any]]:
    setup = _order_setup()
    return setup["shopper"], "/api/v1/pickup-holds", {"slot_id": setup["slot"].pk}


def _schedule_exception() -> tuple[Any, str, dict[str, Any]]:
    store = store_with_schedule()
    staff = api_as(make_client(CallerKind.STORE, store=store))
    return staff, f"/api/v1/pickup-schedules/{store.pk}/exceptions", {"date": "2030-12-25", "closed": True}


def _webhook_rotation() -> tuple[Any, str, dict[str, Any]]:
    api = api_as(make_client(CallerKind.PARTNER))
    created = api.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/hooks", "event_types": ["*"]}, format="json")
    assert created.status_code == 201, created.content
    return api, f"/api/v1/webhooks/{created.json()['id']}/rotate-secret", {"keep_previous_seconds": 0}


def _webhook_create() -> tuple[Any, str, dict[str, Any]]:
    return (
        api_as(make_client(CallerKind.PARTNER)),
        "/api/v1/webhooks",
        {"url": "http://127.0.0.1:9/h", "event_types": ["*"]},
    )


def _till_ticket_setup() -> tuple[Any, dict[str, Any]]:
    program = ProgramFactory.create()
    store = store_with_schedule()
    product = stocked_product(store, on_hand=20)
    till = api_as(make_client(CallerKind.STORE, store=store))
    body = {
        "program": program.code,
        "store": store.code,
        "ticket_id": "T-1",
        "lines": [{"sku": product.sku, "quantity": 1, "unit_price": "2.00"}],
        "till_time": "2030-01-01T00:00:00Z",
    }
    return till, body


def _till_ticket() -> tuple[Any, str, dict[str, Any]]:
    till, body = _till_ticket_setup()
    return till, "/api/v1/loyalty/tickets", body


def _till_ticket_return() -> tuple[Any, str, dict[str, Any]]:
    till, body = _till_ticket_setup()
    posted = till.post("/api/v1/loyalty/tickets", {**body, "till_time": timezone.now().isoformat()}, format="json")
    assert posted.status_code == 201, posted.content
    path = f"/api/v1/loyalty/tickets/{body['store']}/T-1/returns"
    return till, path, {"return_id": "R-1", "lines": [{"line": 0, "quantity": 1}]}


def _sensor_create() -> tuple[Any, str, dict[str, Any]]:
    store = store_with_schedule()
    staff = api_as(make_client(CallerKind.STORE, store=store))
    return staff, "/api/v1/footfall/sensors", {"code": "S-1", "name": "Door", "kind": "entrance", "store": store.code}


ENDPOINTS: dict[str, Callable[[], tuple[Any, str, dict[str, Any]]]] = {
    "order place": _order_place,
    "order cancel": _order_cancel,
    "order status": _order_status,
    "pickup hold": _pickup_hold,
    "schedule exception": _schedule_exception,
    "webhook secret rotation": _webhook_rotation,
    "webhook create": _webhook_create,
    "till ticket": _till_ticket,
    "till ticket return": _till_ticket_return,
    "sensor create": _sensor_create,
}


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_an_unknown_field_named_with_a_nul_is_a_422_that_replays(endpoint: str) -> None:
    api, path, body = ENDPOINTS[endpoint]()
    raw = json.dumps({**body, "evil\x00name": 1})

    first = api.post(path, raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY="nul-in-a-key")
    again = api.post(path, raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY="nul-in-a-key")

    assert first.status_code == 422, first.content[:500]
    assert first.json()["code"] == "validation_failed"
    assert first.json()["errors"] == [
        {"field": "evil\ufffdname", "code": "unknown_field", "message": first.json()["errors"][0]["message"]}
    ]
    assert again.status_code == 422
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
