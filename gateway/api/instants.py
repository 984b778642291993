"""Instants written as text, one way everywhere: UTC with ``Z``.

Response bodies get theirs from DRF's DateTimeField (``DATETIME_FORMAT =
"iso-8601"`` with ``TIME_ZONE = "UTC"``: ``2026-03-29T00:00:00Z``, or
``2026-03-29T00:00:00.250000Z`` when there are microseconds). Whatever writes
an instant by hand (problem extras, outbox event payloads, webhook envelopes,
JSON that PostgreSQL builds) uses these, so a client parses one form and
compares the text of one instant across endpoints. Store-local times that
carry the store's offset on purpose (footfall periods) are not instants of
this kind and keep their offset."""

import datetime as dt


def instant_text(value: dt.datetime) -> str:
    """``value`` in UTC as RFC 3339 with ``Z``, character for character what a
    DRF DateTimeField writes: microseconds (six digits) only when non-zero."""
    if value.utcoffset() is None:
        raise ValueError("A naive datetime names no instant; give it a time zone.")
    return value.astimezone(dt.UTC).isoformat().removesuffix("+00:00") + "Z"


def instant_sql(column: str) -> str:
    """SQL writing the ``timestamptz`` expression ``column`` (a column or an
    alias of ours, never a value) as ``instant_text`` writes it, for JSON built
    in PostgreSQL: its own JSON form of a timestamptz has the session's offset
    (``+00:00``) and trims the trailing zeros of fractions (``.25``)."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS')"
        f" || CASE WHEN date_trunc('second', {utc}) = {utc} THEN '' ELSE to_char({utc}, '.US') END"
        " || 'Z'"
    )
