"""The SQL of cross-sell and upsell: the baskets a build mines, the switch to
a new model version, the scores of a basket, and the curated relations of some
products. Products are only ever named by id here; what they are (active,
stocked, collectable) is inventory's answer, asked through its selectors."""

from commerce.models import (
    CoPurchaseActive,
    CoPurchaseItem,
    CoPurchaseModel,
    CoPurchaseScore,
    ImportedBasket,
    Order,
    OrderLine,
    ProductRelation,
    RecommendationImpression,
)
from gateway.sql import fragment, opaque, statement

# Collected click-and-collect orders as baskets: the store and the product ids
# of each order, in order id order (params: none). A returned or cancelled
# order says nothing about what goes together.
COLLECTED_BASKETS = statement(
    """
    SELECT o.store_id, array_agg(l.product_id ORDER BY l.id)
    FROM {order} o JOIN {line} l ON l.order_id = o.id
    WHERE o.status = 'collected'
    GROUP BY o.id, o.store_id
    ORDER BY o.id
    """,
    order=Order,
    line=OrderLine,
)

# Imported till baskets, in import order (params: none).
IMPORTED_BASKETS = statement(
    "SELECT b.product_ids FROM {basket} b ORDER BY b.id",
    basket=ImportedBasket,
)

# The version serving a purpose becomes ``model`` in one statement: a reader
# sees the old version or the new one, never a mix (params: purpose, model).
MODEL_ACTIVATE = statement(
    """
    INSERT INTO {active} ({active.purpose}, {active.model}, {active.switched_at})
    VALUES (%(purpose)s, %(model)s, now())
    ON CONFLICT ({active.purpose}) DO UPDATE
    SET {active.model} = EXCLUDED.{active.model}, {active.switched_at} = EXCLUDED.{active.switched_at}
    """,
    active=CoPurchaseActive,
)

# The version serving a purpose, with how its scores are blended.
MODEL_ACTIVE = statement(
    """
    SELECT m.id, m.method, m.parameters, m.created_at
    FROM {active} a JOIN {model} m ON m.id = a.model_id
    WHERE a.purpose = %(purpose)s
    """,
    active=CoPurchaseActive,
    model=CoPurchaseModel,
)

# A basket question's two small reads in one round trip (params: purpose,
# products bigint[]): MODEL_ACTIVE's columns (NULLs before the first build),
# then the curated relations from those products that are in force now, best
# weight first, as one JSON array of [from, to, kind, weight, relation id].
MODEL_ACTIVE_AND_CURATED = statement(
    """
    SELECT m.id, m.method, m.parameters, m.created_at,
           (SELECT coalesce(
                       json_agg(
                           json_build_array(r.from_product_id, r.to_product_id, r.kind, r.weight::float8, r.id)
                           ORDER BY r.weight DESC, r.id
                       ),
                       '[]'
                   )
            FROM {relation} r
            WHERE r.from_product_id = ANY(%(products)s::bigint[])
              AND (r.valid_from IS NULL OR r.valid_from <= now())
              AND (r.valid_until IS NULL OR r.valid_until > now()))
    FROM (SELECT 1) one
    LEFT JOIN ({active} a JOIN {model} m ON m.id = a.model_id) ON a.purpose = %(purpose)s
    """,
    active=CoPurchaseActive,
    model=CoPurchaseModel,
    relation=ProductRelation,
)

# Scores and item counts of versions no longer needed (param: model ids).
SCORES_DROP = statement("DELETE FROM {score} s WHERE s.model_id = ANY(%s::bigint[])", score=CoPurchaseScore)
ITEMS_DROP = statement("DELETE FROM {item} i WHERE i.model_id = ANY(%s::bigint[])", item=CoPurchaseItem)

# What one version holds, read once per process by the scoring (a version's
# rows never change once built): the products' popularity over the network
# (params: model), and the neighbours of some products (params: model,
# products bigint[]).
VERSION_ITEMS = statement(
    """
    SELECT i.product_id, i.prior, i.baskets FROM {item} i
    WHERE i.model_id = %(model)s AND i.store_id IS NULL
    ORDER BY i.baskets DESC, i.product_id
    """,
    item=CoPurchaseItem,
)
VERSION_NEIGHBOURS = statement(
    """
    SELECT s.product_id, s.other_id, s.score, s.baskets FROM {score} s
    WHERE s.model_id = %(model)s AND s.product_id = ANY({products})
    """,
    score=CoPurchaseScore,
    products=opaque("products", "bigint[]"),
)

# Cold start: the best sellers of some categories at a store, then in the
# whole network (params: model, store, categories text[], limit). The store's
# own sales come first, so a store's taste wins over the network's.
CATEGORY_BEST_SELLERS = statement(
    """
    SELECT i.product_id, i.baskets, i.store_id IS NOT NULL AS at_store
    FROM {item} i
    WHERE i.model_id = %(model)s AND i.category = ANY(%(categories)s::text[])
      AND (i.store_id = %(store)s OR i.store_id IS NULL)
    ORDER BY i.store_id IS NULL, i.baskets DESC, i.product_id
    LIMIT %(limit)s
    """,
    item=CoPurchaseItem,
)

# Binary COPY of a build's rows (not PREPAREd, so not registered: ``fragment``
# resolves the names all the same).
SCORES_COPY = fragment(
    "COPY {score} ({score.model}, {score.product}, {score.other}, {score.score}, {score.baskets}) "
    "FROM STDIN (FORMAT BINARY)",
    score=CoPurchaseScore,
)
ITEMS_COPY = fragment(
    "COPY {item} ({item.model}, {item.store}, {item.product}, {item.category}, {item.baskets}, {item.prior}) "
    "FROM STDIN (FORMAT BINARY)",
    item=CoPurchaseItem,
)


# One recommendations answer as shown (params: id, store, client, items as JSON).
IMPRESSION_INSERT = statement(
    "INSERT INTO {i} ({i.id}, {i.store}, {i.client}, {i.items}, {i.shown_at}) VALUES (%s, %s, %s, %s::jsonb, now())",
    i=RecommendationImpression,
)

# The offers of some answers, for the order lines that name them (params: the ids).
IMPRESSIONS_ITEMS = statement(
    "SELECT {i.id}, {i.items} FROM {i} WHERE {i.id} = ANY(%s)",
    i=RecommendationImpression,
)

# Offers shown per source and kind between two instants, at one store or all
# (params: from, to, store id or null).
IMPRESSIONS_BY_SOURCE = statement(
    """
    SELECT item->>2 AS source, item->>1 AS kind, count(*), count(DISTINCT i.id)
    FROM {i} i, jsonb_array_elements(i.{i.items}) AS item
    WHERE i.{i.shown_at} >= %(from)s AND i.{i.shown_at} < %(to)s
      AND (%(store)s::bigint IS NULL OR i.{i.store} = %(store)s)
    GROUP BY 1, 2
    """,
    i=RecommendationImpression,
)

# Order lines taken from those answers, per source and kind and currency:
# orders, units and revenue (line totals less their discounts) of the orders
# not cancelled nor left uncollected (params: from, to, store id or null).
ORDERED_BY_SOURCE = statement(
    """
    SELECT l.{line.recommendation_source}, l.{line.recommendation_kind}, o.{order.currency},
           count(DISTINCT o.id), sum(l.{line.quantity}),
           sum(l.{line.line_total_amount} - l.{line.discount_amount})
    FROM {line} l
    JOIN {i} i ON i.id = l.{line.recommendation}
    JOIN {order} o ON o.id = l.{line.order}
    WHERE i.{i.shown_at} >= %(from)s AND i.{i.shown_at} < %(to)s
      AND (%(store)s::bigint IS NULL OR i.{i.store} = %(store)s)
      AND o.{order.status} NOT IN ('cancelled', 'no_show')
    GROUP BY 1, 2, 3
    """,
    line=OrderLine,
    order=Order,
    i=RecommendationImpression,
)
