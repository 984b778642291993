"""Every raw SQL statement of the inventory, with its table and column names
taken from the models (``gateway.sql``), and the fragments other apps compose
when a hot statement must read inventory rows in the same round trip.

Tables are always ``{alias}``; a column is ``{alias.field}`` where SQL wants a
bare column name (SET, INSERT and ON CONFLICT lists, a sub-select read by
another app) and is written plainly after a table alias elsewhere, which
``tests/gateway/test_sql.py`` has PostgreSQL resolve (PREPARE) against the
migrated schema. Common table expressions alias the columns they expose, so
the statements reading them do not depend on the column names.

A fragment here is a contract: its column names are what callers may use, and
they stay when the models change. PostgreSQL pulls a plain sub-select up into
the statement that uses it, so a fragment costs nothing at run time.
"""

from gateway.sql import columns, fragment, opaque, statement
from inventory.models import ClientLocation, Location, Product, StockLevel, StockMovement

# ---------------------------------------------------------------- published for other apps

# The stores as click-and-collect sees them: ``id``, ``code``, and
# ``takes_orders`` (the store is active and offers click-and-collect).
COLLECT_STORES = fragment(
    """(SELECT {loc.id} AS id, {loc.code} AS code, {loc.is_active} AND {loc.click_and_collect} AS takes_orders
        FROM {loc})""",
    loc=Location,
)

# The store a store or device client acts for (parameter: the client id): a
# plain statement, since every request of a store client asks it and the ORM's
# compilation of even this query costs more than PostgreSQL's answer.
CLIENT_STORE = statement(
    "SELECT {b.location} FROM {b} WHERE {b.client} = %s ORDER BY {b.id} LIMIT 1",
    b=ClientLocation,
)

# The kind of the location a code names (param: code).
LOCATION_KIND_BY_CODE = statement("SELECT {l.kind} FROM {l} WHERE {l.code} = %s", l=Location)

# One location by code as ``inventory.selectors.locations.locations_visible_to``
# lets a caller see it (params: code; ``all`` for the operator; ``partner``,
# the caller's partner or NULL; ``own_store``, the store a store client acts
# for when already known, else NULL; ``client``, the store client whose store
# is still to be read (as CLIENT_STORE reads it), else NULL): every column, in
# the model's field order, then the caller's own store, so that a store
# client's first lookup of a request costs one round trip, not two.
LOCATION_VISIBLE_BY_CODE = statement(
    """
    WITH own AS (
        SELECT coalesce(
            %(own_store)s::bigint,
            (SELECT {b.location} FROM {b} WHERE {b.client} = %(client)s::bigint ORDER BY {b.id} LIMIT 1)
        ) AS store
    )
    SELECT {columns}, own.store FROM own JOIN {loc} l
      ON l.code = %(code)s
     AND (%(all)s
          OR (l.owner_id IS NULL AND l.kind = 'store' AND l.is_active)
          OR l.owner_id = %(partner)s
          OR l.id = own.store)
    """,
    loc=Location,
    b=ClientLocation,
    columns=columns(Location, "l"),
)

# The store an availability question names (param: code): any active store
# of the retailer, every column in the model's field order
# (``inventory.selectors.availability.availability_store_get``).
RETAIL_STORE_BY_CODE = statement(
    """
    SELECT {columns} FROM {loc} l
    WHERE l.code = %(code)s AND l.kind = 'store' AND l.is_active AND l.owner_id IS NULL
    """,
    loc=Location,
    columns=columns(Location, "l"),
)

# The products some SKUs name among those
# ``inventory.selectors.products.products_visible_to`` lets a caller see
# (params: skus; ``all`` for the operator; ``partner``, the caller's partner
# or NULL; ``active``, true for stores and shoppers, who see the active
# catalogue).
PRODUCTS_VISIBLE_BY_SKU = statement(
    """
    SELECT {p.id}, {p.sku}, {p.name_fr}, {p.name_en}, {p.category}, {p.owner} FROM {p}
    WHERE {p.sku} = ANY({skus})
      AND (%(all)s OR {p.owner} = %(partner)s OR (%(active)s AND {p.is_active}))
    """,
    p=Product,
    skus=opaque("skus", "text[]"),
)

# The active products among some ids, with what an order line copies from the
# catalogue (parameter: the ids, as a list).
ORDERABLE_PRODUCTS = statement(
    """
    SELECT {p.id}, {p.sku}, {p.name_fr}, {p.name_en}, {p.price_amount}, {p.price_currency}, {p.owner}, {p.category}
    FROM {p} WHERE {p.id} = ANY({ids}) AND {p.is_active}
    """,
    p=Product,
    ids=opaque(None, "bigint[]"),
)

# Units that left a location's shelves as sales: one row per ``sale`` movement
# of the stock ledger (a click-and-collect order collected, a till sale posted
# as an adjustment), with ``location_id``, ``product_id``, ``sold_at``, ``units``
# (positive) and the movement's ``reference`` (what caused it).
SALE_MOVEMENTS = fragment(
    """(SELECT s.{level.location} AS location_id, s.{level.product} AS product_id, m.{movement.created_at} AS sold_at,
               -m.{movement.delta_on_hand} AS units, m.{movement.reference} AS reference
        FROM {movement} m JOIN {level} s ON s.id = m.{movement.stock_level}
        WHERE m.{movement.reason} = 'sale' AND m.{movement.delta_on_hand} < 0)""",
    movement=StockMovement,
    level=StockLevel,
)

# Stock levels as other apps may read them: ``location_id``, ``product_id``, ``on_hand``.
STOCK_LEVELS = fragment(
    """(SELECT {level.location} AS location_id, {level.product} AS product_id, {level.on_hand} AS on_hand
        FROM {level})""",
    level=StockLevel,
)

# Products as other apps may read them: ``id``, ``sku``, ``name_fr``, ``name_en``,
# ``category``, ``price_amount``, ``price_currency``, ``owner_id``, ``is_active``.
CATALOGUE_PRODUCTS = fragment(
    """(SELECT {p.id} AS id, {p.sku} AS sku, {p.name_fr} AS name_fr, {p.name_en} AS name_en, {p.category} AS category,
               {p.price_amount} AS price_amount, {p.price_currency} AS price_currency, {p.owner} AS owner_id,
               {p.is_active} AS is_active
        FROM {p})""",
    p=Product,
)

# ---------------------------------------------------------------- constraint names

# PostgreSQL's own name for the UNIQUE that ``Location.code`` (unique=True)
# declares inline in CREATE TABLE: <table>_<column>_key. Location creation
# tells a taken code from another integrity error by it.
LOCATION_CODE_UNIQUE = f"{Location._meta.db_table}_{Location._meta.get_field('code').column}_key"

# ---------------------------------------------------------------- locks (inventory/locks.py)

# The levels of some products at one location, in primary-key order, with
# what their events need (params: location id, product ids).
LOCK_LEVELS_AT_LOCATION = statement(
    """
    SELECT s.id, s.product_id, p.sku, l.code, p.owner_id
    FROM {level} s
    JOIN {product} p ON p.id = s.product_id
    JOIN {location} l ON l.id = s.location_id
    WHERE s.location_id = %s AND s.product_id = ANY({ids})
    ORDER BY s.id
    FOR UPDATE OF s
    """,
    level=StockLevel,
    product=Product,
    location=Location,
    ids=opaque(None, "bigint[]"),
)

# Stock levels are hot in memory, so an index probe costs about what a
# sequential page read does. With the default random_page_cost (4) the planner
# hashes the whole table instead of probing 5,000 pairs: 138 ms against 27 ms
# measured on 200,000 levels. For the transaction only. (A SET cannot be
# PREPAREd, so it is not registered with the parse check; it names no table.)
PREFER_INDEX_PROBES = "SET LOCAL random_page_cost = 1.1"

# The levels of (product, location) pairs given as two bigint array literals,
# in primary-key order.
LOCK_LEVELS_BY_PAIRS = statement(
    """
    SELECT s.id, s.product_id, s.location_id, s.on_hand, s.reserved, s.version
    FROM {level} s
    JOIN unnest(%s::bigint[], %s::bigint[]) AS v(product_id, location_id)
      ON s.product_id = v.product_id AND s.location_id = v.location_id
    ORDER BY s.id
    FOR UPDATE OF s
    """,
    level=StockLevel,
)

# ---------------------------------------------------------------- stock changes (inventory/services/changes.py)

# Missing levels at on hand 0, in (product, location) order, the unique
# index's order; a level created meanwhile by another transaction is left
# alone. Params: product ids, location ids (bigint array literals).
LEVELS_CREATE = statement(
    """
    INSERT INTO {level} ({level.product}, {level.location}, {level.on_hand}, {level.reserved}, {level.version},
                         {level.updated_at})
    SELECT v.product_id, v.location_id, 0, 0, 1, now()
    FROM unnest(%s::bigint[], %s::bigint[]) AS v(product_id, location_id)
    ORDER BY v.product_id, v.location_id
    ON CONFLICT ({level.product}, {level.location}) DO NOTHING
    RETURNING {level.product}, {level.location}
    """,
    level=StockLevel,
)

# Levels created for lines that then failed, if still empty (param: their ids).
LEVELS_DROP_EMPTY = statement(
    "DELETE FROM {level} s WHERE s.id = ANY(%s::bigint[]) AND s.on_hand = 0 AND s.reserved = 0",
    level=StockLevel,
)

# One statement writes the levels and their movements (a data-modifying CTE):
# the new figures cross the wire once, and the movements take ``reserved``
# from the rows just updated. Movements are inserted in line order. Params:
# level ids, new and old on hand (array literals), reason, actor id,
# idempotency key, reference.
LEVELS_SET_WITH_MOVEMENTS = statement(
    """
    WITH v AS (
        SELECT * FROM unnest(%s::bigint[], %s::int[], %s::int[]) WITH ORDINALITY AS v(id, new, old, n)
    ), updated AS (
        UPDATE {level} s
        SET {level.on_hand} = v.new, {level.version} = s.version + 1, {level.updated_at} = now()
        FROM v
        WHERE s.id = v.id AND s.reserved <= v.new
        RETURNING s.id, s.reserved, s.version, v.new, v.old, v.n
    ), moved AS (
        INSERT INTO {movement}
            ({movement.stock_level}, {movement.reason}, {movement.delta_on_hand}, {movement.delta_reserved},
             {movement.on_hand_after}, {movement.reserved_after}, {movement.actor}, {movement.idempotency_key},
             {movement.reference}, {movement.created_at})
        SELECT u.id, %s, u.new - u.old, 0, u.new, u.reserved, %s, %s, %s, now()
        FROM updated u ORDER BY u.n
    )
    SELECT id, reserved, version FROM updated
    """,
    level=StockLevel,
    movement=StockMovement,
)

# ---------------------------------------------------------------- orders' stock (inventory/services/stock.py)

# The guarded UPDATE (its WHERE clause mirrors the CHECK constraints, so a line
# that would break one is left out, not an error) and the ledger movements of
# the rows it changed, written only when every line changed (otherwise the
# caller raises and rolls back, and nothing is wasted).
LEVELS_MOVE_WITH_MOVEMENTS = statement(
    """
    WITH v AS (
        SELECT * FROM unnest({ids}, {d_on_hand}, {d_reserved})
            WITH ORDINALITY AS v(id, d_on_hand, d_reserved, n)
    ), updated AS (
        UPDATE {level} s
        SET {level.on_hand} = s.on_hand + v.d_on_hand, {level.reserved} = s.reserved + v.d_reserved,
            {level.version} = s.version + 1, {level.updated_at} = now()
        FROM v
        WHERE s.id = v.id
          AND s.on_hand + v.d_on_hand >= 0
          AND s.reserved + v.d_reserved >= 0
          AND s.reserved + v.d_reserved <= s.on_hand + v.d_on_hand
        RETURNING s.id, s.on_hand, s.reserved, s.version, v.d_on_hand, v.d_reserved, v.n
    ), moved AS (
        INSERT INTO {movement}
            ({movement.stock_level}, {movement.reason}, {movement.delta_on_hand}, {movement.delta_reserved},
             {movement.on_hand_after}, {movement.reserved_after}, {movement.actor}, {movement.idempotency_key},
             {movement.reference}, {movement.created_at})
        SELECT u.id, %(reason)s, u.d_on_hand, u.d_reserved, u.on_hand, u.reserved,
               %(actor)s, %(key)s, %(reference)s, now()
        FROM updated u
        WHERE (SELECT count(*) FROM updated) = %(all_of)s
        ORDER BY u.n
    )
    SELECT id, on_hand, reserved, version FROM updated
    """,
    level=StockLevel,
    movement=StockMovement,
    ids=opaque("ids", "bigint[]"),
    d_on_hand=opaque("d_on_hand", "int[]"),
    d_reserved=opaque("d_reserved", "int[]"),
)

# ---------------------------------------------------------------- bulk sync (inventory/services/sync.py)

# (owner id, sku, id) of the products with these SKUs among some owners.
# Params: the SKUs, the partner ids, and whether the retailer (owner NULL) is one.
PRODUCTS_BY_OWNER_AND_SKU = statement(
    """
    SELECT p.owner_id, p.sku, p.id FROM {product} p
    WHERE p.sku = ANY(%s::text[]) AND (p.owner_id = ANY(%s::bigint[]) OR (%s AND p.owner_id IS NULL))
    """,
    product=Product,
)

# ---------------------------------------------------------------- the ledger check (inventory/selectors/ledger.py)

LEVELS_COUNT = statement("SELECT count(*) FROM {level}", level=StockLevel)

# Levels whose figures differ from the sums of their movements or from their
# last movement's figures, in primary-key order (param: the limit).
LEDGER_MISMATCHES = statement(
    """
    WITH ledger AS (
        SELECT m.stock_level_id, sum(m.delta_on_hand) AS on_hand, sum(m.delta_reserved) AS reserved,
               (array_agg(m.on_hand_after ORDER BY m.id DESC))[1] AS last_on_hand,
               (array_agg(m.reserved_after ORDER BY m.id DESC))[1] AS last_reserved
        FROM {movement} m GROUP BY m.stock_level_id
    )
    SELECT s.id, p.sku, l.code, s.on_hand, s.reserved,
           coalesce(g.on_hand, 0)::bigint, coalesce(g.reserved, 0)::bigint,
           g.last_on_hand, g.last_reserved
    FROM {level} s
    JOIN {product} p ON p.id = s.product_id
    JOIN {location} l ON l.id = s.location_id
    LEFT JOIN ledger g ON g.stock_level_id = s.id
    WHERE s.on_hand <> coalesce(g.on_hand, 0) OR s.reserved <> coalesce(g.reserved, 0)
       OR s.on_hand <> coalesce(g.last_on_hand, 0) OR s.reserved <> coalesce(g.last_reserved, 0)
    ORDER BY s.id
    LIMIT %s
    """,
    movement=StockMovement,
    level=StockLevel,
    product=Product,
    location=Location,
)

# ---------------------------------------------------------------- availability (inventory/selectors/availability.py)

# Both availability statements start from the active products with the SKUs
# asked (param ``skus``) and answer one row per product and location (product
# columns, then location columns or NULLs). ``'store'`` is LocationKind.STORE.

# Near a point: active click-and-collect stores holding the SKUs within the
# radius, nearest first. A bounding box on the indexed latitude/longitude
# picks candidates; the haversine distance then decides. Each product row
# also carries its **reach**: the codes of every candidate store (holding
# the SKU or not) no farther than the last store listed when ``limit`` are
# listed, else than the radius: the only stores whose stock can change
# this answer (a farther one can enter the list only once a nearer one left
# it). NULL when more than ``reach_max`` stores are within it.
AVAILABILITY_NEAR = statement(
    """
    WITH p AS (
        SELECT p.id AS id, p.sku AS sku, p.owner_id AS owner_id, p.name_fr AS name_fr, p.name_en AS name_en
        FROM {product} p WHERE p.sku = ANY({skus}) AND p.is_active
    ), box AS (
        SELECT l.id AS id, l.code AS code, l.name AS name, l.owner_id AS owner_id,
               l.latitude::float8 AS lat, l.longitude::float8 AS lng
        FROM {location} l
        WHERE l.kind = 'store' AND l.is_active AND l.click_and_collect
          AND l.latitude BETWEEN %(lat_min)s AND %(lat_max)s AND l.longitude BETWEEN %(lng_min)s AND %(lng_max)s
    ), candidates AS (
        SELECT b.id, b.code, b.name, b.owner_id,
               2 * %(earth)s * asin(sqrt(
                   power(sin(radians(b.lat - %(lat)s) / 2), 2)
                   + cos(radians(%(lat)s)) * cos(radians(b.lat)) * power(sin(radians(b.lng - %(lng)s) / 2), 2)
               )) AS km
        FROM box b
    ), ranked AS (
        SELECT s.product_id, c.id AS location_id, c.code, c.name, c.owner_id, s.available, c.km,
               row_number() OVER (PARTITION BY s.product_id ORDER BY c.km, c.code) AS position
        FROM candidates c
        JOIN {level} s ON s.location_id = c.id AND s.product_id IN (SELECT id FROM p) AND s.available > 0
        WHERE c.km <= %(radius)s
    ), kept AS (
        SELECT * FROM ranked WHERE position <= %(limit)s
    ), reach AS (
        SELECT p.id AS product_id,
               CASE WHEN count(k.position) >= %(limit)s THEN max(k.km) ELSE %(radius)s END AS km
        FROM p LEFT JOIN kept k ON k.product_id = p.id
        GROUP BY p.id
    ), reach_codes AS (
        SELECT r.product_id,
               CASE WHEN count(c.code) > %(reach_max)s THEN NULL
                    ELSE coalesce(array_agg(c.code) FILTER (WHERE c.code IS NOT NULL), '{{}}') END AS codes
        FROM reach r LEFT JOIN candidates c ON c.km <= r.km
        GROUP BY r.product_id
    )
    SELECT p.id, p.sku, p.name_fr, p.name_en, p.owner_id, rc.codes,
           k.location_id, k.code, k.name, k.owner_id, k.available, k.km
    FROM p JOIN reach_codes rc ON rc.product_id = p.id
    LEFT JOIN kept k ON k.product_id = p.id
    ORDER BY p.sku, p.id, k.position
    """,
    product=Product,
    location=Location,
    level=StockLevel,
    skus=opaque("skus", "text[]"),
)

# At a store: the store's own level (param ``store``) and the active
# warehouses and partner stores holding the products named by SKU (``skus``)
# or by id (``ids``), the store first, then by lead time, most available, code.
AVAILABILITY_AT_STORE = statement(
    """
    WITH p AS (
        SELECT p.id AS id, p.sku AS sku, p.owner_id AS owner_id, p.name_fr AS name_fr, p.name_en AS name_en
        FROM {product} p WHERE (p.sku = ANY({skus}) OR p.id = ANY({ids})) AND p.is_active
    ), hits AS (
        SELECT s.product_id, l.id AS location_id, l.code, l.name, l.kind, l.owner_id, l.lead_time_days, s.available,
               row_number() OVER (
                   PARTITION BY s.product_id ORDER BY l.id <> %(store)s, l.lead_time_days, s.available DESC, l.code
               ) AS position
        FROM {level} s
        JOIN {location} l ON l.id = s.location_id
        WHERE s.product_id IN (SELECT id FROM p)
          AND (l.id = %(store)s OR (l.kind <> 'store' AND l.is_active AND s.available > 0))
    )
    SELECT p.id, p.sku, p.name_fr, p.name_en, p.owner_id,
           h.location_id, h.code, h.name, h.kind, h.owner_id, h.lead_time_days, h.available
    FROM p LEFT JOIN hits h ON h.product_id = p.id AND h.position <= %(limit)s
    ORDER BY p.sku, p.id, h.position
    """,
    product=Product,
    location=Location,
    level=StockLevel,
    skus=opaque("skus", "text[]"),
    ids=opaque("ids", "bigint[]"),
)
