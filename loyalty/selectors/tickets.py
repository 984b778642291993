"""Reads for till tickets: the store a till posts for, the products its
lines name, a ticket already received, and the budget counters a late
ticket found spent. Stores and the operator post tickets; nobody else."""

from collections.abc import Sequence

from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext as _

from gateway.api.problems import CallerNotAllowed, FieldInvalid
from inventory.models import Location, LocationKind
from inventory.selectors import store_id_of_caller
from inventory.selectors.locations import location_visible_by_code
from inventory.selectors.products import VisibleProduct, products_visible_by_sku
from loyalty.errors import LoyaltyObjectNotFound
from loyalty.models import BudgetCounter, TillTicket
from loyalty.sql import TICKET_FINGERPRINT
from partners.callers import Caller
from partners.models import CallerKind


def ensure_till(*, caller: Caller) -> None:
    """Tickets come from a store's till (or the operator's back office replaying them)."""
    if caller.kind not in (CallerKind.STORE, CallerKind.OPERATOR):
        raise CallerNotAllowed(_("Only a store's till or the operator sends till tickets."))


def ticket_store(*, caller: Caller, code: str, field: str | None = None) -> Location:
    """The store ``code`` names, if the caller may act for it: a store client
    for its own store only, the operator for any. Otherwise a 422 on
    ``field`` (a body) or a 404 (a path: no enumeration)."""
    ensure_till(caller=caller)
    store = location_visible_by_code(caller=caller, code=code)
    if store is not None and store.kind != LocationKind.STORE:
        store = None
    own = store_id_of_caller(caller=caller) if caller.kind == CallerKind.STORE else None
    if store is None or (caller.kind == CallerKind.STORE and store.pk != own):
        if field is None:
            raise LoyaltyObjectNotFound()
        raise FieldInvalid(field, _("No such store, or not one you may send tickets for."), code="unknown_store")
    return store


def ticket_products(*, caller: Caller, skus: Sequence[str]) -> dict[str, VisibleProduct]:
    """The product each SKU of a ticket names: the retailer's own product
    first, else the only partner product with that SKU. A SKU no product
    has, or that several partners' products share (the till cannot say
    whose), is a 422 on the first line naming it. One plain statement
    (``products_visible_by_sku``: what ``products_visible_to`` shows)."""
    found: dict[str, list[VisibleProduct]] = {}
    for product in sorted(products_visible_by_sku(caller=caller, skus=skus), key=lambda p: (p.sku, p.product_id)):
        found.setdefault(product.sku, []).append(product)
    chosen: dict[str, VisibleProduct] = {}
    for index, sku in enumerate(skus):
        candidates = found.get(sku, [])
        retailer = [p for p in candidates if p.owner_id is None]
        if retailer or len(candidates) == 1:
            chosen[sku] = (retailer or candidates)[0]
        elif not candidates:
            raise FieldInvalid(f"lines.{index}.sku", _("No product has this SKU."), code="unknown_sku")
        else:
            raise FieldInvalid(
                f"lines.{index}.sku", _("Several partners' products have this SKU."), code="ambiguous_sku"
            )
    return chosen


def ticket_find(*, store: Location, ticket_id: str) -> TillTicket | None:
    return (
        TillTicket.objects.select_related("program", "store", "member").filter(store=store, ticket_id=ticket_id).first()
    )


def ticket_fingerprint_of(*, store_id: int, ticket_id: str) -> str | None:
    """The fingerprint of the ticket already received under this id at this
    store (None: none was). One narrow statement: most tickets are new."""
    with connection.cursor() as cursor:
        cursor.execute(TICKET_FINGERPRINT, {"store": store_id, "ticket": ticket_id})
        row = cursor.fetchone()
    return row[0] if row else None


def ticket_get(*, caller: Caller, store_code: str, ticket_id: str) -> TillTicket:
    """A ticket of a store the caller acts for (404 otherwise)."""
    ticket = ticket_find(store=ticket_store(caller=caller, code=store_code), ticket_id=ticket_id)
    if ticket is None:
        raise LoyaltyObjectNotFound()
    return ticket


def counters_spent(*, pairs: Sequence[tuple[int, str]]) -> list[int]:
    """Of the budget counters named by (budget id, key), those a redemption
    found spent: the ones at their count or money limit, else (an amount
    budget with some money left, but less than the discount) the one with
    the least money left. Ascending id."""
    if not pairs:
        return []
    condition = Q(pk__in=[])
    for budget_id, key in pairs:
        condition |= Q(budget_id=budget_id, key=key)
    counters = list(BudgetCounter.objects.filter(condition).order_by("pk"))
    full = [
        c.pk
        for c in counters
        if (c.limit_count is not None and c.used_count >= c.limit_count)
        or (c.limit_amount is not None and c.used_amount >= c.limit_amount)
    ]
    if full:
        return full
    money = [c for c in counters if c.limit_amount is not None]
    if not money:
        return []
    tightest = min(money, key=lambda c: (c.limit_amount - c.used_amount if c.limit_amount is not None else 0, c.pk))
    return [tightest.pk]
