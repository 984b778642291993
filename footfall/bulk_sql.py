"""Set-based statements with large array parameters (a batch of 5,000
intervals is ten arrays of 5,000 values).

Django's psycopg cursors bind parameters on the client: the arrays are
rendered into the SQL text, which costs about 23 ms per 5,000 timestamps.
These statements instead go through a psycopg cursor with server-side
binding and binary parameters (``%b`` placeholders, about 2 ms), on the
same connection and so in the caller's transaction."""

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from django.db import connection


def _cursor() -> psycopg.Cursor[Any]:
    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def bulk_fetch(sql: str, params: Sequence[Any] | Mapping[str, Any]) -> list[tuple[Any, ...]]:
    with _cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def bulk_execute(sql: str, params: Sequence[Any] | Mapping[str, Any]) -> int:
    with _cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def staged_fetch(
    *, stage: str, columns: str, types: Sequence[str], rows: Sequence[Sequence[Any]], sql: str
) -> list[tuple[Any, ...]]:
    """Copy ``rows`` into the session's temporary table ``stage`` (binary
    COPY, formatted in C: the cheapest way to hand PostgreSQL thousands of
    rows), then run ``sql`` reading it. The table is created once per
    connection and emptied before each use and at every commit."""
    definition = ", ".join(f"{name} {kind}" for name, kind in zip(columns.split(","), types, strict=True))
    with _cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} ({definition}) ON COMMIT DELETE ROWS")
        cursor.execute(f"TRUNCATE {stage}")
        with cursor.copy(f"COPY {stage} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(list(types))
            for row in rows:
                copy.write_row(row)
        cursor.execute(sql)
        return cursor.fetchall()
