"""Strict request bodies: the one base every input serializer stands on, the
scalar fields it uses, and the rule for echoing client text in an error.

Why strict: the contract says quantities are JSON integers, amounts decimal
strings and text printable. DRF's own fields coerce (``"3"`` and ``3.0``
become 3, ``12.5`` and ``"1e3"`` become amounts, ``5`` becomes the text
``"5"``), so a client bug passes silently and the same body means different
things to different servers. And anything a client sent that an error echoes
back, a key above all, is stored with the answer for an ``Idempotency-Key``
replay: PostgreSQL's jsonb refuses NUL, so an unsanitised echo is a 500."""

import json
import re
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import Any

from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

# Unicode category Cc (C0 controls, NUL included, DEL and C1 controls) and
# lone surrogates: PostgreSQL text refuses NUL, and a lone surrogate cannot
# be encoded as UTF-8 (neither to the database nor in a JSON answer).
FORBIDDEN_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# The same less tab, line feed and carriage return, which free text (a
# description, a note) may hold.
FORBIDDEN_IN_MULTILINE_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# What a decimal string is: no exponent, no sign but '-', no blank, no
# NaN or Infinity, digits on both sides of the point.
DECIMAL_STRING = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
SHOWN_NAME_LENGTH = 64
BIGINT_MAX = 2**63 - 1
# A body with thousands of bad strings names the first ones; the rest add
# nothing a client needs to find its bug.
MAX_REPORTED = 20

# What a character to refuse looks like in ASCII JSON (json.dumps' default):
# an escape. A match only means "look closer" (an escaped backslash followed
# by "n" matches too); no match means there is nothing to refuse.
_ESCAPED_FORBIDDEN = re.compile(r"\\(?:[bfnrt]|u(?:00[01][0-9a-f]|007f|00[89][0-9a-f]|d[89a-f][0-9a-f]{2}))")
_BAD_KEY = object()  # in refuse_unclean_text's walk: the key itself is refused

UNKNOWN_FIELD = "unknown_field"
INVALID_CHARACTERS = "invalid_characters"


def shown_name(value: object) -> str:
    """Client-sent text (a key, a code) made safe to echo in an error: every
    non-printable character (NUL and other controls, lone surrogates, line
    separators) becomes U+FFFD, and at most SHOWN_NAME_LENGTH characters
    are kept, the last one an ellipsis when cut."""
    text = str(value)
    if len(text) > SHOWN_NAME_LENGTH:
        text = text[: SHOWN_NAME_LENGTH - 1] + "\u2026"
    return "".join(c if c.isprintable() else "\ufffd" for c in text)


def is_clean_text(text: str, *, multiline: bool = False) -> bool:
    """Whether ``text`` is free of control characters (but tab, LF and CR
    when ``multiline``) and lone surrogates."""
    pattern = FORBIDDEN_IN_MULTILINE_TEXT if multiline else FORBIDDEN_CHARACTERS
    return pattern.search(text) is None


def refuse_unclean_text(data: Any) -> None:
    """Raises a 422 naming each place (``intervals.3.sensor``; the first
    MAX_REPORTED, in document order) where a parsed JSON body holds a
    control character or a lone surrogate, in a key or a string value. For
    bodies read by hand rather than by a serializer; walked without
    recursion, so no depth of nesting can break it."""
    if not _may_hold_unclean_text(data):
        return
    errors: dict[str, list[ErrorDetail]] = {}
    stack: list[tuple[str, Any]] = [("", data)]
    while stack and len(errors) < MAX_REPORTED:
        path, value = stack.pop()
        if value is _BAD_KEY or (isinstance(value, str) and FORBIDDEN_CHARACTERS.search(value)):
            message = _("Control characters (such as NUL) and lone surrogates are not allowed.")
            errors[path or "non_field_errors"] = [ErrorDetail(message, code=INVALID_CHARACTERS)]
        elif isinstance(value, Mapping):
            for key, item in reversed(list(value.items())):
                bad_key = FORBIDDEN_CHARACTERS.search(str(key)) is not None
                stack.append((f"{path}.{shown_name(key)}" if path else shown_name(key), _BAD_KEY if bad_key else item))
        elif isinstance(value, list):
            stack.extend(
                (f"{path}.{index}" if path else str(index), value[index]) for index in reversed(range(len(value)))
            )
    if errors:
        raise serializers.ValidationError(errors)


def _may_hold_unclean_text(data: Any) -> bool:
    """A fast screen for refuse_unclean_text: serialising in C and one regex
    cost a tenth of walking a 5,000-record batch in Python."""
    try:
        dumped = json.dumps(data)
    except (RecursionError, TypeError, ValueError):
        return True
    return _ESCAPED_FORBIDDEN.search(dumped) is not None


def refuse_unknown_fields(data: Mapping[str, Any], known: AbstractSet[str]) -> None:
    """Raises a 422 naming (through shown_name) each key of ``data`` not in
    ``known``, with the error code ``unknown_field``."""
    unknown = data.keys() - known
    if unknown:
        raise serializers.ValidationError(
            {shown_name(name): [_("Unknown field.")] for name in sorted(map(str, unknown))}, code=UNKNOWN_FIELD
        )


# Base of every request-body serializer: a field it does not know is refused
# (422 validation_failed, error code unknown_field), not ignored, so a client
# sending ``status`` or ``owner`` where it may not, or a typo, learns it at
# once; the names are echoed through shown_name. Nested input serializers
# (lines, windows, a price) derive from it too, so the rule holds at every
# depth. Its docstring describes every input schema that has none of its own.
class StrictInput(serializers.Serializer[Any]):
    """Fields not listed here are refused (422 `validation_failed`, error code `unknown_field`)."""

    @cached_property
    def _field_names(self) -> frozenset[str]:
        return frozenset(self.fields)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            refuse_unknown_fields(data, self._field_names)
        return super().to_internal_value(data)


# One instance of each input serializer validates every request body
# (``validated_body``), built at its first use.
_SHARED_INPUTS: dict[type[StrictInput], StrictInput] = {}


def validated_body(serializer_class: type[StrictInput], data: Any) -> dict[str, Any]:
    """A request body validated by ``serializer_class`` (a 422 naming each
    field otherwise), the one way views validate their bodies.

    A JSON object goes through ``run_validation`` of one instance shared by
    every request: DRF copies a serializer's declared fields into each new
    instance, which costs more than the validation itself (a till ticket of
    four lines: 0.40-0.44 ms with a fresh instance, 0.12 shared; a status
    change 0.059 against 0.007), and validating keeps
    no state on the instance (no input serializer reads ``initial_data``,
    ``context`` or its parent). It raises the errors ``is_valid`` would.
    Any other body (null, a list, a string) goes through a fresh instance's
    ``is_valid``, so its error keeps DRF's wording."""
    if isinstance(data, Mapping):
        shared = _SHARED_INPUTS.get(serializer_class)
        if shared is None:
            shared = _SHARED_INPUTS.setdefault(serializer_class, serializer_class())
        values: dict[str, Any] = shared.run_validation(data)
        return values
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: ``"3"``, ``3.0`` and ``true`` are refused (DRF's
    IntegerField takes all three). Unbounded sides default to PostgreSQL's
    bigint range, so no integer sent can overflow a query."""

    default_error_messages = {"invalid": gettext_lazy("A JSON integer is required (not text, a decimal or a boolean).")}

    def __init__(self, **kwargs: Any) -> None:
        if kwargs.get("max_value") is None:
            kwargs["max_value"] = BIGINT_MAX
        if kwargs.get("min_value") is None:
            kwargs["min_value"] = -BIGINT_MAX - 1
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        if type(data) is not int:
            self.fail("invalid")
        return data


class DecimalStringField(serializers.DecimalField):
    """An amount as a decimal string (``"12.50"``, ``"-3"``) and nothing
    else: JSON numbers (binary floats), exponents, blanks, NaN and Infinity
    are refused. Digits, decimals and bounds are then DRF's checks."""

    default_error_messages = {
        "invalid": gettext_lazy('A decimal string such as "12.50" is required (not a JSON number).'),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("coerce_to_string", True)  # documented as a string, like the answers
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if type(data) is not str:
            self.fail("invalid")
        if len(data) > self.MAX_STRING_LENGTH:
            self.fail("max_string_length")
        if not DECIMAL_STRING.fullmatch(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """``true`` or ``false`` only (DRF's BooleanField also takes "yes", "on", 1...)."""

    default_error_messages = {"invalid": gettext_lazy("A JSON boolean (true or false) is required.")}

    def to_internal_value(self, data: Any) -> bool:
        if type(data) is not bool:
            self.fail("invalid")
        return data


class _StrictText:
    """Text only (DRF's text fields turn the number 5 into "5"), with no
    control character or lone surrogate; ``multiline`` text keeps tab, LF
    and CR."""

    def __init__(self, *args: Any, multiline: bool = False, **kwargs: Any) -> None:
        self.multiline = multiline
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if type(data) is not str:
            raise serializers.ValidationError(_("Text is required."), code="invalid")
        if not is_clean_text(data, multiline=self.multiline):
            raise serializers.ValidationError(
                _("Control characters (such as NUL) and lone surrogates are not allowed."), code=INVALID_CHARACTERS
            )
        value: str = super().to_internal_value(data)  # type: ignore[misc]  # the text field's, mixed in after
        return value


class StrictCharField(_StrictText, serializers.CharField):
    pass


class StrictRegexField(_StrictText, serializers.RegexField):
    pass


class StrictSlugField(_StrictText, serializers.SlugField):
    pass


class MoneyInput(StrictInput):
    """``{"amount": "10.00", "currency": "EUR"}`` in a request body."""

    amount = DecimalStringField(max_digits=14, decimal_places=2)
    currency = StrictRegexField(r"^[A-Z]{3}$", help_text="ISO 4217 code.")
