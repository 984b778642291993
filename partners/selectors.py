"""Reads on partners, scoped to the caller: another partner's objects do not exist."""

import re
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL

from partners import sql
from partners.callers import Caller
from partners.errors import ObjectNotFound
from partners.models import ApiClient, CallerKind, Event, Partner, WebhookAttempt, WebhookDelivery, WebhookSubscription


def partner_of_caller(*, caller: Caller) -> Partner:
    partner = caller.client.partner
    if partner is None:
        raise ObjectNotFound()
    return partner


def api_clients_visible_to(*, caller: Caller) -> QuerySet[ApiClient]:
    if caller.partner_id is None:
        return ApiClient.objects.none()
    return ApiClient.objects.filter(partner_id=caller.partner_id).select_related("partner")


def api_client_get(*, caller: Caller, client_id: str) -> ApiClient:
    client = api_clients_visible_to(caller=caller).filter(client_id=client_id).first()
    if client is None:
        raise ObjectNotFound()
    return client


# ---------------------------------------------------------------- events feed
# An event is shown once every transaction that started before its own has
# ended (its txid is below the oldest running one), so a reader that moved
# past a (txid, id) position will never see an event appear behind it. A
# transaction sees its own events (tests, and services reading back).
_FEED_VISIBLE = Q(txid__lt=RawSQL(sql.OLDEST_RUNNING_TXID, [])) | Q(  # noqa: S611  constant SQL, no value
    txid=RawSQL(sql.OWN_TXID, [])  # noqa: S611  constant SQL, no value
)
_POSITION = re.compile(r"^(\d{1,19})-(\d{1,19})$")
_MAX_BIGINT = 2**63 - 1


@dataclass(frozen=True)
class FeedPosition:
    """Where a reader is in the feed; shown to clients as an opaque string."""

    txid: int
    event_id: int

    def encode(self) -> str:
        return feed_cursor(self.txid, self.event_id)

    @classmethod
    def of(cls, event: Event) -> "FeedPosition":
        return cls(txid=event.txid, event_id=event.pk)

    @classmethod
    def decode(cls, text: str) -> "FeedPosition":
        match = _POSITION.match(text)
        if match is None:
            raise ValueError(text)
        txid, event_id = int(match[1]), int(match[2])
        if txid > _MAX_BIGINT or event_id > _MAX_BIGINT:  # no event of this feed is there
            raise ValueError(text)
        return cls(txid=txid, event_id=event_id)


def feed_cursor(txid: int, event_id: int) -> str:
    """The text of the position (``txid``, ``event_id``): ``FeedPosition.encode``."""
    return f"{txid}-{event_id}"


def events_visible_to(*, caller: Caller) -> QuerySet[Event]:
    """A partner sees the events whose audience is itself; the operator sees all."""
    if caller.is_operator:
        return Event.objects.all()
    if caller.kind == CallerKind.PARTNER and caller.partner_id is not None:
        return Event.objects.filter(partner_id=caller.partner_id)
    return Event.objects.none()


def events_feed(*, caller: Caller, after: FeedPosition | None, types: list[str], limit: int) -> list[list[Any]]:
    """Up to ``limit`` events after ``after``, oldest first, in feed order, as
    rows [id, txid, type, subject, partner id, created_at, payload] where
    created_at is the text PostgreSQL writes in JSON (``instant_text_of_json``
    reads it) and the payload is decoded. One plain statement
    (``sql.EVENTS_FEED_PAGE``, a partner's ``EVENTS_FEED_PAGE_OF_PARTNER``) with the conditions of ``events_visible_to``
    and ``events_in_feed_order``: a page is up to 500 wide rows, and the ORM's
    compilation and dicts of them cost three times the fetch.
    tests/partners/test_feed_sql.py holds it equal to the querysets."""
    if not caller.is_operator and not (caller.kind == CallerKind.PARTNER and caller.partner_id is not None):
        return []  # events_visible_to: none
    params = {
        "partner": caller.partner_id,
        "after_txid": -1 if after is None else after.txid,
        "after_id": 0 if after is None else after.event_id,
        "types": types,
        "limit": limit,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql.EVENTS_FEED_PAGE if caller.is_operator else sql.EVENTS_FEED_PAGE_OF_PARTNER, params)
        page = cursor.fetchone()[0]
    return page or []


def events_in_feed_order(*, events: QuerySet[Event] | None = None, after: FeedPosition | None) -> QuerySet[Event]:
    """The visible events (of every audience unless ``events`` narrows them)
    after ``after``, oldest first. For the project's own readers of the feed
    (footfall folds collected orders into its sales), which keep a position
    like a partner does and are never passed by a late commit."""
    events = (Event.objects.all() if events is None else events).filter(_FEED_VISIBLE)
    if after is not None:
        # ``txid >= position`` is the index condition the scan of (txid, id) starts
        # from; the OR alone is only a filter under the generic plan of a prepared
        # statement, which walked every older event (87 ms for 448,000 events
        # against 0.3 ms, measured).
        events = events.filter(Q(txid__gt=after.txid) | Q(txid=after.txid, id__gt=after.event_id), txid__gte=after.txid)
    return events.order_by("txid", "id")


# ---------------------------------------------------------------- webhooks
def webhook_subscriptions_visible_to(*, caller: Caller) -> QuerySet[WebhookSubscription]:
    """A partner sees its own subscriptions; the operator sees every one."""
    if caller.is_operator:
        return WebhookSubscription.objects.all()
    if caller.kind == CallerKind.PARTNER and caller.partner_id is not None:
        return WebhookSubscription.objects.filter(partner_id=caller.partner_id)
    return WebhookSubscription.objects.none()


def webhook_subscription_get(*, caller: Caller, subscription_id: int) -> WebhookSubscription:
    subscription = webhook_subscriptions_visible_to(caller=caller).filter(pk=subscription_id).first()
    if subscription is None:
        raise ObjectNotFound()
    return subscription


def webhook_deliveries_of(
    *, caller: Caller, subscription_id: int, statuses: list[str] | None = None
) -> QuerySet[WebhookDelivery]:
    subscription = webhook_subscription_get(caller=caller, subscription_id=subscription_id)
    deliveries = WebhookDelivery.objects.filter(subscription=subscription).select_related("event")
    if statuses:
        deliveries = deliveries.filter(status__in=statuses)
    return deliveries


def webhook_delivery_get(*, caller: Caller, subscription_id: int, delivery_id: int) -> WebhookDelivery:
    """The delivery with its attempts, oldest first."""
    delivery = (
        webhook_deliveries_of(caller=caller, subscription_id=subscription_id)
        .filter(pk=delivery_id)
        .prefetch_related(Prefetch("attempts", queryset=WebhookAttempt.objects.order_by("number")))
        .first()
    )
    if delivery is None:
        raise ObjectNotFound()
    return delivery
