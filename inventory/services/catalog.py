"""Writes on products and locations: create, and update under optimistic
concurrency (the version the client read, from If-Match; 412 otherwise)."""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from gateway.api import readcache
from gateway.api.problems import FieldInvalid, PreconditionFailed
from gateway.sql import violated_constraint
from inventory.errors import LocationCodeTaken, ProductSkuTaken
from inventory.models import ClientLocation, Location, LocationKind, Product, holiday_subdivisions
from inventory.sql import LOCATION_CODE_UNIQUE
from partners.models import ApiClient, Partner
from partners.services import NewEvent, events_record


def product_create(*, owner: Partner | None, fields: dict[str, Any]) -> Product:
    """A product of ``owner`` (None: the retailer). SKUs are unique per owner (409)."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                product = Product.objects.create(owner=owner, **fields)
        except IntegrityError as exc:
            if violated_constraint(exc) == "product_owner_sku_unique":
                raise ProductSkuTaken(_("The SKU %(sku)s is already used.") % {"sku": fields.get("sku")}) from None
            raise
        events_record(events=[_product_changed(product, "created")])
    return product


def product_update(*, product: Product, expected_version: int, fields: dict[str, Any]) -> Product:
    """Change ``fields`` if the product is still at ``expected_version``; bumps the version."""
    with transaction.atomic():
        changed = Product.objects.filter(pk=product.pk, version=expected_version).update(
            **fields, version=F("version") + 1, updated_at=timezone.now()
        )
        if not changed:
            raise PreconditionFailed()
        product.refresh_from_db()
        events_record(events=[_product_changed(product, "updated")])
    return product


def _product_changed(product: Product, change: str) -> NewEvent:
    return NewEvent(
        type="product.changed",
        partner_id=product.owner_id,
        subject=f"product:{product.pk}",
        payload={
            "id": product.pk,
            "sku": product.sku,
            "change": change,
            "version": product.version,
            "is_active": product.is_active,
        },
    )


def location_create(*, owner: Partner | None, fields: dict[str, Any]) -> Location:
    """A location of ``owner`` (None: the retailer). Stores are the retailer's;
    a partner's places are warehouses and partner stores. Codes are unique (409)."""
    if fields.get("kind") == LocationKind.STORE and owner is not None:
        raise FieldInvalid("kind", _("Stores belong to the retailer; a partner's shop is a partner_store."))
    _check_subdivision(fields.get("country", "FR"), fields.get("subdivision", ""))
    with transaction.atomic():
        try:
            with transaction.atomic():
                location = Location.objects.create(owner=owner, **fields)
        except IntegrityError as exc:
            if violated_constraint(exc) == LOCATION_CODE_UNIQUE:
                raise LocationCodeTaken(
                    _("The location code %(code)s is already used.") % {"code": fields.get("code")}
                ) from None
            raise
        readcache.bump_on_commit([readcache.LOCATIONS])
    return location


def location_update(*, location: Location, expected_version: int, fields: dict[str, Any]) -> Location:
    _check_subdivision(fields.get("country", location.country), fields.get("subdivision", location.subdivision))
    with transaction.atomic():
        changed = Location.objects.filter(pk=location.pk, version=expected_version).update(
            **fields, version=F("version") + 1, updated_at=timezone.now()
        )
        if not changed:
            raise PreconditionFailed()
        location.refresh_from_db()
        readcache.bump_on_commit([readcache.LOCATIONS])
    return location


def _check_subdivision(country: str, subdivision: str) -> None:
    """A region must be one the holiday calendar knows for the country (the
    footfall notifier reads the store's public holidays from it)."""
    if subdivision and subdivision not in holiday_subdivisions(country):
        raise FieldInvalid(
            "subdivision",
            _("%(subdivision)s is not a region of %(country)s known to the public holiday calendar.")
            % {"subdivision": subdivision, "country": country},
        )


def client_location_bind(*, client: ApiClient, location: Location) -> ClientLocation:
    """Bind a store or device client to the store it acts for (replacing any earlier binding)."""
    with transaction.atomic():
        binding, _created = ClientLocation.objects.update_or_create(client=client, defaults={"location": location})
        readcache.bump_on_commit([readcache.LOCATIONS])  # whose figures a store client sees exactly
    return binding
