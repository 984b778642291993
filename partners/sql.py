"""Every raw SQL text of partners, with table and column names from the
models (``gateway.sql``): the outbox INSERT (one statement per batch of
events), the row locks the ORM cannot write (``FOR KEY SHARE``, an advisory
lock) and the snapshot conditions of the events feed.

Every text is built once, at import, and is the same on every call: psycopg
prepares a statement by its text once a connection has run it
``DB_PREPARE_THRESHOLD`` times, and the outbox INSERT runs in every order of
the midnight rush."""

from gateway.sql import columns, fragment, statement
from partners.models import ApiClient, Event, WebhookAttempt, WebhookDelivery, WebhookSubscription

# ---------------------------------------------------------------- published for other apps

# The API clients as another app shows who acted: ``id``, ``kind`` and
# ``client_id`` (the OAuth client identifier).
CLIENT_IDENTITIES = fragment(
    "(SELECT {c.id} AS id, {c.kind} AS kind, {c.client_id} AS client_id FROM {c})",
    c=ApiClient,
)

# ---------------------------------------------------------------- outbox (partners/services/events.py)

# The events of one batch, each column sent as one JSON array (types, partner
# ids, subjects, payloads); answers one row: the ids as text, in the order
# given, the transaction id and the time.
EVENTS_INSERT = statement(
    """
    WITH inserted AS (
        INSERT INTO {e} ({e.type}, {e.partner}, {e.subject}, {e.payload}, {e.created_at})
        SELECT e.type, e.partner_id::bigint, e.subject, e.payload, statement_timestamp()
        FROM ROWS FROM (
            jsonb_array_elements_text(%s::jsonb),
            jsonb_array_elements_text(%s::jsonb),
            jsonb_array_elements_text(%s::jsonb),
            jsonb_array_elements(%s::jsonb)
        ) WITH ORDINALITY AS e(type, partner_id, subject, payload, n)
        ORDER BY e.n
        RETURNING id
    )
    SELECT string_agg(id::text, ',' ORDER BY id), pg_current_xact_id()::text::bigint, statement_timestamp()
    FROM inserted
    """,
    e=Event,
)

# The payload fields that name the read cache's version keys (parameters: the
# field names, event ids, the event types that touch the cache), as one JSON
# object per event: the fan-out's backstop bump (gateway/api/readcache.py).
EVENTS_CACHE_FIELDS = statement(
    """
    SELECT e.type, (SELECT jsonb_object_agg(k, e.payload -> k) FROM unnest(%s::text[]) AS k WHERE e.payload ? k)
    FROM {e} e WHERE e.id = ANY(%s) AND e.type = ANY(%s)
    """,
    e=Event,
)

# ---------------------------------------------------------------- locks (partners/locks.py)
# Django's ORM locks FOR UPDATE and FOR NO KEY UPDATE only; KEY SHARE is written out.

# One subscription, KEY SHARE (parameter: its id); no row once deleted.
SUBSCRIPTION_KEY_SHARE = statement("SELECT 1 FROM {w} WHERE id = %s FOR KEY SHARE", w=WebhookSubscription)

# The active subscriptions that may receive events of some partners (theirs
# and the operator's), KEY SHARE, in id order (parameter: the partner ids),
# with only what matching events reads.
SUBSCRIPTIONS_FOR_FAN_OUT = statement(
    """
    SELECT id, {w.partner}, {w.event_types} FROM {w}
    WHERE is_active AND (partner_id IS NULL OR partner_id = ANY(%s)) ORDER BY id FOR KEY SHARE
    """,
    w=WebhookSubscription,
)

# Serialises the operator's subscription creations (parameter: the key).
ADVISORY_LOCK = statement("SELECT pg_advisory_xact_lock(%s)")

# One delivery FOR UPDATE, every column (parameter: its id); no row once deleted.
DELIVERY_FOR_UPDATE = statement(
    "SELECT {columns} FROM {d} d WHERE d.id = %s FOR UPDATE",
    d=WebhookDelivery,
    columns=columns(WebhookDelivery, "d"),
)

# ---------------------------------------------------------------- webhook attempts (partners/services/delivery.py)

# Claims a due delivery with a lease and reads what its attempt sends, in one
# statement (params: ``id``, ``now``, ``lease``, the lease's end): the
# delivery's, its subscription's and its event's columns, in the models' field
# order; no row when nothing is due. The conditions that make the claim are
# on the delivery's own row, so a concurrent claimant re-checks them against
# the row the first one wrote (PostgreSQL's re-check of an updated row) and
# gets none.
DELIVERY_CLAIM = statement(
    """
    UPDATE {d} d SET {d.leased_until} = %(lease)s
    FROM {w} w, {e} e
    WHERE d.id = %(id)s AND d.{d.status} = 'pending' AND d.{d.next_attempt_at} <= %(now)s
      AND (d.{d.leased_until} IS NULL OR d.{d.leased_until} <= %(now)s)
      AND w.id = d.{d.subscription} AND e.id = d.{d.event}
    RETURNING {columns}
    """,
    d=WebhookDelivery,
    w=WebhookSubscription,
    e=Event,
    columns=", ".join([columns(WebhookDelivery, "d"), columns(WebhookSubscription, "w"), columns(Event, "e")]),
)

# An attempt's record, in one statement: the attempt logged, the delivery's
# next step written (its lease and any manual request cleared), and the
# subscription's failure clock started at a failure or stopped at a success
# (a no-op when it already shows that). Params: ``delivery``,
# ``subscription``, ``number``, ``trigger``, ``now``, ``duration``,
# ``status_code``, ``succeeded``, ``error``, ``excerpt``, ``status``,
# ``next`` (the next attempt's time or NULL), ``scheduled`` (the scheduled
# attempts so far), ``updated`` (the delivery's ``updated_at``). Answers the
# attempt's id.
ATTEMPT_RECORD = statement(
    """
    WITH attempt AS (
        INSERT INTO {a} ({a.delivery}, {a.number}, {a.trigger}, {a.attempted_at}, {a.duration_ms}, {a.status_code},
                         {a.succeeded}, {a.error}, {a.response_excerpt})
        VALUES (%(delivery)s, %(number)s, %(trigger)s, %(now)s, %(duration)s, %(status_code)s, %(succeeded)s,
                %(error)s, %(excerpt)s)
        RETURNING id
    ), delivery AS (
        UPDATE {d} SET {d.status} = %(status)s, {d.next_attempt_at} = %(next)s, {d.leased_until} = NULL,
                       {d.manual_requested} = false, {d.attempt_count} = %(number)s,
                       {d.scheduled_attempts} = %(scheduled)s, {d.last_attempt_at} = %(now)s,
                       {d.last_status_code} = %(status_code)s,
                       {d.delivered_at} = CASE WHEN %(succeeded)s THEN %(now)s ELSE {d.delivered_at} END,
                       {d.updated_at} = %(updated)s
        WHERE id = %(delivery)s
    ), health AS (
        UPDATE {w} SET {w.failing_since} = CASE WHEN %(succeeded)s THEN NULL ELSE %(now)s END,
                       {w.version} = {w.version} + 1, {w.updated_at} = %(now)s
        WHERE id = %(subscription)s AND ({w.failing_since} IS NOT NULL) = %(succeeded)s
    )
    SELECT id FROM attempt
    """,
    a=WebhookAttempt,
    d=WebhookDelivery,
    w=WebhookSubscription,
)

# ---------------------------------------------------------------- events feed (partners/selectors.py)

# An event is shown once every transaction that started before its own has
# ended: its txid is below the oldest running one (compared with ``Event.txid``).
OLDEST_RUNNING_TXID = fragment("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
# The current transaction's id if it has written (it sees its own events).
OWN_TXID = fragment("pg_current_xact_id_if_assigned()::text::bigint")

# A page of the feed as ``partners.selectors.events_feed`` reads it, the
# conditions of ``events_visible_to`` and ``events_in_feed_order`` written out
# (params: ``after_txid`` and ``after_id``, the position read on from, (-1, 0)
# from the start; ``types``, the types asked, empty for all; ``limit``; and
# for a partner's page ``partner``). Answers one row: the page as one JSON
# array (NULL when empty) of [id, txid, type, subject, partner id,
# created_at, payload] in feed order, which psycopg decodes in one pass (500
# payloads decoded one by one and 500 timestamps parsed cost more than the
# fetch). Two statements, the operator's and a partner's, and the position as
# a plain row comparison: the conditions an index can start from
# (``event_feed_idx``, ``event_partner_feed_idx``) stay index conditions
# under the generic plan PostgreSQL keeps for a prepared statement, where
# "param IS NULL OR ..." would make a partner reading on from a late cursor
# walk every older event (345 ms for 662,841 events, measured). Held equal
# to the querysets by tests/partners/test_feed_sql.py.
_FEED_PAGE = """
    SELECT json_agg(
        json_build_array(p.id, p.txid, p.type, p.subject, p.partner_id, p.created_at, p.payload)
        ORDER BY p.txid, p.id
    )
    FROM (
        SELECT e.id, e.txid, e.type, e.subject, e.partner_id, e.created_at, e.payload
        FROM {e} e
        WHERE {audience} (e.txid, e.id) > (%(after_txid)s::bigint, %(after_id)s::bigint)
          AND (e.txid < {oldest_running} OR e.txid = {own})
          AND (cardinality(%(types)s::text[]) = 0 OR e.type = ANY(%(types)s::text[]))
        ORDER BY e.txid, e.id
        LIMIT %(limit)s
    ) p
    """
EVENTS_FEED_PAGE = statement(_FEED_PAGE, e=Event, oldest_running=OLDEST_RUNNING_TXID, own=OWN_TXID, audience="")
EVENTS_FEED_PAGE_OF_PARTNER = statement(
    _FEED_PAGE, e=Event, oldest_running=OLDEST_RUNNING_TXID, own=OWN_TXID, audience="e.partner_id = %(partner)s AND"
)
