"""Serializers of cross-sell and upsell: the basket question, the offers
(schema serializers, the body written by ``offers_output`` as plain dicts: a
serializer per offer would cost more than the statements on the hot path),
curated relations and model rebuilds."""

import uuid
from typing import Any

from django.utils.translation import get_language
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from commerce.api.v1.serializers import MAX_LINE_QUANTITY, MAX_ORDER_LINES
from commerce.models import CoPurchaseModel, ProductRelation, RelationKind
from commerce.recommendations.offers import MAX_K, Offer, Offers
from gateway.api.money import MoneySerializer
from gateway.api.params import MAX_CODE_LENGTH
from gateway.api.strict import DecimalStringField, StrictCharField, StrictInput, StrictIntegerField

DEFAULT_K = 10


# Closed value sets written as a pattern, not an enum: drf-spectacular turns
# every enum into a component named after the field ("kind", "source"), names
# other components already give to other sets, and fails the schema build on
# the collision unless gateway/settings ENUM_NAME_OVERRIDES names them.
def _values_schema(values: list[str]) -> dict[str, Any]:
    return {
        "type": "string",
        "pattern": "^(" + "|".join(values) + ")$",
        "description": "One of: " + ", ".join(f"`{value}`" for value in values) + ".",
    }


@extend_schema_field(_values_schema(RelationKind.values))
class RelationKindField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=RelationKind.choices, **kwargs)


def _inline_enum(values: list[str]) -> Any:
    """A CharField subclass (never CharField itself: the decorator marks the class it is given)."""
    return extend_schema_field(_values_schema(values))(type("ClosedSetField", (serializers.CharField,), {}))


class RecommendationLineInput(StrictInput):
    sku = StrictCharField(max_length=64, help_text="A product in the basket, by SKU.")
    quantity = StrictIntegerField(
        min_value=1, max_value=MAX_LINE_QUANTITY, required=False, help_text="Accepted, not used for ranking."
    )


class RecommendationRequestInput(StrictInput):
    store = StrictCharField(max_length=MAX_CODE_LENGTH, help_text="Store code where the basket will be collected.")
    lines = RecommendationLineInput(many=True, min_length=1, max_length=MAX_ORDER_LINES)  # type: ignore[call-arg]  # ListSerializer kwargs
    slot_id = StrictIntegerField(
        min_value=1, required=False, help_text="Pickup slot: offers must be collectable by its day."
    )
    k = StrictIntegerField(
        min_value=1, max_value=MAX_K, required=False, default=DEFAULT_K, help_text="Offers per kind, at most 50."
    )


class RecommendationReasonOutput(serializers.Serializer[Any]):
    code = _inline_enum(["curated", "bought_with", "category_best_seller", "best_seller"])()
    text = serializers.CharField(help_text='For people: "curated", "bought with Pasta in 212 baskets".')
    with_sku = serializers.CharField(allow_null=True, help_text="The basket product behind the offer.")
    baskets = serializers.IntegerField(allow_null=True, help_text="Baskets that held both (or the best seller's).")


class RecommendationCollectOutput(serializers.Serializer[Any]):
    source = _inline_enum(["store", "supply"])(help_text="The store's stock, or brought in.")
    code = serializers.CharField(help_text="The location holding the units.")
    name = serializers.CharField()
    kind = _inline_enum(["store", "warehouse", "partner_store"])()
    available = serializers.IntegerField(help_text="Units, capped as availability caps them.")
    available_on = serializers.DateField(help_text="Store-local day the units can be collected.")


class RecommendationOutput(serializers.Serializer[Any]):
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField(help_text="In the language served.")
    kind = RelationKindField()
    source = _inline_enum(["curated", "mined", "best_seller"])()
    score = serializers.FloatField(help_text="The relation's weight (curated) or the model's score (mined).")
    relation_id = serializers.IntegerField(allow_null=True, help_text="The curated relation, if any.")
    reason = RecommendationReasonOutput()
    collect = RecommendationCollectOutput()


class RecommendationStoreOutput(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()
    local_date = serializers.DateField(allow_null=True)


class RecommendationsOutput(serializers.Serializer[Any]):
    recommendation_id = serializers.UUIDField(
        allow_null=True,
        help_text="This answer's id: send it as `recommendation_id` on the order lines taken from it "
        "(null when nothing is offered).",
    )
    store = RecommendationStoreOutput()
    slot_date = serializers.DateField(allow_null=True, help_text="The pickup slot's store-local day, if given.")
    quantity_cap = serializers.IntegerField(allow_null=True, help_text="Cap on quantities shown (null: exact).")
    model_id = serializers.IntegerField(allow_null=True, help_text="The co-purchase model version used.")
    cold_start = serializers.BooleanField(help_text="No basket product was ever bought with another.")
    cross_sell = RecommendationOutput(many=True)
    upsell = RecommendationOutput(many=True)


def _offer(offer: Offer, english: bool) -> dict[str, Any]:
    where = offer.collect
    return {
        "product_id": offer.product_id,
        "sku": offer.sku,
        "name": offer.name_en if english and offer.name_en else offer.name_fr,
        "kind": offer.kind,
        "source": offer.source,
        "score": round(offer.score, 6),
        "relation_id": offer.relation_id,
        "reason": {
            "code": offer.reason.code,
            "text": offer.reason.text,
            "with_sku": offer.reason.with_sku,
            "baskets": offer.reason.baskets,
        },
        "collect": {
            "source": where.source,
            "code": where.code,
            "name": where.name,
            "kind": where.kind,
            "available": where.available,
            "available_on": where.available_on.isoformat() if where.available_on else None,
        },
    }


def offers_output(offers: Offers, recommendation_id: uuid.UUID | None) -> dict[str, Any]:
    english = (get_language() or "fr").startswith("en")
    return {
        "recommendation_id": str(recommendation_id) if recommendation_id else None,
        "store": {
            "code": offers.store.code,
            "name": offers.store.name,
            "local_date": offers.local_date.isoformat() if offers.local_date else None,
        },
        "slot_date": offers.slot_date.isoformat() if offers.slot_date else None,
        "quantity_cap": offers.quantity_cap,
        "model_id": offers.model_id,
        "cold_start": offers.cold_start,
        "cross_sell": [_offer(offer, english) for offer in offers.cross_sell],
        "upsell": [_offer(offer, english) for offer in offers.upsell],
    }


# ---------------------------------------------------------------- curated relations


class RelationCreateInput(StrictInput):
    from_product_id = StrictIntegerField(min_value=1, help_text="The product the offer is shown with.")
    to_product_id = StrictIntegerField(min_value=1, help_text="The product offered.")
    kind = RelationKindField()
    weight = DecimalStringField(
        max_digits=6, decimal_places=3, min_value=0, required=False, help_text="Higher first; default 1."
    )
    valid_from = serializers.DateTimeField(required=False, allow_null=True)
    valid_until = serializers.DateTimeField(required=False, allow_null=True)


class RelationUpdateInput(StrictInput):
    kind = RelationKindField(required=False)
    weight = DecimalStringField(max_digits=6, decimal_places=3, min_value=0, required=False)
    valid_from = serializers.DateTimeField(required=False, allow_null=True)
    valid_until = serializers.DateTimeField(required=False, allow_null=True)


class RelationOutput(serializers.ModelSerializer[ProductRelation]):
    kind = RelationKindField()
    source = _inline_enum(["curated", "mined"])()
    from_sku = serializers.CharField(source="from_product.sku")
    to_sku = serializers.CharField(source="to_product.sku")
    weight = serializers.DecimalField(max_digits=6, decimal_places=3, coerce_to_string=True)
    curated_by = serializers.SerializerMethodField(help_text="The partner's slug; null for the operator.")

    class Meta:
        model = ProductRelation
        fields = [
            "id",
            "from_product_id",
            "from_sku",
            "to_product_id",
            "to_sku",
            "kind",
            "source",
            "weight",
            "valid_from",
            "valid_until",
            "curated_by",
            "version",
            "created_at",
            "updated_at",
        ]

    def get_curated_by(self, relation: ProductRelation) -> str | None:
        return None if relation.curated_by is None else relation.curated_by.slug


# ---------------------------------------------------------------- model rebuilds


class ModelRebuildOutput(serializers.ModelSerializer[CoPurchaseModel]):
    state = _inline_enum(["building", "ready", "failed"])()

    class Meta:
        model = CoPurchaseModel
        fields = [
            "id",
            "state",
            "progress",
            "method",
            "basket_count",
            "item_count",
            "score_count",
            "error",
            "created_at",
            "finished_at",
        ]


# ---------------------------------------------------------------- analytics


class RecommendationFiguresOutput(serializers.Serializer[Any]):
    source = _inline_enum(["curated", "mined", "best_seller"])()
    kind = RelationKindField()
    impressions = serializers.IntegerField(help_text="Offers of this source and kind shown.")
    answers = serializers.IntegerField(help_text="Answers that held at least one of them.")
    orders = serializers.IntegerField(
        help_text="Orders (neither cancelled nor uncollected) with a line taken from one."
    )
    units = serializers.IntegerField(help_text="Units of those lines.")
    revenue = MoneySerializer(many=True, help_text="Those lines' totals less their discounts, per currency.")


class RecommendationAnalyticsOutput(serializers.Serializer[Any]):
    first_day = serializers.DateField(help_text="The first day (UTC) of the answers counted.")
    last_day = serializers.DateField(help_text="The last day (UTC), included.")
    store = serializers.CharField(allow_null=True, help_text="The store's code; null for the network.")
    rows = RecommendationFiguresOutput(many=True)
