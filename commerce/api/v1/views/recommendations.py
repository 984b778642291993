"""Cross-sell and upsell: offers for a product page (GET) or a basket (POST),
the curated relations (operator and partners write, everyone with
``catalog:read`` reads), and rebuilds of the co-purchase model (operator).

Scopes reuse the catalogue's: reading offers and relations is reading the
catalogue (``catalog:read``: shoppers, stores, partners, operator), curating is
writing it (``inventory:write``, as products are, and only the operator and
partners, as for products); a rebuild is the operator's (``inventory:write``)."""

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.api.v1.recommendation_serializers import (
    DEFAULT_K,
    ModelRebuildOutput,
    RecommendationAnalyticsOutput,
    RecommendationRequestInput,
    RecommendationsOutput,
    RelationCreateInput,
    RelationOutput,
    RelationUpdateInput,
    offers_output,
)
from commerce.errors import ObjectNotFound
from commerce.models import ProductRelation, RelationKind
from commerce.recommendations.building import co_purchase_rebuild_get, co_purchase_rebuild_request
from commerce.recommendations.curation import (
    RelationFields,
    relation_create,
    relation_delete,
    relation_get,
    relation_get_for_edit,
    relation_update,
    relations_filtered,
)
from commerce.recommendations.impressions import impression_record, recommendation_analytics
from commerce.recommendations.offers import (
    MAX_K,
    basket_products,
    recommendation_slot_date,
    recommendation_store,
    recommendations_for_basket,
)
from gateway.api.etag import check_if_match, etag_for
from gateway.api.idempotency import idempotent
from gateway.api.money import money
from gateway.api.pagination import GatewayCursorPagination
from gateway.api.params import (
    MAX_ID,
    UPDATED_SINCE,
    choice_param,
    code_param,
    code_schema,
    date_range_params,
    id_param,
    int_param,
    updated_since_param,
)
from gateway.api.problems import CallerNotAllowed, FieldInvalid
from gateway.api.strict import validated_body
from partners.callers import caller_from_request

TAG = ["recommendations"]

_OFFER_EXAMPLE = {
    "recommendation_id": "6b1f0c1e-3d4a-4f5e-9a8b-7c6d5e4f3a2b",
    "store": {"code": "PAR01", "name": "Paris Bastille", "local_date": "2026-12-04"},
    "slot_date": "2026-12-05",
    "quantity_cap": 20,
    "model_id": 12,
    "cold_start": False,
    "cross_sell": [
        {
            "product_id": 41,
            "sku": "YOGA-MAT-6MM",
            "name": "Tapis de yoga 6 mm",
            "kind": "cross_sell",
            "source": "mined",
            "score": 0.4123,
            "relation_id": None,
            "reason": {
                "code": "bought_with",
                "text": "acheté avec Legging de yoga dans 212 paniers",
                "with_sku": "YOGA-PANTS-M",
                "baskets": 212,
            },
            "collect": {
                "source": "supply",
                "code": "P-SPORT-01",
                "name": "Sport Partner Lyon",
                "kind": "partner_store",
                "available": 20,
                "available_on": "2026-12-05",
            },
        }
    ],
    "upsell": [],
}


def _store_or_error(request: Request, code: str) -> Any:
    """A well-formed code that names no store the caller may use is semantically
    invalid (422 naming ``store``), in the query as in the body: which codes
    exist is data, which a schema cannot say."""
    store = recommendation_store(caller=caller_from_request(request), code=code)
    if store is None:
        raise FieldInvalid("store", _("No click-and-collect store with this code."), code="unknown_store")
    return store


class RecommendationsView(APIView):
    required_scopes = ["catalog:read"]
    extra_error_statuses = {"GET": [400, 422], "POST": [422]}

    @extend_schema(
        tags=TAG,
        operation_id="recommendations_for_product",
        summary="Offers for a product page at a store",
        description="Curated relations first (by weight), then the co-purchase model (by score); cross-sell and "
        "upsell apart; only products collectable at the store: in its stock, or brought by a warehouse or a "
        "partner location (`collect.available_on`). A product no basket holds gets its category's best sellers "
        "at that store (`cold_start`). A SKU or store code that names nothing: 422 `validation_failed` naming `sku` "
        "(`unknown_sku`) or `store` (`unknown_store`); `k` out of 1-50: 400 `invalid_query_parameter`.",
        parameters=[
            OpenApiParameter("sku", code_schema(required=True), required=True, description="The product's SKU."),
            OpenApiParameter("store", code_schema(required=True), required=True, description="Store code."),
            OpenApiParameter(
                "k",
                {"type": "integer", "minimum": 1, "maximum": MAX_K},
                description=f"Offers per kind: default {DEFAULT_K}, at most {MAX_K}.",
            ),
        ],
        responses=RecommendationsOutput,
        examples=[OpenApiExample("Offers", value=_OFFER_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        caller = caller_from_request(request)
        sku = code_param(request, "sku", required=True)
        k = int_param(request, "k", low=1, high=MAX_K, default=DEFAULT_K)
        store = _store_or_error(request, code_param(request, "store", required=True))
        products, unknown = basket_products(caller=caller, skus=[sku])
        if unknown:
            raise FieldInvalid("sku", _("No product with this SKU."), code="unknown_sku")
        offers = recommendations_for_basket(
            caller=caller, store=store, basket=products, k=k, slot_date=None, at=timezone.now()
        )
        return Response(offers_output(offers, impression_record(offers=offers, caller=caller)))

    @extend_schema(
        tags=TAG,
        operation_id="recommendations_for_basket",
        summary="Offers for a basket at a store, collectable by the pickup slot's day",
        description="The top `k` products not in the basket (default 10, at most 50), cross-sell and upsell apart, "
        "each collectable at the store by the day of `slot_id` when given (a partner product only with an "
        "`available_on` no later than that day). At most 100 lines. 422 `validation_failed` names the field: "
        "`lines.N.sku` (`unknown_sku`), `store` (`unknown_store`), `slot_id` (`unknown_slot`, "
        "`slot_of_another_store`), `k` (`max_value`), `lines` (`max_length`).",
        request=RecommendationRequestInput,
        responses=RecommendationsOutput,
        examples=[
            OpenApiExample(
                "Basket",
                value={"store": "PAR01", "lines": [{"sku": "YOGA-PANTS-M", "quantity": 1}], "slot_id": 5512, "k": 5},
                request_only=True,
            ),
            OpenApiExample("Offers", value=_OFFER_EXAMPLE, response_only=True),
        ],
    )
    def post(self, request: Request) -> Response:
        caller = caller_from_request(request)
        body = validated_body(RecommendationRequestInput, request.data)
        store = _store_or_error(request, body["store"])
        skus = [line["sku"] for line in body["lines"]]
        products, unknown = basket_products(caller=caller, skus=skus)
        if unknown:
            raise FieldInvalid(f"lines.{unknown[0]}.sku", _("No product with this SKU."), code="unknown_sku")
        slot_date = None
        if "slot_id" in body:
            slot_date = recommendation_slot_date(store=store, slot_id=body["slot_id"])
        offers = recommendations_for_basket(
            caller=caller, store=store, basket=products, k=body["k"], slot_date=slot_date, at=timezone.now()
        )
        return Response(offers_output(offers, impression_record(offers=offers, caller=caller)))


# ---------------------------------------------------------------- curated relations


class RelationCursorPagination(GatewayCursorPagination):
    ordering = "id"


def _relation_etag(relation: ProductRelation) -> str:
    return etag_for("product-relation", relation.pk, relation.version)


def _checked_id(value: int) -> int:
    if not 1 <= value <= MAX_ID:
        raise ObjectNotFound()
    return value


class ProductRelationListView(GenericAPIView[ProductRelation]):
    required_scopes = {"GET": ["catalog:read"], "POST": ["inventory:write"]}
    pagination_class = RelationCursorPagination
    serializer_class = RelationOutput
    extra_error_statuses = {"POST": [403, 409, 422]}

    @extend_schema(
        tags=TAG,
        operation_id="product_relations_list",
        summary="Curated cross-sell and upsell relations",
        description="The operator sees every relation, a partner those from its own products, stores and shoppers "
        "those between active products.",
        parameters=[
            OpenApiParameter(
                "product",
                {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                description="Relations from this product id.",
            ),
            OpenApiParameter("kind", {"type": "string", "enum": RelationKind.values}, description="Relation kind."),
            UPDATED_SINCE,
        ],
        responses=RelationOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        relations = relations_filtered(
            caller=caller_from_request(request),
            product_id=id_param(request, "product"),
            kind=choice_param(request, "kind", RelationKind.values),
            updated_since=updated_since_param(request),
        )
        page = self.paginate_queryset(relations)
        return self.get_paginated_response(RelationOutput(page, many=True).data)

    @extend_schema(
        tags=TAG,
        operation_id="product_relations_create",
        summary="Curate a relation (operator; a partner between its own products)",
        description="Curated relations are offered before mined ones, by weight. Stores and shoppers: 403. A "
        "product the caller may not curate: 422 `unknown_product`; the same pair and kind twice: 409 "
        "`relation_exists`.",
        request=RelationCreateInput,
        responses={201: RelationOutput},
        examples=[
            OpenApiExample(
                "Mat with yoga pants",
                value={"from_product_id": 12, "to_product_id": 41, "kind": "cross_sell", "weight": "2.000"},
                request_only=True,
            )
        ],
    )
    @idempotent(required=False)
    def post(self, request: Request) -> Response:
        caller = caller_from_request(request)
        body = validated_body(RelationCreateInput, request.data)
        relation = relation_create(
            caller=caller,
            from_product_id=body["from_product_id"],
            to_product_id=body["to_product_id"],
            fields=RelationFields(
                kind=body["kind"],
                weight=body.get("weight", 1),
                valid_from=body.get("valid_from"),
                valid_until=body.get("valid_until"),
            ),
        )
        relation = relation_get(caller=caller, relation_id=relation.pk)
        response = Response(RelationOutput(relation).data, status=201, headers={"ETag": _relation_etag(relation)})
        response["Location"] = f"/api/v1/product-relations/{relation.pk}"
        return response


class ProductRelationDetailView(APIView):
    required_scopes = {"GET": ["catalog:read"], "PATCH": ["inventory:write"], "DELETE": ["inventory:write"]}
    extra_error_statuses = {"PATCH": [403, 404, 409, 412, 428], "DELETE": [403, 404]}

    @extend_schema(tags=TAG, operation_id="product_relation_detail", summary="One relation", responses=RelationOutput)
    def get(self, request: Request, relation_id: int) -> Response:
        relation = relation_get(caller=caller_from_request(request), relation_id=_checked_id(relation_id))
        return Response(RelationOutput(relation).data, headers={"ETag": _relation_etag(relation)})

    @extend_schema(
        tags=TAG,
        operation_id="product_relation_update",
        summary="Change a relation's kind, weight or window (its curator, or the operator)",
        parameters=[OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)],
        request=RelationUpdateInput,
        responses=RelationOutput,
    )
    def patch(self, request: Request, relation_id: int) -> Response:
        caller = caller_from_request(request)
        relation = relation_get_for_edit(caller=caller, relation_id=_checked_id(relation_id))
        check_if_match(request, _relation_etag(relation))
        data = validated_body(RelationUpdateInput, request.data)
        relation = relation_update(relation=relation, expected_version=relation.version, changes=dict(data))
        return Response(RelationOutput(relation).data, headers={"ETag": _relation_etag(relation)})

    @extend_schema(
        tags=TAG,
        operation_id="product_relation_delete",
        summary="Delete a relation (its curator, or the operator)",
        responses={204: None},
    )
    def delete(self, request: Request, relation_id: int) -> Response:
        relation = relation_get_for_edit(caller=caller_from_request(request), relation_id=_checked_id(relation_id))
        relation_delete(relation=relation)
        return Response(status=204)


# ---------------------------------------------------------------- model rebuilds


def _ensure_operator(request: Request) -> None:
    if not caller_from_request(request).is_operator:
        raise CallerNotAllowed(_("Only the operator rebuilds the co-purchase model."))


class ModelRebuildListView(APIView):
    required_scopes = ["inventory:write"]
    extra_error_statuses = {"POST": [403]}

    @extend_schema(
        tags=TAG,
        operation_id="recommendation_model_rebuild",
        summary="Rebuild the co-purchase model now (operator)",
        description="Mines collected orders and imported baskets into a new version, switched to when complete; "
        "reads go on from the current one meanwhile. 202 with the build to follow at its `Location`; a build "
        "already under way is answered 200 with itself.",
        request=None,
        responses={202: ModelRebuildOutput, 200: ModelRebuildOutput},
    )
    @idempotent(required=False)
    def post(self, request: Request) -> Response:
        _ensure_operator(request)
        rebuild = co_purchase_rebuild_request(requested_by=caller_from_request(request).client)
        response = Response(ModelRebuildOutput(rebuild.model).data, status=202 if rebuild.created else 200)
        response["Location"] = f"/api/v1/recommendation-model/rebuilds/{rebuild.model.pk}"
        return response


class ModelRebuildDetailView(APIView):
    required_scopes = ["inventory:write"]
    extra_error_statuses = {"GET": [403, 404]}

    @extend_schema(
        tags=TAG,
        operation_id="recommendation_model_rebuild_detail",
        summary="A rebuild's progress (operator)",
        description="`state` building, ready or failed; `progress` 0-100.",
        responses=ModelRebuildOutput,
    )
    def get(self, request: Request, rebuild_id: int) -> Response:
        _ensure_operator(request)
        model = co_purchase_rebuild_get(model_id=_checked_id(rebuild_id))
        if model is None:
            raise ObjectNotFound()
        return Response(ModelRebuildOutput(model).data)


# ---------------------------------------------------------------- analytics

ANALYTICS_MAX_DAYS = 92


class RecommendationAnalyticsView(APIView):
    required_scopes = ["orders:read"]
    extra_error_statuses = {"GET": [400, 403, 422]}

    @extend_schema(
        tags=TAG,
        operation_id="recommendation_analytics",
        summary="What recommendations showed and sold, per source and kind (operator)",
        description="For the answers shown from `from` to `to` (UTC days, both included, at most "
        f"{ANALYTICS_MAX_DAYS} days), at one store or the whole network: per offer source (`curated`, `mined`, "
        "`best_seller`) and kind (`cross_sell`, `upsell`), the offers shown, the answers holding one, and the "
        "orders (neither cancelled nor uncollected), units and revenue after discounts of the order lines that "
        "named the answer's `recommendation_id`. Only the operator reads it (403 otherwise).",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, required=True, description="First day (UTC)."),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True, description="Last day (UTC), included."),
            OpenApiParameter("store", OpenApiTypes.STR, description="A store's code (default: the network)."),
        ],
        responses=RecommendationAnalyticsOutput,
    )
    def get(self, request: Request) -> Response:
        caller = caller_from_request(request)
        if not caller.is_operator:
            raise CallerNotAllowed(_("Only the operator reads the recommendation analytics."))
        first, last = date_range_params(request, max_days=ANALYTICS_MAX_DAYS)
        code = code_param(request, "store")
        store = _store_or_error(request, code) if code is not None else None
        rows = recommendation_analytics(
            since=dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC),
            until=dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC),
            store_id=store.pk if store is not None else None,
        )
        return Response(
            {
                "first_day": first.isoformat(),
                "last_day": last.isoformat(),
                "store": code,
                "rows": [
                    {
                        "source": row.source, "kind": row.kind, "impressions": row.impressions,
                        "answers": row.answers, "orders": row.orders, "units": row.units,
                        "revenue": [money(amount, currency) for currency, amount in sorted(row.revenue.items())],
                    }
                    for row in rows
                ],
            }
        )  # fmt: skip
