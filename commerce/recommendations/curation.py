"""Curated relations: the operator relates any two products; a partner only
two of its own (a product of someone else is unknown to it, as the catalogue
has it); stores and shoppers read the relations between active products.

Reads are scoped to the caller like every selector: a relation a caller may
not see is absent (404), never forbidden."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Now
from django.utils.translation import gettext as _

from commerce.errors import ObjectNotFound
from commerce.models import ProductRelation, RelationSource
from commerce.recommendations.errors import RelationExists
from gateway.api.problems import CallerNotAllowed, FieldInvalid, PreconditionFailed
from inventory.models import Product
from inventory.selectors.products import products_visible_to
from partners.callers import Caller
from partners.models import CallerKind

CURATORS = frozenset({CallerKind.OPERATOR, CallerKind.PARTNER})
READERS = frozenset({CallerKind.OPERATOR, CallerKind.PARTNER, CallerKind.STORE, CallerKind.SHOPPER})


def relations_visible_to(*, caller: Caller) -> QuerySet[ProductRelation]:
    """The operator every relation; a partner those from its own products;
    stores and shoppers those between active products."""
    relations = ProductRelation.objects.select_related("from_product", "to_product", "curated_by")
    if caller.is_operator:
        return relations.all()
    if caller.kind == CallerKind.PARTNER:
        return relations.filter(from_product__owner_id=caller.partner_id)
    if caller.kind in READERS:
        return relations.filter(from_product__is_active=True, to_product__is_active=True)
    return relations.none()


def relations_filtered(
    *,
    caller: Caller,
    product_id: int | None = None,
    kind: str | None = None,
    updated_since: dt.datetime | None = None,
) -> QuerySet[ProductRelation]:
    relations = relations_visible_to(caller=caller)
    if product_id is not None:
        relations = relations.filter(from_product_id=product_id)
    if kind is not None:
        relations = relations.filter(kind=kind)
    if updated_since is not None:
        relations = relations.filter(updated_at__gte=updated_since)
    return relations


def relation_get(*, caller: Caller, relation_id: int) -> ProductRelation:
    relation = relations_visible_to(caller=caller).filter(pk=relation_id).first()
    if relation is None:
        raise ObjectNotFound()
    return relation


def _ensure_curator(caller: Caller) -> None:
    if caller.kind not in CURATORS:
        raise CallerNotAllowed(_("Only the operator and partners curate relations; stores and shoppers read them."))


def relation_get_for_edit(*, caller: Caller, relation_id: int) -> ProductRelation:
    """A relation the caller may change: the operator any, a partner those it curated."""
    _ensure_curator(caller)
    relation = relation_get(caller=caller, relation_id=relation_id)
    if caller.kind == CallerKind.PARTNER and relation.curated_by_id != caller.partner_id:
        raise ObjectNotFound()
    return relation


@dataclass(frozen=True)
class RelationFields:
    kind: str
    weight: Decimal
    valid_from: dt.datetime | None
    valid_until: dt.datetime | None


def _curated_product(caller: Caller, product_id: int, field: str) -> Product:
    """A product the caller may relate: for a partner, one of its own."""
    product = products_visible_to(caller=caller).filter(pk=product_id).first()
    if product is None:
        raise FieldInvalid(field, _("No product with this id that you may curate."), code="unknown_product")
    return product


def _check_window(valid_from: dt.datetime | None, valid_until: dt.datetime | None) -> None:
    if valid_from is not None and valid_until is not None and valid_until <= valid_from:
        raise FieldInvalid("valid_until", _("The window must end after it starts."), code="window_reversed")


def relation_create(
    *, caller: Caller, from_product_id: int, to_product_id: int, fields: RelationFields
) -> ProductRelation:
    """A curated relation from one product to another (409 ``relation_exists``
    when the pair already has a relation of that kind)."""
    _ensure_curator(caller)
    source = _curated_product(caller, from_product_id, "from_product_id")
    target = _curated_product(caller, to_product_id, "to_product_id")
    if source.pk == target.pk:
        raise FieldInvalid("to_product_id", _("A product is not related to itself."), code="same_product")
    if caller.kind == CallerKind.PARTNER and not (source.owner_id == target.owner_id == caller.partner_id):
        raise FieldInvalid("to_product_id", _("Partners relate their own products only."), code="unknown_product")
    _check_window(fields.valid_from, fields.valid_until)
    try:
        with transaction.atomic():
            return ProductRelation.objects.create(
                from_product=source,
                to_product=target,
                kind=fields.kind,
                source=RelationSource.CURATED,
                weight=fields.weight,
                valid_from=fields.valid_from,
                valid_until=fields.valid_until,
                curated_by_id=caller.partner_id if caller.kind == CallerKind.PARTNER else None,
                created_by=caller.client,
            )
    except IntegrityError as exc:
        if "relation_unique_pair_kind" in str(exc):
            raise RelationExists(_("These two products already have a relation of this kind.")) from exc
        raise


def relation_update(*, relation: ProductRelation, expected_version: int, changes: dict[str, Any]) -> ProductRelation:
    """Change the weight, the window or the kind, if the relation is still at
    ``expected_version`` (412 otherwise: someone changed it since)."""
    merged = {
        "kind": relation.kind,
        "weight": relation.weight,
        "valid_from": relation.valid_from,
        "valid_until": relation.valid_until,
        **changes,
    }
    _check_window(merged["valid_from"], merged["valid_until"])
    try:
        with transaction.atomic():
            updated = ProductRelation.objects.filter(pk=relation.pk, version=expected_version).update(
                **merged, version=F("version") + 1, updated_at=Now()
            )
    except IntegrityError as exc:
        if "relation_unique_pair_kind" in str(exc):
            raise RelationExists(_("These two products already have a relation of this kind.")) from exc
        raise
    if not updated:
        raise PreconditionFailed()
    relation.refresh_from_db()
    return relation


def relation_delete(*, relation: ProductRelation) -> None:
    ProductRelation.objects.filter(pk=relation.pk).delete()
