"""Webhook subscriptions, their delivery log and redelivery."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gateway.api.etag import check_if_match, etag_for, not_modified
from gateway.api.idempotency import idempotent
from gateway.api.pagination import GatewayCursorPagination
from gateway.api.params import UPDATED_SINCE, choices_param, updated_since_param
from gateway.api.strict import validated_body
from partners import selectors
from partners.api.v1.webhook_serializers import (
    WebhookCreatedOutput,
    WebhookCreateInput,
    WebhookDeliveryDetailOutput,
    WebhookDeliveryOutput,
    WebhookOutput,
    WebhookRotateSecretInput,
    WebhookSecretOutput,
    WebhookUpdateInput,
)
from partners.callers import caller_from_request
from partners.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from partners.selectors import partner_of_caller
from partners.services import webhooks as webhook_services

TAG = ["webhooks"]
SCOPES = ["webhooks:manage"]

_SIGNING = """Each delivery is a POST of `{"type", "timestamp", "data"}` signed per Standard Webhooks:
`webhook-id` (`msg_<event id>`, the same on every retry and redelivery: dedupe on it),
`webhook-timestamp` (unix seconds of the attempt) and `webhook-signature`
(`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` keyed with the base64-decoded part of the
secret after `whsec_`; two space-separated signatures while a rotated secret overlaps). Answer 2xx
within 5 s; anything else (3xx included: redirects are not followed) is retried after 5 s, 5 min,
30 min, 2 h, 5 h, 10 h and 10 h (+/-10 %). A subscription with no successful delivery for 24 h
whose delivery exhausts its retries, or that answers 410 Gone, is disabled; you get an email and a
`webhook.disabled` event."""

_SUBSCRIPTION_EXAMPLE = {
    "id": 42,
    "url": "https://hooks.example.com/gateway",
    "event_types": ["stock.changed"],
    "description": "Stock sync",
    "is_active": True,
    "disabled_at": None,
    "disabled_reason": "",
    "failing_since": None,
    "secret_rotated_at": None,
    "previous_secret_expires_at": None,
    "partner_id": 7,
    "version": 1,
    "created_at": "2026-11-22T10:00:00Z",
    "updated_at": "2026-11-22T10:00:00Z",
}


def _owner(request: Request) -> Any:
    caller = caller_from_request(request)
    return None if caller.is_operator else partner_of_caller(caller=caller)


def _subscription(request: Request, webhook_id: int) -> WebhookSubscription:
    return selectors.webhook_subscription_get(caller=caller_from_request(request), subscription_id=webhook_id)


def _etag(subscription: WebhookSubscription) -> str:
    return etag_for("webhook", subscription.pk, subscription.version)


def _with_etag(response: Response, subscription: WebhookSubscription) -> Response:
    response["ETag"] = _etag(subscription)
    return response


class NewestFirstPagination(GatewayCursorPagination):
    ordering = "-pk"


class WebhookListView(ListAPIView[WebhookSubscription]):
    required_scopes = SCOPES
    serializer_class = WebhookOutput
    extra_error_statuses = {"POST": [409]}

    def get_queryset(self):  # type: ignore[no-untyped-def]
        subscriptions = selectors.webhook_subscriptions_visible_to(caller=caller_from_request(self.request))
        since = updated_since_param(self.request)
        return subscriptions.filter(updated_at__gte=since) if since is not None else subscriptions

    @extend_schema(
        tags=TAG,
        operation_id="webhooks_list",
        summary="Your webhook subscriptions",
        parameters=[UPDATED_SINCE],
    )
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=TAG,
        operation_id="webhooks_create",
        summary="Subscribe an endpoint to events",
        description=_SIGNING,
        request=WebhookCreateInput,
        responses={201: WebhookCreatedOutput},
        examples=[
            OpenApiExample(
                "Stock changes",
                request_only=True,
                value={"url": "https://hooks.example.com/gateway", "event_types": ["stock.changed"]},
            ),
            OpenApiExample(
                "Created",
                response_only=True,
                value={**_SUBSCRIPTION_EXAMPLE, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
            ),
        ],
    )
    @idempotent(required=False, sealed=("secret",))
    def post(self, request: Request) -> Response:
        data = validated_body(WebhookCreateInput, request.data)
        subscription, secret = webhook_services.webhook_subscription_create(partner=_owner(request), **data)
        body = {**WebhookOutput(subscription).data, "secret": secret}
        response = Response(
            body, status=status.HTTP_201_CREATED, headers={"Location": f"{request.path}/{subscription.pk}"}
        )
        return _with_etag(response, subscription)


class WebhookDetailView(APIView):
    required_scopes = SCOPES
    extra_error_statuses = {"PATCH": [412, 428], "DELETE": [412]}

    @extend_schema(
        tags=TAG,
        operation_id="webhooks_detail",
        summary="One webhook subscription",
        description="Carries an `ETag`; send it as `If-None-Match` to get 304 while nothing changed, "
        "and as `If-Match` to change or delete it.",
        responses={200: WebhookOutput, 304: None},
    )
    def get(self, request: Request, webhook_id: int) -> Response:
        subscription = _subscription(request, webhook_id)
        if not_modified(request, _etag(subscription)):
            return _with_etag(Response(status=status.HTTP_304_NOT_MODIFIED), subscription)
        return _with_etag(Response(WebhookOutput(subscription).data), subscription)

    @extend_schema(
        tags=TAG,
        operation_id="webhooks_update",
        summary="Change a webhook subscription",
        description="Needs `If-Match` with the ETag you read. `is_active: true` re-enables a disabled subscription.",
        request=WebhookUpdateInput,
        responses=WebhookOutput,
        parameters=[OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)],
    )
    def patch(self, request: Request, webhook_id: int) -> Response:
        subscription = _subscription(request, webhook_id)
        check_if_match(request, _etag(subscription), required=True)
        data = validated_body(WebhookUpdateInput, request.data)
        subscription = webhook_services.webhook_subscription_update(
            subscription=subscription, expected_version=subscription.version, changes=data
        )
        return _with_etag(Response(WebhookOutput(subscription).data), subscription)

    @extend_schema(
        tags=TAG,
        operation_id="webhooks_delete",
        summary="Delete a webhook subscription",
        description="Deletes its delivery log too. `If-Match` is optional.",
        responses={204: None},
        parameters=[OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER)],
    )
    def delete(self, request: Request, webhook_id: int) -> Response:
        subscription = _subscription(request, webhook_id)
        conditional = "If-Match" in request.headers
        check_if_match(request, _etag(subscription), required=False)
        webhook_services.webhook_subscription_delete(
            subscription=subscription, expected_version=subscription.version if conditional else None
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateSecretView(APIView):
    required_scopes = SCOPES

    @extend_schema(
        tags=TAG,
        operation_id="webhooks_rotate_secret",
        summary="Issue a new signing secret",
        description="The new secret signs from now on; the previous one keeps signing alongside "
        "(a second `v1,` signature) for `keep_previous_seconds` (default a day), so you can switch "
        "without losing a message. The new secret is in this answer only (and in its replay with the same "
        "Idempotency-Key).",
        request=WebhookRotateSecretInput,
        responses={200: WebhookSecretOutput},
    )
    @idempotent(required=False, sealed=("secret",))
    def post(self, request: Request, webhook_id: int) -> Response:
        subscription = _subscription(request, webhook_id)
        data = validated_body(WebhookRotateSecretInput, request.data or {})
        subscription, secret = webhook_services.webhook_subscription_rotate_secret(subscription=subscription, **data)
        body = {
            "id": subscription.pk,
            "secret": secret,
            "secret_rotated_at": subscription.secret_rotated_at,
            "previous_secret_expires_at": subscription.previous_secret_expires_at,
        }
        return _with_etag(Response(WebhookSecretOutput(body).data), subscription)


class WebhookDeliveryListView(ListAPIView[WebhookDelivery]):
    required_scopes = SCOPES
    serializer_class = WebhookDeliveryOutput
    pagination_class = NewestFirstPagination

    def get_queryset(self):  # type: ignore[no-untyped-def]
        deliveries = selectors.webhook_deliveries_of(
            caller=caller_from_request(self.request),
            subscription_id=self.kwargs["webhook_id"],
            statuses=choices_param(self.request, "status", DeliveryStatus.values),
        )
        since = updated_since_param(self.request)
        return deliveries.filter(updated_at__gte=since) if since is not None else deliveries

    @extend_schema(
        tags=TAG,
        operation_id="webhook_deliveries_list",
        summary="Delivery log of a subscription, newest first",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, many=True, enum=DeliveryStatus.values),
            UPDATED_SINCE,
        ],
    )
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)


class WebhookDeliveryDetailView(APIView):
    required_scopes = SCOPES

    @extend_schema(
        tags=TAG,
        operation_id="webhook_deliveries_detail",
        summary="One delivery with every attempt",
        responses=WebhookDeliveryDetailOutput,
    )
    def get(self, request: Request, webhook_id: int, delivery_id: int) -> Response:
        delivery = selectors.webhook_delivery_get(
            caller=caller_from_request(request), subscription_id=webhook_id, delivery_id=delivery_id
        )
        return Response(WebhookDeliveryDetailOutput(delivery).data)


class WebhookRedeliverView(APIView):
    required_scopes = SCOPES
    extra_error_statuses = {"POST": [409]}

    @extend_schema(
        tags=TAG,
        operation_id="webhook_deliveries_redeliver",
        summary="Send a delivery again now",
        description="One more attempt at once, with the same `webhook-id`, whatever the delivery's status; "
        "it is logged like the others. 409 `webhook_disabled` while the subscription is disabled.",
        request=None,
        responses={202: WebhookDeliveryOutput},
    )
    @idempotent(required=False)
    def post(self, request: Request, webhook_id: int, delivery_id: int) -> Response:
        delivery = selectors.webhook_delivery_get(
            caller=caller_from_request(request), subscription_id=webhook_id, delivery_id=delivery_id
        )
        webhook_services.webhook_delivery_redeliver(delivery=delivery)
        delivery = selectors.webhook_delivery_get(
            caller=caller_from_request(request), subscription_id=webhook_id, delivery_id=delivery_id
        )
        return Response(WebhookDeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)
