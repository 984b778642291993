"""Input and output shapes of the events feed and webhook endpoints."""

from collections.abc import Iterable, Sequence
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from gateway.api.instants import instant_text_of_json
from gateway.api.strict import StrictBooleanField, StrictCharField, StrictInput, StrictIntegerField
from partners.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from partners.selectors import FeedPosition, feed_cursor
from partners.services.webhooks import DEFAULT_PREVIOUS_SECRET_SECONDS, MAX_PREVIOUS_SECRET_SECONDS


# ---------------------------------------------------------------- events
class EventOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField(help_text="Event id. Webhook deliveries of it carry `webhook-id: msg_<id>`.")
    cursor = serializers.SerializerMethodField(help_text="Position of this event: pass it as `after` to read on.")
    type = serializers.CharField()
    subject = serializers.CharField(help_text="What changed, e.g. `stock:PAR01:ACME-001`.")
    partner_id = serializers.IntegerField(allow_null=True, help_text="Audience: the partner concerned, or null.")
    timestamp = serializers.DateTimeField(source="created_at")
    data = serializers.JSONField(  # type: ignore[assignment]  # a field named "data", not Serializer.data
        source="payload", help_text="The payload; its shape depends on `type`."
    )

    def get_cursor(self, obj: Any) -> str:
        return FeedPosition.of(obj).encode()


# The columns of the rows ``event_rows`` reads, in order: ``events_feed``'s
# rows, whose created_at is the text PostgreSQL writes in JSON.
EVENT_ROW = ("id", "txid", "type", "subject", "partner_id", "created_at", "payload")


def event_rows(events: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """``EventOutput``'s representation of events, from rows of ``EVENT_ROW``:
    partners poll the feed by pages of up to 500 events, and the serializer's
    per-field machinery on each cost more than the query. The serializer
    stays the contract (the schema is generated from it); tests/partners/
    test_event_rows.py holds the two equal, key for key and in order."""
    return [
        {
            "id": event_id,
            "cursor": feed_cursor(txid, event_id),
            "type": event_type,
            "subject": subject,
            "partner_id": partner_id,
            "timestamp": instant_text_of_json(created_at),
            "data": payload,
        }
        for event_id, txid, event_type, subject, partner_id, created_at, payload in events
    ]


class EventFeedPage(serializers.Serializer[Any]):
    results = EventOutput(many=True)
    next = serializers.URLField(allow_null=True, help_text="The next page, or null when this one is the last so far.")
    previous = serializers.URLField(allow_null=True, help_text="Always null: the feed is read forwards.")


class EventTypeOutput(serializers.Serializer[Any]):
    type = serializers.CharField(source="name")
    description = serializers.CharField()
    example = serializers.JSONField(help_text="An example of `data` for this type.")


class EventTypeList(serializers.Serializer[Any]):
    results = EventTypeOutput(many=True)
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


# ---------------------------------------------------------------- subscriptions
class WebhookCreateInput(StrictInput):
    url = StrictCharField(
        max_length=2000, help_text="https on port 443, resolving to public addresses only (checked again at delivery)."
    )
    event_types = serializers.ListField(
        child=StrictCharField(max_length=64),
        min_length=1,
        max_length=50,
        help_text='Types to receive (see GET /api/v1/events/types), or `["*"]` for all, including future ones.',
    )
    description = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    is_active = StrictBooleanField(required=False, default=True)


class WebhookUpdateInput(StrictInput):
    url = StrictCharField(max_length=2000, required=False)
    event_types = serializers.ListField(
        child=StrictCharField(max_length=64), min_length=1, max_length=50, required=False
    )
    description = StrictCharField(max_length=200, required=False, allow_blank=True)
    is_active = StrictBooleanField(
        required=False, help_text="true re-enables a disabled subscription; its pending deliveries resume."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if not attrs:
            raise serializers.ValidationError(_("Send at least one field to change."), code="empty_update")
        return attrs


class WebhookOutput(serializers.ModelSerializer[WebhookSubscription]):
    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "url",
            "event_types",
            "description",
            "is_active",
            "disabled_at",
            "disabled_reason",
            "failing_since",
            "secret_rotated_at",
            "previous_secret_expires_at",
            "partner_id",
            "version",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "failing_since": {"help_text": "First failed attempt since the last success (null when healthy)."},
            "partner_id": {"help_text": "Owner; null for the operator's own subscriptions (they receive all events)."},
        }


class WebhookCreatedOutput(WebhookOutput):
    secret = serializers.CharField(
        allow_null=True,
        help_text="The signing secret (`whsec_...`), shown in this answer only (and in its replay, with the same "
        "Idempotency-Key within 24 hours).",
    )

    class Meta(WebhookOutput.Meta):
        fields = [*WebhookOutput.Meta.fields, "secret"]


class WebhookRotateSecretInput(StrictInput):
    keep_previous_seconds = StrictIntegerField(
        min_value=0,
        max_value=MAX_PREVIOUS_SECRET_SECONDS,
        required=False,
        default=DEFAULT_PREVIOUS_SECRET_SECONDS,
        help_text="How long the previous secret keeps signing next to the new one (0: it stops at once).",
    )


class WebhookSecretOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    secret = serializers.CharField(
        allow_null=True,
        help_text="The new secret, shown in this answer only (and in its replay, with the same Idempotency-Key "
        "within 24 hours).",
    )
    secret_rotated_at = serializers.DateTimeField()
    previous_secret_expires_at = serializers.DateTimeField(allow_null=True)


# ---------------------------------------------------------------- deliveries
class WebhookEventSummary(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    type = serializers.CharField()
    subject = serializers.CharField()
    timestamp = serializers.DateTimeField(source="created_at")


class WebhookAttemptOutput(serializers.ModelSerializer[WebhookAttempt]):
    class Meta:
        model = WebhookAttempt
        fields = [
            "number",
            "trigger",
            "attempted_at",
            "duration_ms",
            "status_code",
            "succeeded",
            "error",
            "response_excerpt",
        ]
        extra_kwargs = {
            "status_code": {"help_text": "HTTP status answered, null when there was no answer (see `error`)."},
            "error": {
                "help_text": "Why there was no usable answer: address_not_public, host_not_resolved, "
                "connect_timeout, read_timeout, connection_refused, connection_error, tls_error, "
                "redirect_not_followed."
            },
            "response_excerpt": {"help_text": "The first 1,024 bytes of the answer body."},
        }


class WebhookDeliveryOutput(serializers.ModelSerializer[WebhookDelivery]):
    webhook_id = serializers.CharField(source="event.webhook_id", help_text="The `webhook-id` header sent.")
    event = WebhookEventSummary()

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "webhook_id",
            "event",
            "status",
            "attempt_count",
            "next_attempt_at",
            "last_attempt_at",
            "last_status_code",
            "delivered_at",
            "created_at",
            "updated_at",
        ]


class WebhookDeliveryDetailOutput(WebhookDeliveryOutput):
    data = serializers.JSONField(  # type: ignore[assignment]  # a field named "data", not Serializer.data
        source="event.payload", help_text="The event's `data`, as sent."
    )
    attempts = WebhookAttemptOutput(many=True, help_text="Every attempt, oldest first.")

    class Meta(WebhookDeliveryOutput.Meta):
        fields = [*WebhookDeliveryOutput.Meta.fields, "data", "attempts"]
