"""Footfall's SQL home: every raw statement of the app, with table and column
names taken from the models (``gateway.sql.statement``), so a renamed field
fails at import and ``tests/gateway/test_sql.py`` parses each statement
against the migrated schema. One module per concern:

- ``counts``: ingest of count intervals (overlap check, running totals, the
  set-based upsert, the daily totals it rebuilds);
- ``sales``: till sales, collected click-and-collect orders and the daily
  sales both rebuild;
- ``reads``: aggregates, KPIs and report figures;
- ``anomalies``: the notifier's hourly series;
- ``locks``: advisory locks (no table);
- ``sensors``: the names of the sensor table's unique constraints.

Footfall reads no other app's table here: stores, orders and events come
through their owners' selectors (``inventory.selectors``,
``commerce.selectors``, ``partners.selectors``)."""
