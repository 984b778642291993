"""The SQL of orders: the insert of a placed order with its lines and first
status (the hottest write of the midnight rush), a status change, the reads
of one order a caller sees (``commerce.selectors.order_pk`` and
``order_get``), and the orders the no-show sweep turns."""

from commerce.models import Order, OrderLine, OrderStatusChange, PickupSlot, SlotSchedule
from gateway.sql import columns, fragment, statement
from inventory.sql import CATALOGUE_PRODUCTS, COLLECT_STORES
from loyalty.sql import MEMBER_CARDS, PROGRAM_CODES
from partners.sql import CLIENT_IDENTITIES

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

# A status change of a locked order (parameters ``status``, ``order``, and
# the history row's ``from_status``, ``actor_client``, ``actor_user``,
# ``reason``; its time is the database clock's), with what the change's
# effects and events read, in one round trip: every column
# of the order after the change, in the model's field order, then its lines
# by id (id, product, sku, quantity, unit price as text, the product's owner
# and category) as one JSON array of arrays.
ORDER_STATUS_SET = statement(
    """
    WITH o AS (
        UPDATE {o} SET {o.status} = %(status)s, {o.version} = version + 1, {o.updated_at} = now()
        WHERE id = %(order)s
        RETURNING {returning}
    ), history AS (
        INSERT INTO {h} ({h.order}, {h.from_status}, {h.to_status}, {h.actor_client}, {h.actor_user}, {h.reason})
        SELECT o.id, %(from_status)s, %(status)s, %(actor_client)s, %(actor_user)s, %(reason)s FROM o
    )
    SELECT {order_columns},
        (SELECT json_agg(json_build_array(
                    l.id, l.product_id, l.sku, l.quantity, l.unit_price_amount::text, p.owner_id, p.category
                ) ORDER BY l.id)::text
         FROM {line} l JOIN {products} p ON p.id = l.product_id WHERE l.order_id = o.id)
    FROM o
    """,
    o=Order,
    h=OrderStatusChange,
    line=OrderLine,
    products=CATALOGUE_PRODUCTS,
    returning=columns(Order),
    order_columns=columns(Order, "o"),
)

# The orders a caller sees (``commerce.selectors.order_scope``, the rule the
# ORM selector ``orders_visible_to`` applies too; tests/commerce/test_order_reads.py
# holds the two equal): parameters ``customer`` and ``store``, each NULL when
# it does not limit. Orders are aliased ``o``.
_VISIBLE = fragment(
    """(%(customer)s::bigint IS NULL OR o.customer_id = %(customer)s::bigint)
    AND (%(store)s::bigint IS NULL OR o.store_id = %(store)s::bigint)"""
)

# The primary key of one order by public id, if the caller sees it
# (parameters: ``order``, then those of the scope).
ORDER_PK_VISIBLE = statement(
    "SELECT o.id FROM {o} o WHERE o.public_id = %(order)s AND {visible}", o=Order, visible=_VISIBLE
)

# One order by public id, if the caller sees it (parameters: ``order``, then
# those of the scope), with all that its answer shows, in one round trip:
# every column of the order in the model's field order; the store's code; the
# slot's start and end; the loyalty program's code and the member's card
# (NULL without); the lines (every column in the model's field order, by id,
# that is as placed) and the status history (id, from, to, at, actor client,
# actor user, reason, then the actor client's kind and client id; oldest
# first), each as one JSON array of arrays, numerics and instants as text.
ORDER_DETAIL = statement(
    """
    SELECT {order_columns}, st.code, s.starts_at, s.ends_at, p.code, m.card_number,
        (SELECT json_agg(json_build_array({line_columns}) ORDER BY l.id)::text
         FROM {line} l WHERE l.order_id = o.id),
        (SELECT json_agg(json_build_array(
                    h.id, h.from_status, h.to_status, h.at::text, h.actor_client_id, h.actor_user_id, h.reason,
                    c.kind, c.client_id
                ) ORDER BY h.at, h.id)::text
         FROM {change} h LEFT JOIN {clients} c ON c.id = h.actor_client_id WHERE h.order_id = o.id)
    FROM {o} o
    JOIN {stores} st ON st.id = o.store_id
    JOIN {s} s ON s.id = o.slot_id
    LEFT JOIN {programs} p ON p.id = o.program_id
    LEFT JOIN {members} m ON m.id = o.member_id
    WHERE o.public_id = %(order)s AND {visible}
    """,
    o=Order,
    s=PickupSlot,
    line=OrderLine,
    change=OrderStatusChange,
    stores=COLLECT_STORES,
    clients=CLIENT_IDENTITIES,
    programs=PROGRAM_CODES,
    members=MEMBER_CARDS,
    visible=_VISIBLE,
    order_columns=columns(Order, "o"),
    line_columns=", ".join(
        f"l.{field.column}::text" if field.get_internal_type() == "DecimalField" else f"l.{field.column}"
        for field in OrderLine._meta.concrete_fields
    ),
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
