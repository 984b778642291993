"""Reads on inventory, scoped to the caller."""

from django.db import connection

from inventory.sql import CLIENT_STORE
from partners.callers import Caller
from partners.models import CallerKind

# Where a request keeps the store its store client acts for, once read
# (here, or with the location by location_visible_by_code).
STORE_MEMO = "store_id"


def store_id_of_caller(*, caller: Caller) -> int | None:
    """The store a store or device client acts for; None for other callers
    and for a store client that is not bound yet (which then sees nothing)."""
    if caller.kind not in (CallerKind.STORE, CallerKind.DEVICE):
        return None
    if STORE_MEMO not in caller.memo:
        with connection.cursor() as cursor:
            cursor.execute(CLIENT_STORE, [caller.client.pk])
            row = cursor.fetchone()
        caller.memo[STORE_MEMO] = None if row is None else row[0]
    return caller.memo[STORE_MEMO]
