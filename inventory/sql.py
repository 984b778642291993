"""Every raw SQL statement of the inventory, with its table and column names
taken from the models (``gateway.sql``), and the fragments other apps compose
when a hot statement must read inventory rows in the same round trip.

A fragment here is a contract: its column names are what callers may use, and
they stay when the models change. PostgreSQL pulls a plain sub-select up into
the statement that uses it, so a fragment costs nothing at run time.
"""

from gateway.sql import fragment, statement
from inventory.models import Location, Product

# The stores as click-and-collect sees them: ``id``, ``code``, and
# ``takes_orders`` (the store is active and offers click-and-collect).
COLLECT_STORES = fragment(
    """(SELECT {loc.id} AS id, {loc.code} AS code, {loc.is_active} AND {loc.click_and_collect} AS takes_orders
        FROM {loc})""",
    loc=Location,
)

# The active products among some ids, with what an order line copies from the
# catalogue (parameter: the ids, as a list).
ORDERABLE_PRODUCTS = statement(
    """
    SELECT {p.id}, {p.sku}, {p.name_fr}, {p.name_en}, {p.price_amount}, {p.price_currency}, {p.owner}
    FROM {p} WHERE {p.id} = ANY(%s) AND {p.is_active}
    """,
    p=Product,
)
