"""The SQL of commerce's row locks (``commerce.locks`` says their order)."""

from commerce.models import Order, PickupSlot, SlotHold, SlotSchedule
from gateway.sql import statement
from inventory.sql import COLLECT_STORES

# One order locked, with what a status change needs and the database clock
# (parameters: the default cancellation cut-off minutes, the order id).
LOCK_ORDER = statement(
    """
    SELECT o.id, o.public_id, o.status, o.slot_id, o.store_id, l.code, s.starts_at, s.ends_at,
           COALESCE(sch.cancel_cutoff_minutes, %s), now()
    FROM {o} o
    JOIN {s} s ON s.id = o.slot_id
    JOIN {stores} l ON l.id = o.store_id
    LEFT JOIN {sch} sch ON sch.store_id = o.store_id
    WHERE o.id = %s
    FOR UPDATE OF o
    """,
    stores=COLLECT_STORES,
    o=Order,
    s=PickupSlot,
    sch=SlotSchedule,
)

# Up to a limit of active holds past their expiry, in id order, skipping
# those another transaction holds (parameter: the limit).
LOCK_DUE_HOLDS = statement(
    """
    SELECT id, slot_id FROM {h}
    WHERE state = 'active' AND expires_at <= now()
    ORDER BY id
    LIMIT %s
    FOR UPDATE SKIP LOCKED
    """,
    h=SlotHold,
)

# Pickup slots in ascending primary key (parameter: their ids).
LOCK_SLOTS = statement("SELECT id FROM {s} WHERE id = ANY(%s) ORDER BY id FOR UPDATE", s=PickupSlot)
