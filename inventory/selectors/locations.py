"""Which locations a caller sees, and where it reads and changes exact stock.

- Locations: the operator sees every location; everyone else sees the
  retailer's active stores (public places), and a partner also its own
  warehouses and partner stores. Another partner's location does not exist
  for it (404).
- Exact stock: the operator everywhere; a partner at its own locations; a
  store client at its own store. Shoppers and devices read none (they ask
  /availability, which caps quantities)."""

import datetime as dt
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from gateway.api.problems import CallerNotAllowed, FieldInvalid
from gateway.sql import instance_of_row
from inventory.errors import LocationNotFound
from inventory.models import Location, LocationKind
from inventory.selectors.callers import STORE_MEMO, store_id_of_caller
from inventory.sql import LOCATION_KIND_BY_CODE, LOCATION_VISIBLE_BY_CODE
from partners.callers import Caller
from partners.models import CallerKind, Partner

# Kinds of caller that create and edit products and locations (stores and
# shoppers read the catalogue; the store's own stock is changed through /stock).
CATALOG_EDITORS = frozenset({CallerKind.OPERATOR, CallerKind.PARTNER})

_PUBLIC_STORES = Q(owner__isnull=True, kind=LocationKind.STORE, is_active=True)


def locations_visible_to(*, caller: Caller) -> QuerySet[Location]:
    locations = Location.objects.select_related("owner")
    if caller.is_operator:
        return locations.all()
    if caller.kind == CallerKind.PARTNER:
        return locations.filter(_PUBLIC_STORES | Q(owner_id=caller.partner_id))
    if caller.kind in (CallerKind.STORE, CallerKind.SHOPPER):
        return locations.filter(_PUBLIC_STORES | Q(pk=store_id_of_caller(caller=caller) or 0))
    return locations.none()


def location_visible_by_code(*, caller: Caller, code: str) -> Location | None:
    """The location ``code`` names if ``locations_visible_to`` shows it to the
    caller, read by one plain statement: the store of a quote, a till ticket
    or a recommendation is looked up on every such request, and the ORM's
    compilation of the visibility query cost ten times PostgreSQL's answer.
    The statement's condition is the selector's, which
    tests/inventory/test_location_visibility.py holds equal for every kind of
    caller. The owner is not joined (read lazily if asked)."""
    kind = caller.kind
    if not (caller.is_operator or kind in (CallerKind.PARTNER, CallerKind.STORE, CallerKind.SHOPPER)):
        return None
    # The store a store client acts for is read with the location, unless
    # the request already knows it (store_id_of_caller's memo).
    known = kind == CallerKind.STORE and STORE_MEMO in caller.memo
    params: dict[str, Any] = {
        "code": code,
        "all": caller.is_operator,
        "partner": caller.partner_id if kind == CallerKind.PARTNER else None,
        "own_store": caller.memo[STORE_MEMO] if known else None,
        "client": caller.client.pk if kind == CallerKind.STORE and not known else None,
    }
    with connection.cursor() as cursor:
        cursor.execute(LOCATION_VISIBLE_BY_CODE, params)
        row = cursor.fetchone()
    if row is None:
        return None
    if kind == CallerKind.STORE:
        caller.memo[STORE_MEMO] = row[-1]
    return instance_of_row(Location, row[:-1])


# Code -> "is a store", per process. A location's code and kind are set when
# it is created and never change, and a location is never deleted (neither
# the API nor the admin edits or deletes them), so what was read once stays
# true.
LOCATION_IS_STORE: dict[str, bool] = {}
LOCATION_IS_STORE_KEPT = 50_000


def location_is_store(*, code: str) -> bool:
    """Whether ``code`` names a store (False for a code that names nothing):
    which availability answers a stock change there retires
    (``inventory.apps``: a change at a store retires that store's answers, a
    change elsewhere every store's)."""
    known = LOCATION_IS_STORE.get(code)
    if known is None:
        with connection.cursor() as cursor:
            cursor.execute(LOCATION_KIND_BY_CODE, [code])
            row = cursor.fetchone()
        known = row is not None and row[0] == LocationKind.STORE
        if row is not None:
            if len(LOCATION_IS_STORE) >= LOCATION_IS_STORE_KEPT:
                LOCATION_IS_STORE.clear()
            LOCATION_IS_STORE[code] = known
    return known


def locations_filtered(
    *,
    caller: Caller,
    kind: str | None = None,
    owner: str | None = None,
    updated_since: dt.datetime | None = None,
    q: str | None = None,
    click_and_collect: bool | None = None,
) -> QuerySet[Location]:
    """The list endpoint: ``owner`` ("retailer" or a partner slug) filters for the operator only."""
    locations = locations_visible_to(caller=caller)
    if kind:
        locations = locations.filter(kind=kind)
    if owner and caller.is_operator:
        locations = locations.filter(owner__isnull=True) if owner == "retailer" else locations.filter(owner__slug=owner)
    if updated_since is not None:
        locations = locations.filter(updated_at__gte=updated_since)
    if q:
        locations = locations.filter(Q(name__icontains=q) | Q(city__icontains=q) | Q(code__iexact=q))
    if click_and_collect is not None:
        locations = locations.filter(click_and_collect=click_and_collect)
    return locations


def location_get(*, caller: Caller, code: str) -> Location:
    location = locations_visible_to(caller=caller).filter(code=code).first()
    if location is None:
        raise LocationNotFound
    return location


def location_get_for_edit(*, caller: Caller, code: str) -> Location:
    """A location the caller may edit: the operator any, a partner its own."""
    ensure_catalog_editor(caller=caller)
    location = location_get(caller=caller, code=code)
    if not caller.is_operator and location.owner_id != caller.partner_id:
        raise LocationNotFound
    return location


def ensure_catalog_editor(*, caller: Caller) -> None:
    if caller.kind not in CATALOG_EDITORS:
        raise CallerNotAllowed(_("Only the operator and partners create and edit products and locations."))


def stock_locations_of(*, caller: Caller) -> QuerySet[Location]:
    """Where the caller reads exact stock and changes it."""
    if caller.is_operator:
        return Location.objects.all()
    if caller.kind == CallerKind.PARTNER:
        return Location.objects.filter(owner_id=caller.partner_id)
    if caller.kind == CallerKind.STORE:
        return Location.objects.filter(pk=store_id_of_caller(caller=caller) or 0)
    return Location.objects.none()


def stock_location_get(*, caller: Caller, code: str) -> Location:
    location = stock_locations_of(caller=caller).filter(code=code).first()
    if location is None:
        raise LocationNotFound
    return location


def owner_for_new_object(*, caller: Caller, slug: str | None) -> Partner | None:
    """Who owns a product or location the caller creates: a partner always
    itself; the operator the partner it names (None: the retailer)."""
    ensure_catalog_editor(caller=caller)
    if not caller.is_operator:
        partner = caller.client.partner
        if slug is not None and (partner is None or slug != partner.slug):
            raise FieldInvalid("owner", _("Partners create products and locations for themselves only."))
        return partner
    if slug is None:
        return None
    owner = Partner.objects.filter(slug=slug).first()
    if owner is None:
        raise FieldInvalid("owner", _("No partner with this slug."), code="unknown_partner")
    return owner
