"""Every raw SQL statement of loyalty, with table and column names from the
models (``gateway.sql``). Two families:

- the points counters of a member, moved together with the movement that
  records the change (one statement: the counters can never move without
  their ledger line);
- the coupon and budget counters, taken and given back all at once by one
  guarded statement each (a reservation either takes a unit of every
  counter concerned or of none, so a refusal leaves nothing to undo).
"""

from gateway.sql import columns, fragment, statement
from inventory.sql import CATALOGUE_PRODUCTS, SALE_MOVEMENTS, STOCK_LEVELS
from loyalty.models import (
    BudgetCounter,
    Campaign,
    CampaignBudget,
    CouponCode,
    Member,
    MemberPurchase,
    PointsBucket,
    PointsMovement,
    Program,
    Redemption,
    TillTicket,
)

# ---------------------------------------------------------------- published for other apps

# The programs and members as an order shows its loyalty part: ``id`` and
# ``code`` of a program, ``id`` and ``card_number`` of a member.
PROGRAM_CODES = fragment("(SELECT {p.id} AS id, {p.code} AS code FROM {p})", p=Program)
MEMBER_CARDS = fragment("(SELECT {m.id} AS id, {m.card_number} AS card_number FROM {m})", m=Member)

# ---------------------------------------------------------------- programs and members

# The program ``code`` names if the caller may see it (``all``: the operator
# sees every program, everyone else the active ones), every column in the
# model's field order (``loyalty.selectors.program_visible_by_code``: the
# condition is ``programs_visible_to``'s, held equal by
# tests/loyalty/test_visibility_sql.py).
PROGRAM_VISIBLE_BY_CODE = statement(
    "SELECT {columns} FROM {p} p WHERE p.code = %(code)s AND (%(all)s OR p.is_active)",
    p=Program,
    columns=columns(Program, "p"),
)

# The member of a card (``loyalty.selectors.member_of_card``), every column
# in the model's field order; ``user``, when not null, is the only user whose
# member it may be (a shopper's own; the condition is ``_members_by_card``'s,
# held equal by tests/loyalty/test_visibility_sql.py).
MEMBER_OF_CARD = statement(
    """
    SELECT {columns} FROM {m} m
    WHERE m.card_number = %(card)s AND (%(user)s::bigint IS NULL OR m.user_id = %(user)s::bigint)
    """,
    m=Member,
    columns=columns(Member, "m"),
)

# ---------------------------------------------------------------- points

# Move a member's three counters by the given deltas, refusing (no row) any
# that would go below zero, and write the movement with the figures after.
MEMBER_MOVE = statement(
    """
    WITH moved AS (
        UPDATE {m} SET {m.points_pending} = points_pending + %(pending)s,
                       {m.points_active} = points_active + %(active)s,
                       {m.points_debt} = points_debt + %(debt)s,
                       {m.updated_at} = now()
        WHERE {m.id} = %(member)s AND points_pending + %(pending)s >= 0
          AND points_active + %(active)s >= 0 AND points_debt + %(debt)s >= 0
        RETURNING points_pending, points_active, points_debt
    )
    INSERT INTO {mv} ({mv.member}, {mv.bucket}, {mv.kind}, {mv.delta_pending}, {mv.delta_active}, {mv.delta_debt},
                      {mv.pending_after}, {mv.active_after}, {mv.debt_after}, {mv.reference}, {mv.created_at})
    SELECT %(member)s, %(bucket)s, %(kind)s, %(pending)s, %(active)s, %(debt)s,
           moved.points_pending, moved.points_active, moved.points_debt, %(reference)s, now()
    FROM moved
    RETURNING {mv.pending_after}, {mv.active_after}, {mv.debt_after}
    """,
    m=Member,
    mv=PointsMovement,
)

LOCK_MEMBER = statement(
    """
    SELECT {m.id}, {m.program}, {m.points_pending}, {m.points_active}, {m.points_debt}
    FROM {m} WHERE {m.id} = %(member)s FOR UPDATE
    """,
    m=Member,
)

# A member's buckets in some states, first to expire first (FIFO burn order).
LOCK_BUCKETS = statement(
    """
    SELECT {b.id}, {b.member}, {b.amount}, {b.remaining}, {b.state}, {b.activates_at}, {b.expires_at}, {b.source}
    FROM {b} WHERE {b.member} = %(member)s AND {b.state} = ANY(%(states)s::text[])
    ORDER BY {b.expires_at}, {b.id}
    FOR UPDATE
    """,
    b=PointsBucket,
)

# The member's buckets that something is due for at %(now)s: pending ones
# whose return window is over, open ones past their expiry; FIFO order, as
# LOCK_BUCKETS (the nightly steps and a late earning lock only these).
LOCK_DUE_BUCKETS = statement(
    """
    SELECT {b.id}, {b.member}, {b.amount}, {b.remaining}, {b.state}, {b.activates_at}, {b.expires_at}, {b.source}
    FROM {b} WHERE {b.member} = %(member)s
      AND (({b.state} = 'pending' AND {b.activates_at} <= %(now)s)
           OR ({b.state} IN ('pending', 'active') AND {b.expires_at} <= %(now)s))
    ORDER BY {b.expires_at}, {b.id}
    FOR UPDATE
    """,
    b=PointsBucket,
)

# A new earning's bucket, pending, unless the member's bucket of that source
# exists (an earning is one bucket: unique per member and source). No row:
# it exists (read it with BUCKET_OF_SOURCE).
BUCKET_EARN = statement(
    """
    INSERT INTO {b} ({b.member}, {b.amount}, {b.remaining}, {b.state}, {b.earned_at}, {b.activates_at},
                     {b.expires_at}, {b.source}, {b.created_at}, {b.updated_at})
    VALUES (%(member)s, %(amount)s, %(amount)s, %(state)s, %(earned_at)s, %(activates_at)s, %(expires_at)s,
            %(source)s, %(now)s, %(now)s)
    ON CONFLICT ({b.member}, {b.source}) DO NOTHING
    RETURNING {b.id}
    """,
    b=PointsBucket,
)

# The member's bucket of one earning, if any.
BUCKET_OF_SOURCE = statement(
    """
    SELECT {b.id}, {b.amount}, {b.activates_at}, {b.expires_at}
    FROM {b} WHERE {b.member} = %(member)s AND {b.source} = %(source)s
    """,
    b=PointsBucket,
)

# Members of a program with a bucket to activate or to expire as of an instant.
MEMBERS_WITH_DUE_BUCKETS = statement(
    """
    SELECT DISTINCT b.{b.member}
    FROM {b} b JOIN {m} m ON m.id = b.{b.member}
    WHERE m.{m.program} = %(program)s
      AND ((b.{b.state} = 'pending' AND b.{b.activates_at} <= %(now)s)
           OR (b.{b.state} IN ('pending', 'active') AND b.{b.expires_at} <= %(now)s))
    ORDER BY 1
    """,
    b=PointsBucket,
    m=Member,
)

# The ledger check: members whose counters differ from the sums of their
# movements, from their last movement's figures, or from their open buckets.
LEDGER_MISMATCHES = statement(
    """
    WITH moves AS (
        SELECT {mv.member} AS member_id, sum({mv.delta_pending}) AS pending, sum({mv.delta_active}) AS active,
               sum({mv.delta_debt}) AS debt,
               (array_agg({mv.pending_after} ORDER BY {mv.id} DESC))[1] AS last_pending,
               (array_agg({mv.active_after} ORDER BY {mv.id} DESC))[1] AS last_active,
               (array_agg({mv.debt_after} ORDER BY {mv.id} DESC))[1] AS last_debt
        FROM {mv} GROUP BY {mv.member}
    ), buckets AS (
        SELECT {b.member} AS member_id,
               sum({b.remaining}) FILTER (WHERE {b.state} = 'pending') AS pending,
               sum({b.remaining}) FILTER (WHERE {b.state} = 'active') AS active
        FROM {b} WHERE {b.state} IN ('pending', 'active') GROUP BY {b.member}
    )
    SELECT m.id, m.{m.card_number}, m.{m.points_pending}, m.{m.points_active}, m.{m.points_debt},
           coalesce(v.pending, 0)::bigint, coalesce(v.active, 0)::bigint, coalesce(v.debt, 0)::bigint,
           coalesce(k.pending, 0)::bigint, coalesce(k.active, 0)::bigint
    FROM {m} m
    LEFT JOIN moves v ON v.member_id = m.id
    LEFT JOIN buckets k ON k.member_id = m.id
    WHERE m.points_pending <> coalesce(v.pending, 0) OR m.points_active <> coalesce(v.active, 0)
       OR m.points_debt <> coalesce(v.debt, 0)
       OR m.points_pending <> coalesce(v.last_pending, 0) OR m.points_active <> coalesce(v.last_active, 0)
       OR m.points_debt <> coalesce(v.last_debt, 0)
       OR m.points_pending <> coalesce(k.pending, 0) OR m.points_active <> coalesce(k.active, 0)
    ORDER BY m.id
    LIMIT %(limit)s
    """,
    m=Member,
    mv=PointsMovement,
    b=PointsBucket,
)

# Buckets whose remaining points differ from the sum of their movements.
BUCKET_MISMATCHES = statement(
    """
    SELECT b.id, b.{b.member}, b.{b.remaining}, coalesce(sum(v.delta_pending + v.delta_active), 0)::bigint
    FROM {b} b LEFT JOIN {mv} v ON v.{mv.bucket} = b.id
    GROUP BY b.id
    HAVING b.{b.remaining} <> coalesce(sum(v.delta_pending + v.delta_active), 0)
    ORDER BY b.id
    LIMIT %(limit)s
    """,
    b=PointsBucket,
    mv=PointsMovement,
)

COUNT_MEMBERS = statement("SELECT count(*) FROM {m}", m=Member)

# ---------------------------------------------------------------- budgets and codes

# The counters a reservation needs, created at their limits when first used.
# A separate statement from RESERVE: a row another transaction inserts at the
# same moment is seen only by a statement that starts after it committed.
ENSURE_COUNTERS = statement(
    """
    INSERT INTO {c} ({c.budget}, {c.key}, {c.limit_count}, {c.limit_amount}, {c.used_count}, {c.used_amount},
                     {c.refused_late})
    SELECT b.id, v.key, b.{b.limit_count}, b.{b.limit_amount}, 0, 0, 0
    FROM unnest(%(budgets)s::bigint[], %(keys)s::text[]) AS v(budget_id, key)
    JOIN {b} b ON b.id = v.budget_id
    ON CONFLICT ({c.budget}, {c.key}) DO NOTHING
    """,
    c=BudgetCounter,
    b=CampaignBudget,
)

# Take one use of the code (if any) and one unit (count 1, the discount's
# amount) of every counter named by (budget, key), all or none. Lock order:
# the code row first (an InitPlan gates the counters' scan on it), then the
# counters by ascending id; the guarded UPDATEs then change rows already
# locked, and the CHECK constraints stand behind them.
RESERVE = statement(
    """
    WITH code AS (
        SELECT k.id, (k.{k.usage_limit} IS NULL OR k.{k.used_count} < k.{k.usage_limit}) AS room
        FROM {k} k WHERE k.id = %(code)s
        FOR UPDATE
    ), counters AS (
        SELECT c.id,
               (c.{c.limit_count} IS NULL OR c.{c.used_count} + 1 <= c.{c.limit_count})
               AND (c.{c.limit_amount} IS NULL OR c.{c.used_amount} + %(amount)s <= c.{c.limit_amount}) AS room
        FROM {c} c
        JOIN unnest(%(budgets)s::bigint[], %(keys)s::text[]) AS v(budget_id, key)
          ON c.{c.budget} = v.budget_id AND c.{c.key} = v.key
        WHERE (SELECT count(*) FROM code) >= 0
        ORDER BY c.id
        FOR UPDATE OF c
    ), verdict AS (
        SELECT coalesce((SELECT bool_and(room) FROM code), true) AS code_room,
               coalesce((SELECT bool_and(room) FROM counters), true)
               AND (SELECT count(*) FROM counters) = %(wanted)s AS counters_room
    ), used_code AS (
        UPDATE {k} SET {k.used_count} = {k.used_count} + 1
        FROM verdict
        WHERE {k}.id = %(code)s AND verdict.code_room AND verdict.counters_room
          AND ({k}.{k.usage_limit} IS NULL OR {k}.{k.used_count} < {k}.{k.usage_limit})
        RETURNING {k}.id
    ), used_counters AS (
        UPDATE {c} SET {c.used_count} = {c.used_count} + 1, {c.used_amount} = {c.used_amount} + %(amount)s
        FROM verdict
        WHERE {c}.id IN (SELECT id FROM counters) AND verdict.code_room AND verdict.counters_room
          AND ({c}.{c.limit_count} IS NULL OR {c}.{c.used_count} + 1 <= {c}.{c.limit_count})
          AND ({c}.{c.limit_amount} IS NULL OR {c}.{c.used_amount} + %(amount)s <= {c}.{c.limit_amount})
        RETURNING {c}.id
    )
    SELECT verdict.code_room, verdict.counters_room,
           (SELECT coalesce(array_agg(id ORDER BY id), '{{}}') FROM used_counters),
           (SELECT coalesce(array_agg(id ORDER BY id), '{{}}') FROM counters WHERE NOT room),
           (SELECT count(*) FROM used_code)
    FROM verdict
    """,
    k=CouponCode,
    c=BudgetCounter,
)

# Give back what a reservation took: the code's use (when %(code)s is not
# null) first, then ``count`` and ``amount`` of each counter it took, locked
# by ascending id (the order RESERVE takes them). Guarded: a counter never
# goes below zero (the CHECK constraint stands behind it).
GIVE_BACK = statement(
    """
    WITH used_code AS (
        UPDATE {k} SET {k.used_count} = {k.used_count} - 1
        WHERE {k}.id = %(code)s AND {k}.{k.used_count} >= 1
        RETURNING {k}.id
    ), locked AS (
        SELECT c.id FROM {c} c
        WHERE c.id = ANY(%(counters)s::bigint[]) AND (SELECT count(*) FROM used_code) >= 0
        ORDER BY c.id
        FOR UPDATE
    )
    UPDATE {c} SET {c.used_count} = {c.used_count} - %(count)s, {c.used_amount} = {c.used_amount} - %(amount)s
    WHERE {c}.id IN (SELECT id FROM locked)
      AND {c}.{c.used_count} >= %(count)s AND {c}.{c.used_amount} >= %(amount)s
    RETURNING {c}.id
    """,
    k=CouponCode,
    c=BudgetCounter,
)

# A late till ticket refused because a counter was full: counted on that counter.
COUNT_LATE_REFUSAL = statement(
    """
    UPDATE {c} SET {c.refused_late} = {c.refused_late} + 1 WHERE {c}.id = ANY(%(counters)s::bigint[])
    """,
    c=BudgetCounter,
)

# ---------------------------------------------------------------- offers

# What the discount engine needs of a program's campaigns to price one basket
# (loyalty.selectors.offers.offers_for_basket), in one statement: the
# campaigns live at %(at)s without a code (``automatic``) and those of the
# codes entered (param ``codes``, upper-cased; codes of another program are
# not found), by id. Per campaign: its stores' ids; whether the member
# (%(member)s, null: anonymous) is in its audience (listed, or bought its
# category at its audience stores, if any, since %(day)s less its
# audience_days); its budgets by id with what their counters concerned
# have used (params ``scopes`` and ``keys``: the counter key of each scope
# for this basket; a scope without a key and a counter not created yet have
# used nothing); the codes entered that belong to it.
OFFER_CAMPAIGNS = statement(
    """
    WITH found AS (
        SELECT k.{k.code} AS code, k.{k.campaign} AS campaign_id, k.{k.member} AS member_id,
               k.{k.usage_limit} AS usage_limit, k.{k.used_count} AS used_count
        FROM {k} k JOIN {c} c ON c.id = k.{k.campaign}
        WHERE k.{k.code} = ANY(%(codes)s::text[]) AND c.{c.program} = %(program)s
    ), picked AS (
        SELECT c.*,
               coalesce((c.{c.state} = 'active' OR (c.{c.state} = 'ended' AND c.{c.ended_at} > %(at)s))
                        AND NOT c.{c.requires_code} AND c.{c.starts_at} <= %(at)s AND c.{c.ends_at} > %(at)s,
                        false) AS automatic
        FROM {c} c
        WHERE c.{c.program} = %(program)s
    )
    SELECT c.id, c.name_fr, c.benefit, c.starts_at, c.ends_at, c.state, c.ended_at, c.requires_code, c.weekdays,
           c.hours_from, c.hours_to, c.audience, c.min_basket_amount, c.eligible_skus, c.eligible_categories,
           c.eligible_owner_id, c.benefit_amount, c.benefit_percent, c.benefit_cap, c.benefit_max_units,
           c.benefit_multiplier, c.exclusive, c.stacking_class, c.combinable_with, c.priority, c.automatic,
           ARRAY(SELECT s.{cs.location} FROM {cs} s WHERE s.{cs.campaign} = c.id),
           CASE WHEN c.audience = 'list' THEN EXISTS (
                    SELECT 1 FROM {cm} l WHERE l.{cm.campaign} = c.id AND l.{cm.member} = %(member)s::bigint)
                ELSE EXISTS (
                    SELECT 1 FROM {p} p
                    WHERE p.{p.member} = %(member)s::bigint AND p.{p.category} = c.audience_category
                      AND p.{p.last_bought_on} >= %(day)s::date - c.audience_days
                      AND (NOT EXISTS (SELECT 1 FROM {ca} a WHERE a.{ca.campaign} = c.id)
                           OR p.{p.store} IN (SELECT a.{ca.location} FROM {ca} a WHERE a.{ca.campaign} = c.id)))
           END,
           bud.ids, bud.scopes, bud.limit_counts, bud.limit_amounts, bud.used_counts, bud.used_amounts,
           codes.texts, codes.members, codes.usage_limits, codes.used_counts
    FROM picked c
    CROSS JOIN LATERAL (
        SELECT coalesce(array_agg(b.id ORDER BY b.id), '{{}}') AS ids,
               coalesce(array_agg(b.{b.scope} ORDER BY b.id), '{{}}') AS scopes,
               coalesce(array_agg(b.{b.limit_count} ORDER BY b.id), '{{}}') AS limit_counts,
               coalesce(array_agg(b.{b.limit_amount} ORDER BY b.id), '{{}}') AS limit_amounts,
               coalesce(array_agg(coalesce(n.{n.used_count}, 0) ORDER BY b.id), '{{}}') AS used_counts,
               coalesce(array_agg(coalesce(n.{n.used_amount}, 0) ORDER BY b.id), '{{}}') AS used_amounts
        FROM {b} b
        LEFT JOIN unnest(%(scopes)s::text[], %(keys)s::text[]) AS v(scope, key) ON v.scope = b.{b.scope}
        LEFT JOIN {n} n ON n.{n.budget} = b.id AND n.{n.key} = v.key
        WHERE b.{b.campaign} = c.id
    ) bud
    CROSS JOIN LATERAL (
        SELECT coalesce(array_agg(f.code ORDER BY f.code), '{{}}') AS texts,
               coalesce(array_agg(f.member_id ORDER BY f.code), '{{}}') AS members,
               coalesce(array_agg(f.usage_limit ORDER BY f.code), '{{}}') AS usage_limits,
               coalesce(array_agg(f.used_count ORDER BY f.code), '{{}}') AS used_counts
        FROM found f WHERE f.campaign_id = c.id
    ) codes
    WHERE c.automatic OR c.id IN (SELECT campaign_id FROM found)
    ORDER BY c.id
    """,
    k=CouponCode,
    c=Campaign,
    cs=Campaign.stores.through,
    cm=Campaign.audience_members.through,
    ca=Campaign.audience_stores.through,
    p=MemberPurchase,
    b=CampaignBudget,
    n=BudgetCounter,
)

# The campaigns a basket's quote applied, as reserving them needs them
# (param ``campaigns``, ids): name and owning partner, budgets by id, and
# the codes entered (param ``codes``, upper-cased) that belong to each.
RESERVE_CAMPAIGNS = statement(
    """
    SELECT c.id, c.{c.name_fr}, c.{c.owner},
           coalesce(bud.ids, '{{}}'), coalesce(bud.scopes, '{{}}'), coalesce(bud.limit_counts, '{{}}'),
           coalesce(bud.limit_amounts, '{{}}'), coalesce(codes.ids, '{{}}'), coalesce(codes.texts, '{{}}')
    FROM {c} c
    CROSS JOIN LATERAL (
        SELECT array_agg(b.id ORDER BY b.id) AS ids, array_agg(b.{b.scope} ORDER BY b.id) AS scopes,
               array_agg(b.{b.limit_count} ORDER BY b.id) AS limit_counts,
               array_agg(b.{b.limit_amount} ORDER BY b.id) AS limit_amounts
        FROM {b} b WHERE b.{b.campaign} = c.id
    ) bud
    CROSS JOIN LATERAL (
        SELECT array_agg(k.id ORDER BY k.id) AS ids, array_agg(k.{k.code} ORDER BY k.id) AS texts
        FROM {k} k WHERE k.{k.campaign} = c.id AND k.{k.code} = ANY(%(codes)s::text[])
    ) codes
    WHERE c.id = ANY(%(campaigns)s::bigint[])
    """,
    c=Campaign,
    b=CampaignBudget,
    k=CouponCode,
)

# What the coupon events of some redemptions name: their campaigns (name,
# owning partner) and codes (params ``campaigns`` and ``codes``, ids).
COUPON_EVENT_NAMES = statement(
    """
    SELECT 'campaign', c.id, c.{c.name_fr}, c.{c.owner} FROM {c} c WHERE c.id = ANY(%(campaigns)s::bigint[])
    UNION ALL
    SELECT 'code', k.id, k.{k.code}, NULL FROM {k} k WHERE k.id = ANY(%(codes)s::bigint[])
    """,
    c=Campaign,
    k=CouponCode,
)

# ---------------------------------------------------------------- till tickets

# One till ticket (a store's ticket id) at a time: a transaction-scoped
# advisory lock in loyalty's ticket namespace, keyed by a hash of the ticket
# key (two tickets sharing a hash only wait on each other, never mix).
TICKET_LOCK = statement("SELECT pg_advisory_xact_lock(%(namespace)s, hashtext(%(key)s))")

# The fingerprint of a store's ticket already received (no row: a new ticket);
# the whole ticket is read only when it is answered again.
TICKET_FINGERPRINT = statement(
    "SELECT {t.fingerprint} FROM {t} WHERE {t.store} = %(store)s AND {t.ticket_id} = %(ticket)s",
    t=TillTicket,
)

# ---------------------------------------------------------------- purchases

# What a member bought where (the category audience): one row per category,
# the latest local date kept.
PURCHASES_UPSERT = statement(
    """
    INSERT INTO {p} ({p.member}, {p.store}, {p.category}, {p.last_bought_on})
    SELECT %(member)s, %(store)s, category, %(day)s FROM unnest(%(categories)s::text[]) AS category
    ON CONFLICT ({p.member}, {p.store}, {p.category})
    DO UPDATE SET {p.last_bought_on} = GREATEST({p}.{p.last_bought_on}, EXCLUDED.{p.last_bought_on})
    """,
    p=MemberPurchase,
)

# ---------------------------------------------------------------- sales (slow movers, campaign reports)

# Units sold at some stores (param ``stores``, location ids) from ``since``
# (null: all history) until ``until``, as a CTE ``sales(product_id, sold_at,
# units)``. Two sources: the stock ledger's sale movements (collected orders,
# till sales posted as stock adjustments) and the till tickets' lines. A sale
# movement whose reference names a ticket ("ticket:...") is left out, since
# the ticket itself counts those units. Ticket lines are read defensively
# (the JSON comes from tills): an object with a whole ``quantity`` of 1 to
# 999,999 and either a numeric ``product_id`` or a string ``sku`` naming a
# product the store stocks; anything else is skipped.
_SALES = fragment(
    """
    ticket_lines AS (
        SELECT t.{t.store} AS location_id, t.{t.till_time} AS sold_at, l.line AS line
        FROM {t} t
        CROSS JOIN LATERAL jsonb_array_elements(
            CASE WHEN jsonb_typeof(t.{t.lines}) = 'array' THEN t.{t.lines} ELSE '[]'::jsonb END
        ) AS l(line)
        WHERE t.{t.store} = ANY(%(stores)s::bigint[])
          AND (%(since)s::timestamptz IS NULL OR t.{t.till_time} >= %(since)s::timestamptz)
          AND t.{t.till_time} < %(until)s
          AND jsonb_typeof(l.line) = 'object'
          AND jsonb_typeof(l.line -> 'quantity') = 'number'
          AND (l.line ->> 'quantity') ~ '^[0-9]{{1,6}}$'
    ), sales AS (
        SELECT sm.product_id AS product_id, sm.sold_at AS sold_at, sm.units AS units
        FROM {sale_movements} sm
        WHERE sm.location_id = ANY(%(stores)s::bigint[])
          AND (%(since)s::timestamptz IS NULL OR sm.sold_at >= %(since)s::timestamptz)
          AND sm.sold_at < %(until)s
          AND left(sm.reference, 7) <> 'ticket:'
        UNION ALL
        SELECT st.product_id, tl.sold_at, (tl.line ->> 'quantity')::int
        FROM ticket_lines tl
        JOIN {stock} st ON st.location_id = tl.location_id
        JOIN {products} p ON p.id = st.product_id
        WHERE CASE WHEN jsonb_typeof(tl.line -> 'product_id') = 'number'
                   THEN (tl.line ->> 'product_id') = p.id::text
                   ELSE jsonb_typeof(tl.line -> 'sku') = 'string' AND (tl.line ->> 'sku') = p.sku END
          AND (tl.line ->> 'quantity')::int > 0
    )
    """,
    t=TillTicket,
    sale_movements=SALE_MOVEMENTS,
    stock=STOCK_LEVELS,
    products=CATALOGUE_PRODUCTS,
)

# Every product a store holds (on hand above zero, active), with its units
# sold since ``window_from`` and its last sale before ``until`` (null: never).
# Params: ``store`` and ``stores`` (the same id, as a list), ``since`` (null),
# ``window_from``, ``until``.
STORE_STOCK_SALES = statement(
    """
    WITH {sales}, figures AS (
        SELECT product_id, sum(units) FILTER (WHERE sold_at >= %(window_from)s) AS units_window,
               max(sold_at) AS last_sold_at
        FROM sales GROUP BY product_id
    )
    SELECT p.id, p.sku, p.name_fr, p.name_en, p.category, p.price_amount, p.price_currency, p.owner_id,
           st.on_hand, coalesce(f.units_window, 0)::bigint, f.last_sold_at
    FROM {stock} st
    JOIN {products} p ON p.id = st.product_id
    LEFT JOIN figures f ON f.product_id = st.product_id
    WHERE st.location_id = %(store)s AND st.on_hand > 0 AND p.is_active
    ORDER BY p.sku, p.id
    """,
    sales=_SALES,
    stock=STOCK_LEVELS,
    products=CATALOGUE_PRODUCTS,
)

# Units of the products with some SKUs (param ``skus``; of one owner when
# ``owner`` is not null: a campaign rule's owning partner) held at some stores,
# sold there in two windows: [since, during_from) and [during_from, until).
PRODUCT_UNITS_AT_STORES = statement(
    """
    WITH {sales}, targeted AS (
        SELECT DISTINCT p.id AS id, p.sku AS sku
        FROM {stock} st JOIN {products} p ON p.id = st.product_id
        WHERE st.location_id = ANY(%(stores)s::bigint[]) AND p.sku = ANY(%(skus)s::text[])
          AND (%(owner)s::bigint IS NULL OR p.owner_id = %(owner)s::bigint)
    )
    SELECT t.id, t.sku,
           coalesce(sum(s.units) FILTER (WHERE s.sold_at < %(during_from)s), 0)::bigint,
           coalesce(sum(s.units) FILTER (WHERE s.sold_at >= %(during_from)s), 0)::bigint
    FROM targeted t LEFT JOIN sales s ON s.product_id = t.id
    GROUP BY t.id, t.sku ORDER BY t.sku, t.id
    """,
    sales=_SALES,
    stock=STOCK_LEVELS,
    products=CATALOGUE_PRODUCTS,
)

# ---------------------------------------------------------------- analytics

# Redemptions of some campaigns per (campaign, store, local day in the
# program's zone) of ``occurred_at``, from ``from_at`` until ``until``
# (params; ``store`` null for every store). Counts per state; discount cost
# net of rollbacks (confirmed and rolled back ones; reserved ones are not
# spent yet, released ones never were); revenue and points of the confirmed
# and rolled back baskets.
ANALYTICS_ROWS = statement(
    """
    SELECT r.{r.campaign}, r.{r.store}, (r.{r.occurred_at} AT TIME ZONE %(zone)s)::date AS day,
           count(*) FILTER (WHERE r.{r.state} = 'confirmed'),
           count(*) FILTER (WHERE r.{r.state} = 'reserved'),
           count(*) FILTER (WHERE r.{r.state} = 'released'),
           count(*) FILTER (WHERE r.{r.state} = 'rolled_back'),
           coalesce(sum(r.{r.discount_amount} - r.{r.rolled_back_amount})
                    FILTER (WHERE r.{r.state} IN ('confirmed', 'rolled_back')), 0),
           coalesce(sum(r.{r.basket_amount}) FILTER (WHERE r.{r.state} IN ('confirmed', 'rolled_back')), 0),
           coalesce(sum(r.{r.points_earned}) FILTER (WHERE r.{r.state} IN ('confirmed', 'rolled_back')), 0)::bigint,
           coalesce(sum(r.{r.points_burned}) FILTER (WHERE r.{r.state} IN ('confirmed', 'rolled_back')), 0)::bigint
    FROM {r} r
    WHERE r.{r.campaign} = ANY(%(campaigns)s::bigint[])
      AND r.{r.occurred_at} >= %(from_at)s AND r.{r.occurred_at} < %(until)s
      AND (%(store)s::bigint IS NULL OR r.{r.store} = %(store)s::bigint)
    GROUP BY 1, 2, 3
    ORDER BY 1, 3, 2 NULLS FIRST
    LIMIT %(limit)s
    """,
    r=Redemption,
)

# The weekly slow-mover proposal of one (program, store, week), serialised for
# the transaction (param ``key``: a text naming them).
LOCK_SLOW_MOVER_PROPOSAL = statement("SELECT pg_advisory_xact_lock(hashtextextended(%(key)s, 0))")
