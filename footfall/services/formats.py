"""The count formats declared once: which key of a record holds what, what a
value must be, and the JSON Schema that says so. ``footfall.services.adapters``
reads every record with these rules, and the API's schema components of the
ingest bodies are written from them (``footfall/api/v1/serializers.py``,
``FormatSchema``), so what the schema shows is what ingest checks;
``tests/footfall/test_formats.py`` runs a JSON Schema validator and the
adapters over the same records and finds them agreeing.

Why not the serializers themselves: a batch holds 5,000 records, and DRF's
serializers read the canonical batch in 159 ms against 18 ms for the
adapters (measured on the bench's records), when the whole ingest runs at
about 25 microseconds a record.

What a rule checks is the value alone; a record that breaks a rule is
rejected on its own with a per-record error (the batch still answers 200),
and the rules the schema cannot state (a calendar date that does not exist,
an end before its start, the interval-mode bound on counts) are checked by
ingest and said in the descriptions."""

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

# A batch is answered within about a second at this size (see
# loadtests/bench_footfall.py) and fits the 4 MiB body cap in every format:
# a canonical record is about 130 bytes, a Xovis record about 260.
MAX_BATCH_RECORDS = 5000
# More people than cross any door in a day: a larger value is a device fault.
MAX_COUNT = 1_000_000
MAX_CUMULATIVE = 2**53
# Device sample counters are 16-bit.
MAX_SAMPLES = 32767

# The control-character rule of gateway.api.strict.is_clean_text as a JSON
# Schema pattern (the same as gateway.api.params.NO_CONTROL_CHARACTERS).
CLEAN_TEXT = r"^[^\x00-\x1f\x7f-\x9f]*$"
# The times parse_timestamp reads as text, as the schema states them: a
# date, T (or a space), hours and minutes, optional seconds and fraction,
# optional offset (Z, +hh, +hhmm, +hh:mm). Python's fromisoformat, which
# does the reading, also takes rarer ISO 8601 forms (week dates, times
# without colons): read, never promised.
_TIME_TEXT = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?"
    r" ?(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)
# Unix time read by parse_timestamp: seconds, or milliseconds above this.
_MILLISECONDS_FROM = 100_000_000_000
# Year 1 and year 9999 as Unix seconds: datetime's range.
_FIRST_SECOND, _LAST_MILLISECOND = -62_135_596_800, 253_402_300_799_999
_DIGITS = re.compile(r"\s*[0-9]+\s*")


def parse_timestamp(value: Any) -> dt.datetime:
    """RFC 3339 (offset optional: without one the time is store-local),
    ``YYYY-MM-DD HH:MM:SS``, or Unix seconds / milliseconds (UTC). Raises
    ValueError (or OverflowError, OSError) when ``value`` is none of them."""
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value / 1000 if value > _MILLISECONDS_FROM else value
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    if not isinstance(value, str) or len(value) < 16 or value[10] not in "Tt ":
        raise ValueError("not a date-time")
    return dt.datetime.fromisoformat(value)


def whole_number(value: Any) -> int | None:
    """A JSON integer (not a boolean), or a text of ASCII digits (a CSV cell,
    blanks around it allowed); None for anything else."""
    if isinstance(value, str):
        return int(value) if _DIGITS.fullmatch(value) else None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _described(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {**schema, "description": description} if description else schema


@dataclass(frozen=True)
class Instant:
    """A time (``parse_timestamp``) under ``key``; its errors name ``name``."""

    key: str
    name: str
    description: str = ""

    def schema(self) -> dict[str, Any]:
        text = {"type": "string", "pattern": f"^{_TIME_TEXT}$"}
        unix = {"type": "integer", "minimum": _FIRST_SECOND, "maximum": _LAST_MILLISECOND}
        return _described({"anyOf": [text, unix]}, self.description)


@dataclass(frozen=True)
class Count:
    """A whole number (``whole_number``) from ``minimum`` to ``maximum``
    under ``key``; its errors name ``name``. ``optional``: may be absent
    or null."""

    key: str
    name: str
    maximum: int
    minimum: int = 0
    optional: bool = False
    description: str = ""

    def schema(self) -> dict[str, Any]:
        number = {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}
        kinds: list[dict[str, Any]] = [number, {"type": "string", "pattern": f"^{_DIGITS.pattern}$"}]
        if self.optional:
            kinds.append({"type": "null"})
        return _described({"anyOf": kinds}, self.description)


@dataclass(frozen=True)
class Code:
    """A code naming a row (a sensor) under ``key``: text of at least one
    character, no control character."""

    key: str
    description: str = ""

    def schema(self) -> dict[str, Any]:
        return _described({"type": "string", "minLength": 1, "pattern": CLEAN_TEXT}, self.description)


_COUNT_HELP = (
    f"A whole number (a text of digits is read as one), at most {MAX_COUNT:,} per interval; "
    "running totals (counting=cumulative) up to 2^53."
)
_SAMPLES_HELP = "Give both samples and samples_expected, or neither; samples <= samples_expected."


@dataclass(frozen=True)
class IntervalFormat:
    """One record format: where a record keeps its sensor (when it names
    one), times, counts and completeness. Keys not named here are ignored,
    never refused (devices add their own)."""

    start: Instant
    end: Instant
    entries: Count
    exits: Count
    sensor: Code | None = None
    # The key of the batch's list of records (a JSON body), when the format has one.
    batch_key: str | None = None
    # Where entries and exits come from when not from keys of their own (a
    # Xovis record's list of counters).
    counts_key: str | None = None
    samples: Count = Count("samples", "samples", MAX_SAMPLES, optional=True, description="Samples received.")
    samples_expected: Count = Count(
        "samples_expected", "samples_expected", MAX_SAMPLES, minimum=1, optional=True, description=_SAMPLES_HELP
    )
    description: str = ""

    # (key, name) of start, end, entries and exits, flat: what the adapters
    # unpack once per record (one attribute read instead of sixteen).
    reading: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rules = (self.start, self.end, self.entries, self.exits)
        object.__setattr__(self, "reading", tuple(part for rule in rules for part in (rule.key, rule.name)))

    def fields(self) -> list[Code | Instant | Count]:
        """The rules of the record's own keys, in the order ingest reads them."""
        head: list[Code | Instant | Count] = [self.sensor] if self.sensor else []
        counts = [] if self.counts_key else [self.entries, self.exits]
        return [*head, self.start, self.end, *counts, self.samples, self.samples_expected]

    def required(self) -> list[str]:
        keys = [rule.key for rule in self.fields() if not getattr(rule, "optional", False)]
        return sorted(keys + ([self.counts_key] if self.counts_key else []))

    def schema(self, counts: dict[str, Any] | None = None) -> dict[str, Any]:
        """The record as a JSON Schema object (``counts``: the schema of the
        counts list, for a format with a ``counts_key``). Completeness comes
        in pairs: one of samples / samples_expected given (not null) needs
        the other."""
        pair = (self.samples.key, self.samples_expected.key)
        not_null = {"not": {"type": "null"}}
        both = [
            {
                "if": {"required": [one], "properties": {one: not_null}},
                "then": {"required": [other], "properties": {other: not_null}},
            }
            for one, other in (pair, pair[::-1])
        ]
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {rule.key: rule.schema() for rule in self.fields()}
            | ({self.counts_key: counts or {"type": "array"}} if self.counts_key else {}),
            "required": self.required(),
            "allOf": both,
        }
        return _described(schema, self.description)


_REJECTED_ALONE = (
    "A record that does not match is rejected on its own (status rejected, with its errors); the others are "
    "still stored. Other keys are ignored."
)

CANONICAL = IntervalFormat(
    sensor=Code("sensor", "Sensor code."),
    start=Instant(
        "start",
        "start",
        "RFC 3339, or Unix time in seconds or milliseconds. Without an offset the time is read in the store's zone "
        "(a repeated local hour: the first record with that local start is the first occurrence).",
    ),
    end=Instant("end", "end", "As start; after it, at most one day later."),
    entries=Count(
        "in", "in", MAX_CUMULATIVE, description="Entries (window sensors: one walking direction). " + _COUNT_HELP
    ),
    exits=Count(
        "out", "out", MAX_CUMULATIVE, description="Exits (window sensors: the other direction). " + _COUNT_HELP
    ),
    batch_key="intervals",
    description=_REJECTED_ALONE,
)

AXIS = IntervalFormat(
    start=Instant("start", "start", 'Store-local time without offset, "2026-03-29 10:00:00".'),
    end=Instant("end", "end", "As start; after it, at most one day later."),
    entries=Count("in", "in", MAX_CUMULATIVE, description=_COUNT_HELP),
    exits=Count("out", "out", MAX_CUMULATIVE, description=_COUNT_HELP),
    batch_key="data",
    description=_REJECTED_ALONE,
)

# A Xovis record's counts are read from its counts list (fw = in, bw = out;
# see adapters._xovis_counts) into the keys in and out.
XOVIS = IntervalFormat(
    start=Instant("from", "start", "RFC 3339, or Unix time in seconds or milliseconds (numbers)."),
    end=Instant("to", "end", "As from; after it, at most one day later."),
    entries=Count("in", "in", MAX_CUMULATIVE),
    exits=Count("out", "out", MAX_CUMULATIVE),
    counts_key="counts",
    description=_REJECTED_ALONE,
)
XOVIS_COUNT_VALUE = Count("value", "in", MAX_CUMULATIVE, description=_COUNT_HELP)

# CSV: one row per interval, the columns named by the header (any order);
# without a sensor column the sensor query parameter names it.
CSV = IntervalFormat(
    sensor=Code("sensor"),
    start=CANONICAL.start,
    end=CANONICAL.end,
    entries=CANONICAL.entries,
    exits=CANONICAL.exits,
)


# ------------------------------------------------------------------ till sales

MAX_TICKETS = 1_000_000
MAX_REVENUE_DIGITS = 12  # 999,999,999,999.99: the column's 14 digits, 2 of them decimals
MAX_REGISTER = 40
CURRENCY = r"^[A-Z]{3}$"
# A decimal string with at most two decimals and at most MAX_REVENUE_DIGITS
# before the point (what footfall.services.sales reads as an amount).
REVENUE_AMOUNT = rf"^-?[0-9]{{1,{MAX_REVENUE_DIGITS}}}(?:\.[0-9]{{1,2}})?$"


@dataclass(frozen=True)
class SalesFormat:
    """A till sales record (``footfall.services.sales`` reads it by these
    keys and bounds). Keys not named here are ignored."""

    store: str = "store"
    register: str = "register"
    start: Instant = Instant("start", "start", "RFC 3339 or Unix time; without an offset, store-local time.")
    end: Instant = Instant("end", "end", "As start; after it, at most one day later.")
    tickets: str = "tickets"
    revenue: str = "revenue"
    batch_key: str = "intervals"

    def schema(self) -> dict[str, Any]:
        money = {
            "type": "object",
            "description": 'Net revenue, {"amount": "123.45", "currency": "EUR"}.',
            "properties": {
                "amount": {"type": "string", "pattern": REVENUE_AMOUNT, "description": "At most 2 decimals."},
                "currency": {"type": "string", "pattern": CURRENCY, "description": "ISO 4217 code."},
            },
            "required": ["amount", "currency"],
        }
        properties: dict[str, Any] = {
            self.store: {
                "type": "string",
                "pattern": CLEAN_TEXT,
                "description": "Store code; a store client may leave it out (or send an empty one).",
            },
            self.register: {
                "type": "string",
                "maxLength": MAX_REGISTER,
                "pattern": CLEAN_TEXT,
                "description": "Till id (may be empty); each till posts its own.",
            },
            self.start.key: self.start.schema(),
            self.end.key: self.end.schema(),
            self.tickets: {"type": "integer", "minimum": 0, "maximum": MAX_TICKETS, "description": "Net of voids."},
            self.revenue: money,
        }
        required = sorted([self.start.key, self.end.key, self.tickets, self.revenue])
        return {
            "type": "object",
            "properties": properties,
            "required": required,
            "description": _REJECTED_ALONE,
        }


SALES = SalesFormat()
