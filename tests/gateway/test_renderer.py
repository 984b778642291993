"""Every answer is written by ``GatewayJSONRenderer`` (orjson): the bytes are
those DRF's ``JSONRenderer`` writes for the same data, floats aside (the same
numbers, in orjson's shortest form)."""

import datetime as dt
import json
import uuid
from collections import OrderedDict
from decimal import Decimal
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer

from gateway.api.renderers import GatewayJSONRenderer

OURS, DRF = GatewayJSONRenderer(), JSONRenderer()
MEDIA_TYPE = "application/json"

_instants = st.datetimes(
    min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.sampled_from([None, dt.UTC])
)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(),
    st.sampled_from(["\u2028", "a\u2029b", "\x00\x1f\x7f", "é/ü\\\"'", "<script>"]),
    _instants,
    st.dates(),
    st.times(),
    st.decimals(allow_nan=False, allow_infinity=False, places=3, max_value=10**9, min_value=-(10**9)),
    st.uuids(),
    st.timedeltas(min_value=dt.timedelta(days=-9999), max_value=dt.timedelta(days=9999)),
)
_keys = st.one_of(st.text(max_size=12), st.integers(min_value=-(2**31), max_value=2**31))
_documents = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6),
        st.dictionaries(_keys, inner, max_size=6),
        st.dictionaries(_keys, inner, max_size=6).map(OrderedDict),  # DRF's ReturnDict is one
    ),
    max_leaves=40,
)


def _both(data: Any, media_type: str = MEDIA_TYPE) -> tuple[bytes, bytes]:
    return OURS.render(data, media_type, {}), DRF.render(data, media_type, {})


@settings(max_examples=400, deadline=None)
@given(_documents)
def test_the_bytes_are_drfs(data: Any) -> None:
    ours, drf = _both(data)
    assert ours == drf


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=8))
def test_floats_are_the_same_numbers(values: list[float]) -> None:
    ours, drf = _both({"values": values})
    assert json.loads(ours) == json.loads(drf)


def test_what_orjson_refuses_or_does_not_do_goes_through_drf() -> None:
    assert OURS.render(None, MEDIA_TYPE, {}) == b""
    # an integer beyond 64 bits: orjson refuses it, the json module writes it
    assert _both({"n": 2**70}) == (b'{"n":1180591620717411303424}',) * 2
    # indentation asked by the client
    ours, drf = _both({"a": [1, {"b": None}]}, "application/json; indent=4")
    assert ours == drf
    assert b"\n    " in ours
    # lazy translations, microseconds, UUIDs and decimals, as DRF writes them
    instant = dt.datetime(2026, 12, 7, 6, 30, 1, 123456, tzinfo=dt.UTC)
    with translation.override("en"):
        ours, drf = _both({"t": gettext_lazy("curated"), "at": instant, "id": uuid.UUID(int=7), "m": Decimal("1.10")})
    assert (
        ours
        == drf
        == b'{"t":"curated","at":"2026-12-07T06:30:01.123456Z","id":"00000000-0000-0000-0000-000000000007","m":1.1}'
    )
