"""Products: the catalogue (catalog:read) and the owners' writes (inventory:write)."""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gateway.api.etag import IF_MATCH, IF_NONE_MATCH, NOT_MODIFIED, check_if_match, etag_for, with_etag
from gateway.api.idempotency import idempotent
from gateway.api.params import UPDATED_SINCE, text_param, text_schema, updated_since_param
from gateway.api.readcache import cached_read, conditional
from gateway.api.strict import validated_body
from inventory import services
from inventory.api.v1.readcache import PRODUCT_CACHE_CONTROL, PRODUCT_MAX_AGE_S, product_read, products_read
from inventory.api.v1.serializers import ProductCreateInput, ProductOutput, ProductUpdateInput
from inventory.models import Product
from inventory.selectors.locations import ensure_catalog_editor, owner_for_new_object
from inventory.selectors.products import product_get, product_get_for_edit, products_filtered
from partners.callers import caller_from_request

TAG = ["products"]

_PRODUCT_EXAMPLE = {
    "id": 12,
    "sku": "ACME-GRANOLA-500",
    "gtin": "3560070123452",
    "brand": "Acme Foods",
    "category": "cereals",
    "name": "Granola aux noix 500 g",
    "description": "",
    "name_fr": "Granola aux noix 500 g",
    "name_en": "Nut granola 500 g",
    "description_fr": "",
    "description_en": "",
    "price": {"amount": "4.90", "currency": "EUR"},
    "owner": "acme-foods",
    "is_active": True,
    "version": 3,
    "created_at": "2026-11-20T09:12:00Z",
    "updated_at": "2026-11-22T08:00:00Z",
}


class ProductListView(GenericAPIView[Product]):
    required_scopes = {"GET": ["catalog:read"], "POST": ["inventory:write"]}
    serializer_class = ProductOutput
    extra_error_statuses = {"POST": [409]}

    def get_queryset(self) -> QuerySet[Product]:
        request = self.request
        return products_filtered(
            caller=caller_from_request(request),
            updated_since=updated_since_param(request),
            category=text_param(request, "category"),
            owner=text_param(request, "owner"),
            q=text_param(request, "q"),
            sku=text_param(request, "sku"),
            gtin=text_param(request, "gtin"),
        )

    @extend_schema(
        tags=TAG,
        operation_id="products_list",
        summary="List products",
        description="The operator sees every product; a partner its own; stores and shoppers the active "
        "catalogue. `name` and `description` follow Accept-Language (fr by default, en).\n\n"
        f"`Cache-Control: private, max-age={PRODUCT_MAX_AGE_S}`: keep a page that long, then revalidate with "
        "`If-None-Match` and its ETag (304 while no product has changed).",
        parameters=[
            UPDATED_SINCE,
            IF_NONE_MATCH,
            OpenApiParameter("category", text_schema(), description="Exact category."),
            OpenApiParameter(
                "owner",
                text_schema(),
                description="Operator only: `retailer` or a partner's slug; ignored otherwise.",
            ),
            OpenApiParameter("q", text_schema(), description="Text in the French or English name."),
            OpenApiParameter("sku", text_schema(), description="Exact SKU."),
            OpenApiParameter("gtin", text_schema(), description="Exact GTIN."),
        ],
        responses={200: ProductOutput(many=True), **NOT_MODIFIED},
    )
    @conditional(PRODUCT_CACHE_CONTROL)
    def get(self, request: Request) -> Response:
        return cached_read(request, products_read(request, caller_from_request(request)), lambda: self._page())

    def _page(self) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ProductOutput(page, many=True).data)

    @extend_schema(
        tags=TAG,
        operation_id="products_create",
        summary="Create a product",
        description="A partner's product is its own; the operator creates the retailer's (no `owner`) or a "
        "partner's. SKUs are unique per owner (409 `sku_taken`).",
        request=ProductCreateInput,
        responses={201: ProductOutput},
        examples=[
            OpenApiExample(
                "Partner product",
                value={
                    "sku": "ACME-GRANOLA-500",
                    "gtin": "3560070123452",
                    "name_fr": "Granola aux noix 500 g",
                    "name_en": "Nut granola 500 g",
                    "category": "cereals",
                    "price": {"amount": "4.90", "currency": "EUR"},
                },
                request_only=True,
            ),
            OpenApiExample("Created", value=_PRODUCT_EXAMPLE, response_only=True, status_codes=["201"]),
        ],
    )
    @idempotent(required=False)
    def post(self, request: Request) -> Response:
        caller = caller_from_request(request)
        ensure_catalog_editor(caller=caller)
        data = validated_body(ProductCreateInput, request.data)
        fields = ProductCreateInput.model_fields(data)
        owner = owner_for_new_object(caller=caller, slug=fields.pop("owner", None))
        product = services.product_create(owner=owner, fields=fields)
        response = with_etag(request, "product", product.pk, product.version, ProductOutput(product).data, status=201)
        response["Location"] = f"/api/v1/products/{product.pk}"
        return response


class ProductDetailView(APIView):
    required_scopes = {"GET": ["catalog:read"], "PATCH": ["inventory:write"]}
    extra_error_statuses = {"PATCH": [412, 428]}

    @extend_schema(
        tags=TAG,
        operation_id="products_detail",
        summary="One product",
        description=f"`Cache-Control: private, max-age={PRODUCT_MAX_AGE_S}`: keep the answer that long, then "
        "revalidate with `If-None-Match` and its ETag (304 while it has not changed). The ETag is also what a "
        "PATCH sends in `If-Match`.\n\nScopes: `catalog:read`.",
        parameters=[IF_NONE_MATCH],
        responses={200: ProductOutput, **NOT_MODIFIED},
    )
    @conditional(PRODUCT_CACHE_CONTROL)
    def get(self, request: Request, product_id: int) -> Response:
        caller = caller_from_request(request)

        def product() -> Response:
            found = product_get(caller=caller, product_id=product_id)
            return Response(ProductOutput(found).data, headers={"ETag": etag_for("product", found.pk, found.version)})

        return cached_read(
            request, product_read(request, caller, product_id), product, etag_of=lambda response: response["ETag"]
        )

    @extend_schema(
        tags=TAG,
        operation_id="products_update",
        summary="Change a product",
        description="Send If-Match with the ETag you read. `sku` and `owner` never change. A partner changes "
        "its own products only; only the operator changes the retailer's.",
        parameters=[IF_MATCH],
        request=ProductUpdateInput,
        responses={200: ProductOutput},
    )
    def patch(self, request: Request, product_id: int) -> Response:
        product = product_get_for_edit(caller=caller_from_request(request), product_id=product_id)
        check_if_match(request, etag_for("product", product.pk, product.version))
        data = validated_body(ProductUpdateInput, request.data)
        product = services.product_update(
            product=product, expected_version=product.version, fields=ProductUpdateInput.model_fields(data)
        )
        return with_etag(request, "product", product.pk, product.version, ProductOutput(product).data)
