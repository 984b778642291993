"""Refusing without rolling back: the one way a service says "no" from
inside a transaction without costing the connection its prepared statements.

Why it exists: psycopg forgets every statement the connection had prepared
(it sends ``DEALLOCATE ALL``) on any command whose status is ``ROLLBACK``,
``ROLLBACK TO SAVEPOINT`` included (gateway/settings/base.py,
``DB_PREPARE_THRESHOLD``). A request that PostgreSQL refused by matching no
row of a guarded ``UPDATE`` wrote nothing, so there is nothing to undo, yet
leaving its ``transaction.atomic()`` block by an exception rolls back all the
same. On the midnight rush a third of the order requests are refused that
way; rolling each back re-planned every statement of the next ones and cost
PostgreSQL 4.5 instead of 2.1-2.7 ms of CPU per order.

How to use it::

    with refusable_atomic():
        row = take_one_unit(...)          # raises Refusal(SlotFull(...)) when it matched no row
        ...

- Code that decides to refuse *before it wrote anything that must be undone*
  raises ``Refusal(error)``. Whatever the block wrote before that stands (for
  example expired holds given back on the way, which are right on their own).
- ``refusable_atomic()`` leaves its block normally (``RELEASE SAVEPOINT`` or
  ``COMMIT``) and raises ``error`` after it, marked with
  ``refused_without_rollback(error) is True`` so that an enclosing unit of work
  (the ``Idempotency-Key`` wrapper) knows it may keep its own transaction too.
- Any other exception rolls the block back as ``transaction.atomic()`` does.

``wrote_nothing()`` asks PostgreSQL whether the current transaction has
written anything at all (a transaction id is assigned at its first write, not
by reads or advisory locks), for a caller that must choose between keeping and
rolling back a transaction after an error it did not raise itself."""

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from django.db import connection, transaction

_MARK = "_refused_without_rollback"


class Refusal(Exception):  # not an error of its own: it carries the error to raise after the block
    """Raised inside ``refusable_atomic()``: nothing that must be undone was
    written, and ``error`` is the answer to give."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class refusable_atomic:  # used like transaction.atomic, so named like it
    """``transaction.atomic()`` (a transaction, or a savepoint inside one)
    that a ``Refusal`` leaves by committing or releasing, not rolling back;
    the refusal's error is raised after the block."""

    def __init__(self) -> None:
        self._atomic: Any = transaction.atomic()

    def __enter__(self) -> None:
        self._atomic.__enter__()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> bool | None:
        if isinstance(exc, Refusal):
            self._atomic.__exit__(None, None, None)
            setattr(exc.error, _MARK, True)
            raise exc.error from None
        result: bool | None = self._atomic.__exit__(exc_type, exc, traceback)
        return result


@contextmanager
def refusals_roll_back(wrote: bool) -> Iterator[None]:
    """Around a step that may raise ``Refusal`` once earlier steps of the same
    ``refusable_atomic()`` block have written what a refusal must undo
    (``wrote`` True): the refusal leaves as its plain error, so the block
    rolls back. With ``wrote`` False it passes through unchanged."""
    try:
        yield
    except Refusal as refusal:
        if wrote:
            raise refusal.error from None
        raise


def refused_without_rollback(error: BaseException) -> bool:
    """True for an error raised by ``refusable_atomic()`` for a ``Refusal``."""
    return getattr(error, _MARK, False) is True


def wrote_nothing() -> bool:
    """True when the current transaction has written nothing so far (nor
    locked a row), so committing it instead of rolling it back changes no
    data. One statement; outside a transaction, or in one already doomed to
    roll back, the answer is False."""
    if connection.needs_rollback or not connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id_if_assigned() IS NULL")
        row = cursor.fetchone()
    return bool(row and row[0])
