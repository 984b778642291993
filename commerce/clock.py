"""The database clock: every "has it opened / expired yet" decision in
commerce reads PostgreSQL's ``now()``, never an app server's clock, so web
processes with skewed clocks still agree (and agree with the SQL gates)."""

import datetime as dt

from django.db import connection

from commerce.sql.clock import NOW


def db_now() -> dt.datetime:
    """``now()`` of the current transaction (or statement, outside one)."""
    with connection.cursor() as cursor:
        cursor.execute(NOW)
        value: dt.datetime = cursor.fetchone()[0]
    return value
