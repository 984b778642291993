"""What a member bought where: the rows the "bought category C in the last N
days (at stores S)" audience reads (``MemberPurchase``)."""

import datetime as dt
from collections.abc import Iterable

from django.db import connection

from loyalty.sql import PURCHASES_UPSERT


def member_purchases_record(*, member_id: int, store_id: int, categories: Iterable[str], day: dt.date) -> None:
    """Record that the member bought ``categories`` at the store on the local
    ``day``: one upsert for all of them, keeping the latest date (a late till
    ticket never moves a date back)."""
    wanted = sorted({category for category in categories if category})
    if not wanted:
        return
    with connection.cursor() as cursor:
        cursor.execute(PURCHASES_UPSERT, {"member": member_id, "store": store_id, "categories": wanted, "day": day})
