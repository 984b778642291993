"""Every raw SQL statement of click-and-collect, one module per concern:
``slots`` (the guarded counters of pickup slots and holds, the refusal
diagnosis, the day release, the staff change of a slot), ``orders`` (the
order insert, status changes, the no-show sweep), ``locks`` (the row locks
of ``commerce.locks``) and ``clock`` (the database clock).

Statements are written with ``gateway.sql.statement()``: commerce's table
and column names come from its models. Inventory's rows are read only through
the fragment inventory publishes (``inventory.sql.COLLECT_STORES``), given to
``statement()`` as a string part (``{stores}``); commerce never spells an
inventory table or column.

Every text is built once, when the module is imported, and is the same
string on every call: psycopg prepares a statement after it has run
``DB_PREPARE_THRESHOLD`` times on a connection and keys it by its text, so a
statement formatted per call would be parsed and planned again on every
order of the midnight rush."""
