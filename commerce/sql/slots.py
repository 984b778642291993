"""The SQL of pickup slots and slot holds: the guarded UPDATEs that take or
give back a unit (each checks its bound in its WHERE clause, the CHECK
constraint ``booked + held <= capacity`` behind it), the diagnosis of a
refusal with its alternatives, the release of a day's slots and the staff's
compare-and-swap change of one slot.

The store of a slot is read through inventory's ``COLLECT_STORES``
(``id``, ``code``, ``takes_orders``): PostgreSQL pulls that sub-select up into
the statement, so the plans are those of a plain join on the locations."""

from django.db import connection

from commerce.models import PickupSlot, SlotHold, SlotRelease, SlotSchedule
from gateway.sql import fragment, statement
from inventory.sql import COLLECT_STORES

# Enough for a day of 15-minute slots; a front end shows them as they come.
MAX_ALTERNATIVES = 100


def _expired_holds(slot: str) -> str:
    """Counts the active holds of ``slot`` (a table alias) past their expiry:
    units still in ``held`` that the sweep has not given back yet."""
    return fragment(
        "(SELECT count(*) FROM {h} h WHERE h.slot_id = {slot}.id AND h.state = 'active' AND h.expires_at <= now())",
        slot=slot,
        h=SlotHold,
    )


def _remaining(slot: str) -> str:
    """A slot's remaining capacity: capacity minus bookings minus live holds.
    The one definition, read by the slot lists and by the alternatives of a
    ``slot_full`` refusal."""
    return f"{slot}.capacity - {slot}.booked - {slot}.held + {_expired_holds(slot)}"


# ``remaining`` of the slot rows of an ORM query on PickupSlot (its table
# quoted as the ORM writes it), for ``RawSQL`` in ``commerce.selectors``.
REMAINING_OF_SLOT_ROWS = _remaining(connection.ops.quote_name(PickupSlot._meta.db_table))

# The conditions under which a slot ``s`` of store ``l`` takes one more
# booking or hold. The store filter (%(store)s) limits store clients to their
# own store.
_OPEN_FOR_BOOKING = """l.id = s.store_id AND l.takes_orders AND NOT s.is_closed
      AND s.release_at <= now() AND s.starts_at > now()
      AND s.booked + s.held < s.capacity
      AND (%(store)s::bigint IS NULL OR s.store_id = %(store)s::bigint)"""

BOOK = statement(
    """
    UPDATE {s} s
    SET {s.booked} = s.booked + 1, {s.version} = s.version + 1, {s.updated_at} = now()
    FROM {stores} l
    WHERE s.id = %(slot)s AND {open}
    RETURNING s.id, s.store_id, l.code, s.starts_at, s.ends_at, s.local_date
    """,
    stores=COLLECT_STORES,
    open=_OPEN_FOR_BOOKING,
    s=PickupSlot,
)

# Answers the hold's expiry: the schedule's hold time, else the default.
HOLD = statement(
    """
    UPDATE {s} s
    SET {s.held} = s.held + 1, {s.version} = s.version + 1, {s.updated_at} = now()
    FROM {stores} l
    LEFT JOIN {sch} sch ON sch.store_id = l.id
    WHERE s.id = %(slot)s AND {open}
    RETURNING now() + make_interval(mins => COALESCE(sch.hold_minutes, %(hold_minutes)s)), s.store_id, s.local_date
    """,
    stores=COLLECT_STORES,
    open=_OPEN_FOR_BOOKING,
    s=PickupSlot,
    sch=SlotSchedule,
)

# Turns a consumed hold into a booking: the unit is already counted in
# ``held``, so capacity is not checked again; the slot must still be usable.
HOLD_TO_BOOKING = statement(
    """
    UPDATE {s} s
    SET {s.held} = s.held - 1, {s.booked} = s.booked + 1, {s.version} = s.version + 1, {s.updated_at} = now()
    FROM {stores} l
    WHERE s.id = %(slot)s AND l.id = s.store_id AND s.held >= 1
      AND l.takes_orders AND NOT s.is_closed AND s.starts_at > now()
      AND (%(store)s::bigint IS NULL OR s.store_id = %(store)s::bigint)
    RETURNING s.id, s.store_id, l.code, s.starts_at, s.ends_at, s.local_date
    """,
    stores=COLLECT_STORES,
    s=PickupSlot,
)

# Gives back the units of the expired holds of one slot, in one statement:
# each hold moves out of 'active' once, and the slot loses exactly that many.
EXPIRE_SLOT_HOLDS = statement(
    """
    WITH gone AS (
        UPDATE {h} SET {h.state} = 'expired', {h.ended_at} = now()
        WHERE slot_id = %(slot)s AND state = 'active' AND expires_at <= now()
        RETURNING id
    ), n AS (SELECT count(*) AS expired FROM gone)
    UPDATE {s} s
    SET {s.held} = s.held - n.expired, {s.version} = s.version + 1, {s.updated_at} = now()
    FROM n
    WHERE s.id = %(slot)s AND n.expired > 0
    RETURNING n.expired, s.store_id, s.local_date
    """,
    s=PickupSlot,
    h=SlotHold,
)

# Consumes the caller's live hold (parameters: public id, client, user);
# answers its slot.
HOLD_CONSUME = statement(
    """
    UPDATE {h} SET {h.state} = 'consumed', {h.ended_at} = now()
    WHERE public_id = %s AND client_id = %s AND user_id IS NOT DISTINCT FROM %s
      AND state = 'active' AND expires_at > now()
    RETURNING slot_id
    """,
    h=SlotHold,
)

# Gives one booked unit back (cancelled or not collected order); answers the
# slot's store and day.
UNIT_RETURN = statement(
    """
    UPDATE {s} SET {s.booked} = booked - 1, {s.version} = version + 1, {s.updated_at} = now()
    WHERE id = %s AND booked >= 1
    RETURNING store_id, local_date
    """,
    s=PickupSlot,
)

# Ends the caller's hold (parameters: public id, client, user) and gives its
# unit back; answers the slot's store and day, no row when the hold had already ended.
HOLD_RELEASE = statement(
    """
    WITH h AS (
        UPDATE {hold}
        SET {hold.state} = CASE WHEN expires_at <= now() THEN 'expired' ELSE 'released' END, {hold.ended_at} = now()
        WHERE public_id = %s AND client_id = %s AND user_id IS NOT DISTINCT FROM %s AND state = 'active'
        RETURNING slot_id
    )
    UPDATE {s} s SET {s.held} = s.held - 1, {s.version} = s.version + 1, {s.updated_at} = now()
    FROM h WHERE s.id = h.slot_id
    RETURNING s.store_id, s.local_date
    """,
    s=PickupSlot,
    hold=SlotHold,
)

# Ends every active hold of a shopper (parameter: the user) and gives the units
# back; answers each slot's store and day.
USER_HOLDS_RELEASE = statement(
    """
    WITH h AS (
        UPDATE {hold}
        SET {hold.state} = CASE WHEN expires_at <= now() THEN 'expired' ELSE 'released' END, {hold.ended_at} = now()
        WHERE user_id = %s AND state = 'active'
        RETURNING slot_id
    )
    UPDATE {s} s SET {s.held} = s.held - 1, {s.version} = s.version + 1, {s.updated_at} = now()
    FROM h WHERE s.id = h.slot_id
    RETURNING s.store_id, s.local_date
    """,
    s=PickupSlot,
    hold=SlotHold,
)

# The expiry sweep: the holds it locked (parameter: their ids), then the
# units per slot (parameters: slot ids, counts), answering each slot's store and day.
HOLDS_EXPIRE = statement(
    "UPDATE {h} SET {h.state} = 'expired', {h.ended_at} = now() WHERE id = ANY(%s)",
    h=SlotHold,
)
HELD_UNITS_RETURN = statement(
    """
    UPDATE {s} s
    SET {s.held} = s.held - v.n, {s.version} = s.version + 1, {s.updated_at} = now()
    FROM unnest(%s::bigint[], %s::int[]) AS v(id, n)
    WHERE s.id = v.id
    RETURNING s.store_id, s.local_date
    """,
    s=PickupSlot,
)

# The slot's state, its expired holds, and the alternatives a ``slot_full``
# refusal lists: the store's other open slots of the same store-local day
# with room left, in start order, as ``GET /pickup-slots?available=true``
# lists them (a shopper told ``slot_full`` picks the next one from this list
# instead of reloading the day). One row, no row for an unknown slot; the
# alternatives come as one JSON array that PostgreSQL builds (its instants
# rewritten as the slot lists write them by ``instant_text_of_json``) and
# psycopg decodes in C: a row per alternative cost a Python timestamp parse
# for each of five columns, a fifth of a refusal's CPU. One statement, in
# plain SQL: at the midnight rush more than a third of the order requests are
# refused, and the ORM's query compilation cost more than the queries.
REFUSAL = statement(
    """
    SELECT s.store_id, l.takes_orders, s.is_closed, s.release_at, s.starts_at, now(),
           {expired},
           (SELECT COALESCE(json_agg(json_build_object('id', a.id, 'starts_at', a.starts_at, 'ends_at', a.ends_at,
                                                       'remaining', a.remaining) ORDER BY a.starts_at), '[]')
            FROM (SELECT a.id, a.starts_at, a.ends_at, r.remaining
                  FROM {s} a
                  CROSS JOIN LATERAL (SELECT {remaining} AS remaining) r
                  WHERE a.store_id = s.store_id AND a.local_date = s.local_date AND a.id <> s.id
                    AND a.release_at <= now() AND a.starts_at > now() AND NOT a.is_closed AND r.remaining > 0
                  ORDER BY a.starts_at
                  LIMIT {limit}) a)
    FROM {s} s
    JOIN {stores} l ON l.id = s.store_id
    WHERE s.id = %s
    """,
    expired=_expired_holds("s"),
    remaining=_remaining("a"),
    limit=str(MAX_ALTERNATIVES),
    stores=COLLECT_STORES,
    s=PickupSlot,
)

# The slots of one store-local day that do not exist yet (parameters: store,
# day, release instant, then the starts, ends and capacities as arrays).
SLOTS_INSERT = statement(
    """
    INSERT INTO {s}
        ({s.store}, {s.local_date}, {s.starts_at}, {s.ends_at}, {s.release_at}, {s.capacity}, {s.booked}, {s.held},
         {s.is_closed}, {s.version}, {s.created_at}, {s.updated_at})
    SELECT %s, %s, t.starts_at, t.ends_at, %s, t.capacity, 0, 0, false, 1, now(), now()
    FROM unnest(%s::timestamptz[], %s::timestamptz[], %s::int[]) AS t(starts_at, ends_at, capacity)
    ON CONFLICT (store_id, starts_at) DO NOTHING
    """,
    s=PickupSlot,
)

# Records a day's release once (parameters: store, day, release instant,
# store, day); no row when another run released it first.
RELEASE_RECORD = statement(
    """
    INSERT INTO {r} ({r.store}, {r.local_date}, {r.release_at}, {r.slot_count}, {r.released_at})
    SELECT %s, %s, %s, count(*), now() FROM {s} WHERE store_id = %s AND local_date = %s
    ON CONFLICT (store_id, local_date) DO NOTHING
    RETURNING slot_count
    """,
    r=SlotRelease,
    s=PickupSlot,
)

# The staff's change of capacity or closing, compare-and-swap on the version;
# capacity never below what is booked and held.
SLOT_UPDATE = statement(
    """
    UPDATE {s}
    SET {s.capacity} = COALESCE(%(capacity)s, capacity), {s.is_closed} = COALESCE(%(closed)s, is_closed),
        {s.version} = version + 1, {s.updated_at} = now()
    WHERE id = %(id)s AND version = %(version)s AND booked + held <= COALESCE(%(capacity)s, capacity)
    """,
    s=PickupSlot,
)
