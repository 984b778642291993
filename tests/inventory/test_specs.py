"""One source for the bulk sync's body and availability's query: the checks
the code runs and the OpenAPI schema it publishes are written from the same
declarations, and agree.

- A JSON Schema validator (jsonschema_rs, ECMA-262 regular expressions) and
  the sync's own checks (``_line_problem`` for a line, the view's ``_body``
  for the envelope) accept and refuse the same generated values.
- The committed schema holds exactly what the declarations write.
- Availability's parameters answer 400 just past the bounds the schema shows.

Two gaps are JSON Schema's and are pinned below: it counts ``1.0`` as an
integer, and its regular expressions cannot name the Unicode categories that
``str.isprintable`` refuses beyond control characters."""

from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from inventory.api.v1.views import availability
from inventory.api.v1.views.sync import _body
from inventory.errors import SyncBatchTooLarge
from inventory.services.stock import MAX_QUANTITY
from inventory.services.sync import SYNC_LINE, SYNC_LINES, SYNC_MAX_LINES, SYNC_REQUEST, _line_problem

ROOT = Path(__file__).resolve().parents[2]
LINE_SCHEMA = jsonschema_rs.Draft202012Validator(SYNC_LINE.schema())
REQUEST_SCHEMA = jsonschema_rs.Draft202012Validator(SYNC_REQUEST.schema())
# The envelope alone: its lines may hold anything (each line is the line's business).
ENVELOPE_SCHEMA = jsonschema_rs.Draft202012Validator(SYNC_REQUEST.schema(lines=SYNC_LINES.schema({})))
FIELDS = ["sku", "location", "on_hand", "delta", "expected_on_hand"]

# Text from printable ASCII, control characters (C0, DEL, C1) and a few
# printable letters beyond ASCII; not the characters of the documented gap.
TEXT = st.text(
    alphabet=st.sampled_from([*map(chr, range(0x20, 0x7F)), *map(chr, range(0x00, 0x20)), "\x7f", "\x85", "é", "ß"]),
    max_size=70,
)
EDGES = [0, 1, -1, MAX_QUANTITY, MAX_QUANTITY + 1, -MAX_QUANTITY, -MAX_QUANTITY - 1, 2**63, -(2**63)]
WHOLE = st.one_of(st.sampled_from(EDGES), st.integers(min_value=-(2**64), max_value=2**64))
VALUE = st.one_of(
    st.none(),
    st.booleans(),
    WHOLE,
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: not x.is_integer()),
    TEXT,
    st.lists(st.integers(), max_size=2),
)
CODE = st.one_of(st.from_regex(r"[A-Z0-9][A-Z0-9._-]{0,63}", fullmatch=True), TEXT, VALUE)


@st.composite
def likely_lines(draw: st.DrawFn) -> dict[str, Any]:
    """Lines near the valid ones: good or bad codes, one or two quantities at
    or around their bounds, sometimes null, sometimes a guard, sometimes a key too many."""
    line: dict[str, Any] = {}
    for name in ("sku", "location"):
        if draw(st.integers(0, 9)):
            line[name] = draw(CODE)
    for name in draw(st.sampled_from([["on_hand"], ["delta"], ["on_hand", "delta"], []])):
        line[name] = draw(st.one_of(WHOLE, VALUE))
    if draw(st.booleans()):
        line["expected_on_hand"] = draw(st.one_of(WHOLE, st.none(), VALUE))
    if not draw(st.integers(0, 19)):
        line["owner"] = "x"
    return line


LINES = st.one_of(likely_lines(), st.dictionaries(st.sampled_from([*FIELDS, "owner"]), VALUE, max_size=6), VALUE)


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(LINES)
def test_a_line_is_valid_to_the_schema_exactly_when_the_sync_accepts_it(line: Any) -> None:
    assert (_line_problem(line) is None) == LINE_SCHEMA.is_valid(line), (line, _line_problem(line))


def _envelope_accepted(body: Any) -> bool:
    try:
        _body(body)
    except serializers.ValidationError:
        return False
    return True


GOOD_LINE = {"sku": "A", "location": "B", "on_hand": 1}
ENVELOPES = st.one_of(
    st.fixed_dictionaries(
        {"lines": st.one_of(st.lists(st.one_of(st.just(GOOD_LINE), LINES), max_size=3), VALUE)},
        optional={
            "error_policy": st.one_of(st.sampled_from(["reject_all", "apply_valid", "REJECT_ALL", ""]), VALUE),
            "reference": st.one_of(TEXT, st.text(max_size=130), VALUE),
            "owner": VALUE,
        },
    ),
    VALUE,
)


@settings(max_examples=800, suppress_health_check=[HealthCheck.too_slow])
@given(ENVELOPES)
def test_an_envelope_is_valid_to_the_schema_exactly_when_the_view_accepts_it(body: Any) -> None:
    accepted = _envelope_accepted(body)
    assert accepted == ENVELOPE_SCHEMA.is_valid(body), body
    # and the whole body is valid exactly when the envelope and every line are
    whole = accepted and all(_line_problem(line) is None for line in body["lines"])
    assert whole == REQUEST_SCHEMA.is_valid(body), body


def test_a_batch_over_the_limit_is_413_which_the_schema_states_in_words() -> None:
    body = {"lines": [GOOD_LINE] * (SYNC_MAX_LINES + 1)}
    with pytest.raises(SyncBatchTooLarge):
        _body(body)
    assert REQUEST_SCHEMA.is_valid(body)  # no maxItems: a longer batch is not a validation error
    assert f"1 to {SYNC_MAX_LINES} lines (413 above)" in SYNC_REQUEST.schema()["properties"]["lines"]["description"]


def test_json_schema_counts_an_integral_decimal_as_an_integer_and_the_sync_does_not() -> None:
    line = {"sku": "A", "location": "B", "on_hand": 1.0}
    assert LINE_SCHEMA.is_valid(line)
    with translation.override("en"):
        assert _line_problem(line) == (
            "on_hand",
            "invalid_quantity",
            "A whole number is required (on_hand at least 0).",
        )


@pytest.mark.parametrize("sku", ["A\u00a0B", "A\u200bB", "A\u2028B"])
def test_codes_are_printable_beyond_what_a_schema_pattern_can_say(sku: str) -> None:
    # no-break space, zero-width space, line separator: printable to JSON Schema, not to str.isprintable
    line = {"sku": sku, "location": "B", "on_hand": 1}
    assert LINE_SCHEMA.is_valid(line)
    assert _line_problem(line) is not None
    assert _line_problem(line)[:2] == ("sku", "invalid_sku")  # type: ignore[index]  # not None, asserted above


def _committed() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "schema" / "openapi-v1.yaml").read_text())


def test_the_committed_schema_is_what_the_declarations_write() -> None:
    schema = _committed()
    components = schema["components"]["schemas"]
    # the line, as declared
    assert components["StockSyncLineInputRequest"] == SYNC_LINE.schema()
    # the envelope, as declared, its lines referring to the line's component and its policy to its enum
    envelope = SYNC_REQUEST.schema()
    envelope["properties"]["lines"]["items"] = {"$ref": "#/components/schemas/StockSyncLineInputRequest"}
    policy = envelope["properties"].pop("error_policy")
    published = components["StockSyncInputRequest"]
    assert published["properties"].pop("error_policy") == {
        "allOf": [{"$ref": "#/components/schemas/ErrorPolicyEnum"}],
        "default": policy["default"],
    }
    assert components["ErrorPolicyEnum"]["enum"] == policy["enum"]
    assert published == envelope
    # availability's query, as declared
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/availability"]["get"]["parameters"]}
    for declared in availability.QUERY:
        published_parameter = parameters[declared.name]
        assert published_parameter.get("required", False) == (declared is availability.SKU), declared.name
        assert published_parameter.get("description", "") == declared.description, declared.name
        expected = declared.parameter().type
        if isinstance(expected, dict):
            assert published_parameter["schema"] == expected, declared.name


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "inside", "outside"),
    [
        (
            parameter.name,
            [parameter.low, parameter.high],
            [parameter.low - (1 if isinstance(parameter.low, int) else 0.01), parameter.high + 1],
        )
        for parameter in (availability.LAT, availability.LNG, availability.RADIUS_KM, availability.LIMIT)
    ],
)
def test_availability_answers_400_just_past_the_published_bounds(network, name, inside, outside) -> None:
    api = network.api("shopper")
    base = {"sku": "MILK-1L", "lat": 48.85, "lng": 2.35}
    for value in inside:
        assert api.get("/api/v1/availability", {**base, name: value}).status_code == 200, (name, value)
    for value in outside:
        response = api.get("/api/v1/availability", {**base, name: value})
        assert response.status_code == 400, (name, value)
        assert response.json()["errors"][0]["field"] == name


@pytest.mark.django_db
@pytest.mark.parametrize("question", [{"lat": 48.85, "lng": 2.35, "radius_km": 50}, {"store": "PAR01"}])
def test_availability_answers_are_what_the_schema_describes(network, question) -> None:
    # given the published AvailabilityOutput (the body availability_output writes as plain dicts)
    schema = _committed()
    validator = jsonschema_rs.validator_for(
        {"$ref": "#/components/schemas/AvailabilityOutput", "components": schema["components"]}
    )
    # when a store client asks in either mode about a stocked SKU, a partner's SKU and an unknown one
    response = network.api("store").get("/api/v1/availability", {"sku": "MILK-1L,ACME-GRANOLA,NOPE", **question})
    # then the answer validates, and holds locations to check
    assert response.status_code == 200, response.content
    body = response.json()
    validator.validate(body)
    assert body["unknown_skus"] == ["NOPE"]
    assert body["results"][0]["locations"]
