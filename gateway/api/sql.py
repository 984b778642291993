"""Every raw SQL statement of the shared API layer, with table and column
names from the models (``gateway.sql``): the bearer-token lookup, the two
statements and the advisory locks of every ``Idempotency-Key`` write, and
the readiness probe.

The tables are the api app's (``IdempotencyRecord``) and the OAuth
toolkit's, reached through its swappable-model getters: the gateway sits
below the domain apps and never imports them (the client model is
``partners.ApiClient`` only by setting). Every text is built once, at
import, and is the same on every call, so psycopg prepares it by its text
after ``DB_PREPARE_THRESHOLD`` runs on a connection: the token lookup runs
on every request and the idempotency statements on every order."""

import string
from typing import Any

from django.db import models
from oauth2_provider.models import get_access_token_model, get_application_model

from gateway.api.models import IdempotencyRecord
from gateway.sql import statement

AccessToken = get_access_token_model()
ApiClient = get_application_model()
Partner: type[models.Model] = ApiClient._meta.get_field("partner").related_model

# ---------------------------------------------------------------- bearer tokens (gateway/api/auth.py)

# The models whose rows a token lookup answers, in the order of its columns:
# every concrete field of each, in model order (token, client, partner).
TOKEN_LOOKUP_MODELS: tuple[tuple[str, type[models.Model]], ...] = (
    ("t", AccessToken),
    ("a", ApiClient),
    ("p", Partner),
)


def _columns(alias: str, model: type[models.Model]) -> list[str]:
    fields: Any = model._meta.concrete_fields
    return [f'{alias}."{{{alias}.{field.name}}}"' for field in fields]


# The token (parameter: its checksum) with its client and the client's
# partner (NULLs when it has none); no row for an unknown token.
_TOKEN_COLUMNS = ", ".join(column for alias, model in TOKEN_LOOKUP_MODELS for column in _columns(alias, model))
TOKEN_LOOKUP = statement(
    string.Template(
        """
        SELECT $columns
        FROM {t} t
        JOIN {a} a ON a.id = t.application_id
        LEFT JOIN {p} p ON p.id = a.partner_id
        WHERE t.token_checksum = %s
        """
    ).substitute(columns=_TOKEN_COLUMNS),
    t=AccessToken,
    a=ApiClient,
    p=Partner,
)

# ---------------------------------------------------------------- Idempotency-Key (gateway/api/idempotency.py)
# Plain SQL for the statements every keyed write runs: the ORM's compilation
# cost more than the statements themselves (about 1 ms of CPU per order,
# measured on the midnight bench).

# The stored outcome of a key (parameters: scope, key).
IDEMPOTENCY_FIND = statement(
    """
    SELECT fingerprint, status_code, response_body::text, response_headers::text
    FROM {r} WHERE scope = %s AND key = %s
    """,
    r=IdempotencyRecord,
)

# Stores an outcome (parameters: scope, key, fingerprint, status, body and
# headers as JSON text).
IDEMPOTENCY_STORE = statement(
    """
    INSERT INTO {r}
        ({r.scope}, {r.key}, {r.fingerprint}, {r.status_code}, {r.response_body}, {r.response_headers},
         {r.created_at})
    VALUES (%s, %s, %s, %s, %s::jsonb, %s::jsonb, now())
    """,
    r=IdempotencyRecord,
)

# The transaction-scoped lock on (client, key) (parameter: the lock id): the
# first request takes it, a concurrent duplicate is told it is in progress.
IDEMPOTENCY_TRY_LOCK = statement("SELECT pg_try_advisory_xact_lock(%s)")
# The same lock, waited for, to store an answer after a rollback.
IDEMPOTENCY_LOCK = statement("SELECT pg_advisory_xact_lock(%s)")

# ---------------------------------------------------------------- health (gateway/api/views.py)

# The database answers.
DATABASE_PROBE = statement("SELECT 1")
