"""Reads on inventory, scoped to the caller."""

from django.db import connection

from inventory.sql import CLIENT_STORE
from partners.callers import Caller
from partners.models import CallerKind


def store_id_of_caller(*, caller: Caller) -> int | None:
    """The store a store or device client acts for; None for other callers
    and for a store client that is not bound yet (which then sees nothing)."""
    if caller.kind not in (CallerKind.STORE, CallerKind.DEVICE):
        return None
    if "store_id" not in caller.memo:
        with connection.cursor() as cursor:
            cursor.execute(CLIENT_STORE, [caller.client.pk])
            row = cursor.fetchone()
        caller.memo["store_id"] = None if row is None else row[0]
    return caller.memo["store_id"]
