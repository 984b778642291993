"""The one way the apps write raw SQL: statements whose table and column names
come from the models, registered so that the test suite asks PostgreSQL to
parse every one of them against the migrated schema.

Raw SQL lives only in each app's SQL home (``<app>/sql.py``, or a ``sql/``
package when it grows) and is written with :func:`statement`::

    from commerce.models import PickupSlot

    BOOK = statement(
        '''
        UPDATE {slot} s SET {slot.booked} = s.booked + 1
        WHERE s.id = %(slot)s AND s.booked + s.held < s.capacity
        ''',
        slot=PickupSlot,
    )

- ``{slot}`` becomes the model's table (``PickupSlot._meta.db_table``) and
  ``{slot.booked}`` the field's column (a foreign key ``{slot.store}`` gives
  ``store_id``). An unknown field raises :class:`ImproperlyConfigured` when
  the module is imported, so a renamed field fails at start-up, not at the
  midnight rush.
- Column names written plainly after an alias (``s.booked`` above) are checked
  too, by PostgreSQL: ``tests/gateway/test_sql.py`` prepares every registered
  statement (``PREPARE``, which parses and resolves every name without running
  anything), so a column that no longer exists fails the suite.
- Literal braces (a JSON or array literal) are doubled: ``'{{}}'``.
- A keyword given as a string is a fragment, inserted as it is: ``{stores}``
  with ``stores=COLLECT_STORES`` (its own braces are not read again).
- A row read back as a model instance lists the model's columns with
  ``{columns}`` and ``columns=columns(Location, "l")`` (:func:`instance_of_row`).
- A small array parameter of a hot statement (a basket's SKUs, an order's
  product ids) goes in as ``{ids}`` with ``ids=opaque("ids", "bigint[]")``,
  so that PostgreSQL keeps the statement's generic plan instead of planning
  it on every call (:func:`opaque` says why).
- An app writes SQL against its own tables only. When a statement must read
  another app's rows in the same statement (the hot paths cannot afford a
  second round trip), the owning app's SQL home publishes a named fragment
  (a function returning SQL text) and the caller composes it; the caller never
  names the other app's tables or columns.

The helpers below the registry serve the set-based statements that take
thousands of values: :func:`int_array` for a column of integers with Django's
cursor, and :func:`bulk_fetch` / :func:`bulk_execute` / :func:`staged_fetch`
for server-side binary binding through psycopg on the same connection.
"""

import string
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import IntegrityError, connection, models


@dataclass(frozen=True)
class Statement:
    """One registered SQL text, the module that declared it and its models."""

    sql: str
    module: str
    models: tuple[type[models.Model], ...]


REGISTRY: list[Statement] = []
_M = TypeVar("_M", bound=models.Model)


class _Table:
    """``{alias}`` renders the table; ``{alias.field}`` renders the column."""

    def __init__(self, model: type[models.Model]) -> None:
        self._model = model

    def __str__(self) -> str:
        return self._model._meta.db_table

    def __format__(self, spec: str) -> str:
        return str(self)

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            field = self._model._meta.get_field(name)
        except FieldDoesNotExist as exc:
            raise ImproperlyConfigured(f"SQL names {self._model.__name__}.{name}, which is not a field") from exc
        column = getattr(field, "column", None)
        if not column:
            raise ImproperlyConfigured(f"SQL names {self._model.__name__}.{name}, which has no column")
        return str(column)


class _Formatter(string.Formatter):
    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        head = field_name.split(".", 1)[0].split("[", 1)[0]
        if head not in kwargs:
            raise ImproperlyConfigured(f"SQL names {{{field_name}}} but no model was given as {head!r}")
        return super().get_field(field_name, args, kwargs)


_FORMATTER = _Formatter()


class _Fragment:
    """``{name}`` renders SQL text given as it is (a published fragment)."""

    def __init__(self, text: str) -> None:
        self._text = text

    def __format__(self, spec: str) -> str:
        return self._text


def _render(sql: str, parts: Mapping[str, "type[models.Model] | str"]) -> str:
    values = {name: _Fragment(part) if isinstance(part, str) else _Table(part) for name, part in parts.items()}
    return _FORMATTER.vformat(sql, (), values)


def statement(sql: str, /, **parts: "type[models.Model] | str") -> str:
    """``sql`` with ``{alias}`` and ``{alias.field}`` resolved from the models
    in ``parts`` and ``{name}`` replaced by the fragments (strings) in it;
    registered for the suite's parse check. Returns plain text, built once at
    import and the same on every call (psycopg keys its prepared statements by
    the text), ready for ``cursor.execute``."""
    text = _render(sql, parts)
    module = sys._getframe(1).f_globals.get("__name__", "?")
    REGISTRY.append(Statement(text, module, tuple(part for part in parts.values() if not isinstance(part, str))))
    return text


def fragment(sql: str, /, **parts: "type[models.Model] | str") -> str:
    """Like :func:`statement` for a piece of a statement (a condition, a
    sub-select) that another statement composes; not registered on its own,
    since only whole statements can be parsed."""
    return _render(sql, parts)


def opaque(param: str | None, sql_type: str) -> str:
    """A placeholder whose value the planner never looks at, as a fragment
    to compose (``{skus}`` with ``skus=opaque("skus", "text[]")``; ``None``
    for a positional ``%s``): the value cast to ``sql_type`` inside a scalar
    sub-select.

    Why: PostgreSQL plans a prepared statement for its values (a custom plan)
    five times, then keeps one generic plan only if its estimate is no worse
    than theirs. An array it cannot see is estimated at ten elements; an
    array it can see and that holds fewer (two to six SKUs, a basket's
    products) makes every custom plan look cheaper, so the statement is
    planned again on every call: on the Black Friday bench the availability
    statements spent 1.8 s planning for 0.5 s running. Inside a sub-select
    the value is an unknown to both plans, their estimates are the same, and
    the generic plan is kept after five calls (``tests/gateway/test_generic_plans.py``).
    Only for statements whose plan does not depend on the value: the
    estimate of every call is then that of an unknown array."""
    placeholder = "%s" if param is None else f"%({param})s"
    return f"CAST((SELECT {placeholder}::{sql_type}) AS {sql_type})"


def columns(model: type[models.Model], alias: str | None = None) -> str:
    """Every column of ``model`` in its field order, as a fragment
    (``{columns}`` with ``columns=columns(Location, "l")``): what
    :func:`instance_of_row` reads back."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(f"{prefix}{field.column}" for field in model._meta.concrete_fields)


def partial_instance(model: type[_M], db: str, /, **values: Any) -> _M:
    """An instance of ``model`` read by a plain statement with only these
    fields (attribute names), the others deferred (read if asked), as the
    ORM's ``only()`` builds it."""
    names = [field.attname for field in model._meta.concrete_fields if field.attname in values]
    return model.from_db(db, names, [values[name] for name in names])


def instance_of_row(model: type[_M], row: Sequence[Any], /) -> _M:
    """An instance of ``model`` from a plain statement's row of every column
    in the model's field order (``{alias}.*`` or the columns listed from
    ``_meta.concrete_fields``), converted as the ORM converts them (jsonb
    comes back as text, for one). Relations are not joined (read if asked)."""
    fields = model._meta.concrete_fields
    values = list(row)
    for index, field in enumerate(fields):
        for convert in field.get_db_converters(connection):  # type: ignore[attr-defined]  # (django-stubs lacks it)
            values[index] = convert(values[index], field.cached_col, connection)
    return model.from_db(connection.alias, [field.attname for field in fields], values)


def violated_constraint(exc: IntegrityError) -> str:
    """The name of the constraint an IntegrityError broke ("" if unknown):
    how a service tells a taken code from a taken device without a read
    before its write (which a concurrent writer could pass)."""
    diag = getattr(exc.__cause__, "diag", None)
    return str(getattr(diag, "constraint_name", "") or "")


def int_array(values: Iterable[int]) -> str:
    """``values`` (ints, never None or bool) as one PostgreSQL array literal
    (``'{1,2,3}'``, cast in the SQL with ``::bigint[]`` or ``::int[]``), built
    by a single C-level join. psycopg adapts a Python list element by element,
    about 1 microsecond a number (5 ms for one column of a 5,000-line sync,
    measured), and a sync sends several columns."""
    return "{" + ",".join(map(str, values)) + "}"


# Django's psycopg cursors bind parameters on the client: large arrays are
# rendered into the SQL text, which costs about 23 ms per 5,000 timestamps.
# These helpers go through a psycopg cursor with server-side binding and binary
# parameters (``%b`` placeholders, about 2 ms), on the same connection and so in
# the caller's transaction.


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
