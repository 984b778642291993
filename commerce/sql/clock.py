"""The database clock (``commerce.clock``)."""

from gateway.sql import statement

NOW = statement("SELECT now()")
