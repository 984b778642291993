"""Writes on webhook subscriptions: create, update, delete, rotate the
signing secret, disable after persistent failure, redeliver.

Every change of a subscription bumps ``version`` in the same UPDATE (the
ETag), and an update with an expected version is a compare-and-swap."""

import datetime as dt
import functools
import logging
from typing import Any

from django.core.mail import mail_admins, send_mail
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from gateway.api.instants import instant_text
from gateway.api.problems import PreconditionFailed
from partners.errors import WebhookDisabled, WebhookFieldInvalid, WebhookLimitReached
from partners.event_types import ALL_TYPES, EVENT_TYPES
from partners.locks import lock_subscription_for_delete, lock_subscription_owner
from partners.models import DeliveryStatus, Partner, WebhookDelivery, WebhookSubscription
from partners.services.events import deliveries_enqueue, event_record
from partners.services.signing import webhook_secret_encrypt, webhook_secret_new
from partners.services.targets import TargetRefused, webhook_url_check

log = logging.getLogger(__name__)

# Each subscription multiplies the deliveries of every event; 20 endpoints
# cover a partner's environments (production, staging, tools) with room left.
MAX_SUBSCRIPTIONS_PER_OWNER = 20
# During a rotation the previous secret signs too, by default for a day, so
# receivers can switch without losing a message; at most a week.
DEFAULT_PREVIOUS_SECRET_SECONDS = 24 * 3600
MAX_PREVIOUS_SECRET_SECONDS = 7 * 24 * 3600


def _check_url(url: str) -> None:
    try:
        webhook_url_check(url)
    except TargetRefused as exc:
        raise WebhookFieldInvalid("url", exc.code, exc.message) from exc


def _check_event_types(event_types: list[str]) -> list[str]:
    unknown = [t for t in event_types if t != ALL_TYPES and t not in EVENT_TYPES]
    if unknown:
        raise WebhookFieldInvalid(
            "event_types",
            "unknown_event_type",
            _("Unknown event type(s): %(types)s. Known: %(known)s, or * for all.")
            % {"types": ", ".join(unknown), "known": ", ".join(sorted(EVENT_TYPES))},
        )
    return sorted(set(event_types))


def webhook_subscription_create(
    *, partner: Partner | None, url: str, event_types: list[str], description: str = "", is_active: bool = True
) -> tuple[WebhookSubscription, str]:
    """Returns the subscription and its signing secret in clear (shown once)."""
    types = _check_event_types(event_types)
    _check_url(url)
    secret = webhook_secret_new()
    with transaction.atomic():
        lock_subscription_owner(partner_id=partner.pk if partner is not None else None)
        if WebhookSubscription.objects.filter(partner=partner).count() >= MAX_SUBSCRIPTIONS_PER_OWNER:
            raise WebhookLimitReached(
                _("At most %(limit)d webhook subscriptions; delete one first.") % {"limit": MAX_SUBSCRIPTIONS_PER_OWNER}
            )
        subscription = WebhookSubscription.objects.create(
            partner=partner,
            url=url,
            event_types=types,
            description=description,
            is_active=is_active,
            secret_encrypted=webhook_secret_encrypt(secret),
        )
    return subscription, secret


def webhook_subscription_update(
    *, subscription: WebhookSubscription, expected_version: int, changes: dict[str, Any]
) -> WebhookSubscription:
    """Apply ``changes`` (url, event_types, description, is_active) if the
    subscription is still at ``expected_version`` (412 otherwise).
    Re-enabling clears the disable reason and the failure clock; pending
    deliveries then resume."""
    values: dict[str, Any] = {}
    if "url" in changes:
        _check_url(changes["url"])
        values["url"] = changes["url"]
    if "event_types" in changes:
        values["event_types"] = _check_event_types(changes["event_types"])
    if "description" in changes:
        values["description"] = changes["description"]
    if "is_active" in changes:
        values["is_active"] = changes["is_active"]
        if changes["is_active"]:
            values.update(disabled_at=None, disabled_reason="", failing_since=None)
        else:
            # SET expressions read the row as it was: only an active one records when and why.
            was_active = Q(is_active=True)
            values.update(
                disabled_at=Case(When(was_active, then=Value(timezone.now())), default=F("disabled_at")),
                disabled_reason=Case(
                    When(was_active, then=Value("disabled through the API")), default=F("disabled_reason")
                ),
            )
    with transaction.atomic():
        updated = WebhookSubscription.objects.filter(pk=subscription.pk, version=expected_version).update(
            **values, version=F("version") + 1, updated_at=timezone.now()
        )
        if not updated:
            raise PreconditionFailed()
    subscription.refresh_from_db()
    return subscription


def webhook_subscription_delete(*, subscription: WebhookSubscription, expected_version: int | None = None) -> None:
    """Deletes the subscription with its deliveries and their log (every
    attempt); with ``expected_version``, only if nobody changed it since
    (412 otherwise, as when a concurrent delete came first).

    Deliveries keep going while this runs: the row lock
    (``lock_subscription_for_delete``, see partners.locks) waits for a
    fan-out or an attempt record that holds the subscription, so what they
    wrote is deleted with it, and makes those that come later find it gone.
    An attempt whose request is in flight meanwhile is not logged (its
    receiver may still get that one message, with the usual webhook-id), a
    fan-out creates no delivery for it, and nothing is sent after the
    commit."""
    with transaction.atomic():
        version = lock_subscription_for_delete(subscription_id=subscription.pk)
        if version is None or (expected_version is not None and version != expected_version):
            raise PreconditionFailed()
        WebhookSubscription.objects.filter(pk=subscription.pk).delete()


def webhook_subscription_rotate_secret(
    *, subscription: WebhookSubscription, keep_previous_seconds: int = DEFAULT_PREVIOUS_SECRET_SECONDS
) -> tuple[WebhookSubscription, str]:
    """A new signing secret; the current one keeps signing alongside for
    ``keep_previous_seconds`` (0: it stops at once, e.g. after a leak)."""
    secret = webhook_secret_new()
    now = timezone.now()
    keep = max(0, min(keep_previous_seconds, MAX_PREVIOUS_SECRET_SECONDS))
    with transaction.atomic():
        # One statement: the previous secret is whatever the row holds now.
        WebhookSubscription.objects.filter(pk=subscription.pk).update(
            secret_encrypted=webhook_secret_encrypt(secret),
            previous_secret_encrypted=F("secret_encrypted") if keep else Value(""),
            previous_secret_expires_at=now + dt.timedelta(seconds=keep) if keep else None,
            secret_rotated_at=now,
            version=F("version") + 1,
            updated_at=now,
        )
    subscription.refresh_from_db()
    return subscription, secret


def webhook_subscription_disable(
    *, subscription_id: int, reason: str, now: dt.datetime, failing_since_before: dt.datetime | None = None
) -> bool:
    """Disable an active subscription (only if it has been failing since
    before ``failing_since_before``, when given), record ``webhook.disabled``
    and tell the partner by email after commit. Returns whether it did."""
    with transaction.atomic():
        candidates = WebhookSubscription.objects.filter(pk=subscription_id, is_active=True)
        if failing_since_before is not None:
            candidates = candidates.filter(failing_since__lte=failing_since_before)
        if not candidates.update(
            is_active=False, disabled_at=now, disabled_reason=reason[:200], version=F("version") + 1, updated_at=now
        ):
            return False
        subscription = WebhookSubscription.objects.select_related("partner").get(pk=subscription_id)
        event_record(
            type="webhook.disabled",
            partner_id=subscription.partner_id,
            subject=f"webhook:{subscription.pk}",
            payload={
                "webhook": subscription.pk,
                "url": subscription.url,
                "reason": subscription.disabled_reason,
                "disabled_at": instant_text(now),
            },
        )
        transaction.on_commit(functools.partial(_tell_owner_disabled, subscription), robust=True)
    log.warning("webhook disabled", extra={"webhook": subscription_id, "reason": reason})
    return True


def _tell_owner_disabled(subscription: WebhookSubscription) -> None:
    subject = f"Webhook #{subscription.pk} disabled"
    body = (
        f"Your webhook subscription #{subscription.pk} to {subscription.url} was disabled: "
        f"{subscription.disabled_reason}.\n\n"
        "Events that happened meanwhile are still readable from GET /api/v1/events. Once the endpoint works, "
        f're-enable it with PATCH /api/v1/webhooks/{subscription.pk} {{"is_active": true}}; failed deliveries '
        f"can be sent again with POST /api/v1/webhooks/{subscription.pk}/deliveries/<id>/redeliver."
    )
    partner = subscription.partner
    if partner is None:
        mail_admins(subject, body)
    elif partner.contact_email:
        send_mail(subject, body, None, [partner.contact_email])
    else:
        log.warning("webhook disabled, partner has no contact email", extra={"partner": partner.pk})


def webhook_delivery_redeliver(*, delivery: WebhookDelivery) -> None:
    """Send a delivery again now (whatever its status), with the same
    webhook-id. One manual attempt: if it fails, an exhausted delivery stays
    failed, a pending one goes on with its schedule."""
    if not WebhookSubscription.objects.filter(pk=delivery.subscription_id, is_active=True).exists():
        raise WebhookDisabled(_("Re-enable the subscription (PATCH is_active=true) before redelivering."))
    now = timezone.now()
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.PENDING, next_attempt_at=now, manual_requested=True, updated_at=now
        )
        transaction.on_commit(functools.partial(deliveries_enqueue, [delivery.pk]), robust=True)
