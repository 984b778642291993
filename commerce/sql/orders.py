"""The SQL of orders: the insert of a placed order with its lines and first
status (the hottest write of the midnight rush), a status change, and the
orders the no-show sweep turns."""

from commerce.models import Order, OrderLine, OrderStatusChange, PickupSlot, SlotSchedule
from gateway.sql import statement

# The order, its lines and its first status in one statement (one round trip
# instead of three). The lines travel as one JSON array (encoded in C) rather
# than as seven parameter arrays, which psycopg dumps element by element in
# Python (about 0.3 ms of CPU per order, measured on the midnight bench).
# Answers the order's id and creation instant, the status row's id and the
# line ids in the order given.
ORDER_INSERT = statement(
    """
    WITH o AS (
        INSERT INTO {o}
            ({o.public_id}, {o.store}, {o.slot}, {o.customer}, {o.placed_by}, {o.status}, {o.currency},
             {o.total_amount}, {o.item_count}, {o.idempotency_key}, {o.discount_amount}, {o.program},
             {o.member}, {o.points_spent}, {o.points_amount}, {o.points_to_earn}, {o.version},
             {o.created_at}, {o.updated_at})
        VALUES (%(public_id)s, %(store)s, %(slot)s, %(customer)s, %(client)s, %(status)s, %(currency)s,
                %(total)s, %(items)s, %(key)s, %(discount)s, %(program)s, %(member)s, %(points_spent)s,
                %(points_amount)s, %(points_to_earn)s, 1, now(), now())
        RETURNING id, created_at
    ), l AS (
        INSERT INTO {line}
            ({line.order}, {line.product}, {line.sku}, {line.name_fr}, {line.name_en}, {line.quantity},
             {line.unit_price_amount}, {line.line_total_amount}, {line.discount_amount}, {line.recommendation},
             {line.recommendation_kind}, {line.recommendation_source})
        SELECT o.id, t.product_id, t.sku, t.name_fr, t.name_en, t.quantity, t.unit_price, t.line_total, t.discount,
               t.reco, COALESCE(t.reco_kind, ''), COALESCE(t.reco_source, '')
        FROM o, ROWS FROM (
            json_to_recordset(%(lines)s::json) AS (
                product_id bigint, sku text, name_fr text, name_en text, quantity int,
                unit_price numeric, line_total numeric, discount numeric, reco uuid, reco_kind text, reco_source text
            )
        ) WITH ORDINALITY AS t(
            product_id, sku, name_fr, name_en, quantity, unit_price, line_total, discount, reco, reco_kind,
            reco_source, n
        )
        ORDER BY t.n
        RETURNING id
    ), h AS (
        INSERT INTO {change}
            ({change.order}, {change.from_status}, {change.to_status}, {change.at}, {change.actor_client},
             {change.actor_user}, {change.reason})
        SELECT o.id, '', %(status)s, now(), %(client)s, %(user)s, '' FROM o
        RETURNING id
    )
    SELECT o.id, o.created_at, h.id, (SELECT array_agg(id ORDER BY id) FROM l) FROM o, h
    """,
    o=Order,
    line=OrderLine,
    change=OrderStatusChange,
)

# A status change of a locked order (parameters: status, order id).
ORDER_STATUS_SET = statement(
    "UPDATE {o} SET {o.status} = %s, {o.version} = version + 1, {o.updated_at} = now() WHERE id = %s",
    o=Order,
)

# Open orders whose slot ended more than the store's grace time ago, by the
# database clock (parameters: the default grace minutes, the batch size).
ORDERS_DUE_NO_SHOW = statement(
    """
    SELECT o.id FROM {o} o
    JOIN {s} s ON s.id = o.slot_id
    LEFT JOIN {sch} sch ON sch.store_id = o.store_id
    WHERE o.status IN ('placed', 'preparing', 'ready')  -- as in order_open_slot_idx
      AND s.ends_at + make_interval(mins => COALESCE(sch.no_show_grace_minutes, %s)) <= now()
    ORDER BY o.id
    LIMIT %s
    """,
    o=Order,
    s=PickupSlot,
    sch=SlotSchedule,
)
