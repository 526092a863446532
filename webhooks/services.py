"""Every write on webhook subscriptions (SPEC §20): keyword-only, transactional, catalogue errors.

A subscription belongs to the client that created it: another client's id is 404 (10028), as
if it did not exist. Its events need the read scopes of their entities (``granted``: the token's
scopes, passed by the view); its URL must pass ``webhooks.targets`` (422 10029).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, TypedDict

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.api.errors import InsufficientScope, PayloadValidationError, WebhookNotFound
from records.rules import timestamp
from records.validation import MAX_ID
from webhooks import dispatch, events, signing, targets
from webhooks.models import Delivery, Subscription


class SubscriptionData(TypedDict, total=False):
    url: str
    events: list[str]
    description: str
    active: bool


def subscription_for(client_id: str, subscription_id: int, *, lock: bool = False) -> Subscription:
    found = None
    if 1 <= subscription_id <= MAX_ID:  # a larger number names no row (and binds nowhere)
        rows = Subscription.objects.filter(pk=subscription_id, client_id=client_id)
        found = (rows.select_for_update() if lock else rows).first()
    if found is None:
        raise WebhookNotFound(f"No webhook subscription {subscription_id} for this client.")
    return found


def _check_events(names: list[str], granted: list[str]) -> None:
    missing = events.missing_scopes(names, granted)
    if missing:
        raise InsufficientScope(
            f"The token lacks {', '.join(missing)} to subscribe to those entities' events."
        )


def _after_commit_kick(subscription: Subscription) -> None:
    def start() -> None:
        from webhooks.tasks import start_drain

        start_drain(subscription)

    transaction.on_commit(start, robust=True)


@transaction.atomic
def subscription_create(
    *, client_id: str, data: SubscriptionData, granted: list[str]
) -> tuple[Subscription, str]:
    """The new subscription and its plain secret (shown once, stored encrypted)."""
    _check_events(data["events"], granted)
    targets.resolve(data["url"])
    secret = signing.new_secret()
    subscription = Subscription.objects.create(
        client_id=client_id,
        url=data["url"],
        events=list(dict.fromkeys(data["events"])),
        description=data.get("description", ""),
        active=data.get("active", True),
        secret_encrypted=signing.encrypt(secret),
    )
    transaction.on_commit(dispatch.forget_active)
    return subscription, secret


@transaction.atomic
def subscription_update(
    *, client_id: str, subscription_id: int, data: SubscriptionData, granted: list[str]
) -> Subscription:
    subscription = subscription_for(client_id, subscription_id)
    if "events" in data:
        _check_events(data["events"], granted)
        subscription.events = list(dict.fromkeys(data["events"]))
    if "url" in data:
        targets.resolve(data["url"])
        subscription.url = data["url"]
    if "description" in data:
        subscription.description = data["description"]
    if "active" in data:
        reactivated = data["active"] and not subscription.active
        subscription.active = data["active"]
        if reactivated:  # a fresh start: pending deliveries go out again, the 3 days restart
            subscription.failing_since = None
            subscription.deactivated_at = None
            subscription.deactivated_reason = ""
            _after_commit_kick(subscription)
    subscription.updated_at = timezone.now()
    subscription.save()
    transaction.on_commit(dispatch.forget_active)
    return subscription


@transaction.atomic
def rotate_secret(*, client_id: str, subscription_id: int) -> tuple[Subscription, str]:
    """A new signing secret (shown once); the replaced one keeps signing beside it for
    ``WEBHOOK_SECRET_OVERLAP_SECONDS`` (0: at once only the new one). A rotation during an
    overlap drops the secret replaced before: at most two secrets sign. The row is locked, so
    of two rotations at once the second replaces the first's secret (both shown secrets sign),
    and only the secret columns are written (a drainer's lease and failure state stay)."""
    subscription = subscription_for(client_id, subscription_id, lock=True)
    secret = signing.new_secret()
    now = timezone.now()
    subscription.previous_secret_encrypted = subscription.secret_encrypted
    subscription.previous_secret_until = now + timedelta(
        seconds=settings.WEBHOOK_SECRET_OVERLAP_SECONDS
    )
    subscription.secret_encrypted = signing.encrypt(secret)
    subscription.updated_at = now
    subscription.save(
        update_fields=[
            "secret_encrypted", "previous_secret_encrypted", "previous_secret_until", "updated_at"
        ]
    )  # fmt: skip
    return subscription, secret


@transaction.atomic
def subscription_delete(*, client_id: str, subscription_id: int) -> None:
    subscription_for(client_id, subscription_id).delete()
    transaction.on_commit(dispatch.forget_active)


def publish(subscription: Subscription, event_type: str, data: dict[str, Any]) -> Delivery:
    """A delivery that does not come from the outbox (``webhook.test``), sent
    by a worker after the caller's transaction commits. It waits for no other delivery."""
    message_id = f"msg_{uuid.uuid4().hex}"
    now = timezone.now()
    created = Delivery.objects.create(
        subscription=subscription,
        event_id=message_id,
        event_type=event_type,
        record_key=message_id,
        payload=dispatch.body(message_id, event_type, now, data),
        event_at=now,
        next_attempt_at=now,
    )
    _after_commit_kick(subscription)
    return created


@transaction.atomic
def send_test(*, client_id: str, subscription_id: int) -> Delivery:
    subscription = subscription_for(client_id, subscription_id)
    if not subscription.active:
        raise PayloadValidationError("The subscription is inactive; activate it first.")
    return publish(
        subscription,
        events.TEST_TYPE,
        {"subscriptionId": subscription.pk, "sentAt": timestamp(timezone.now())},
    )


def delivery_for(client_id: str, subscription_id: int, delivery_id: int) -> Delivery:
    subscription = subscription_for(client_id, subscription_id)
    found = None
    if 1 <= delivery_id <= MAX_ID:
        found = Delivery.objects.filter(pk=delivery_id, subscription=subscription).first()
    if found is None:
        raise WebhookNotFound(f"No delivery {delivery_id} of webhook {subscription_id}.")
    return found


def replay(delivery: Delivery) -> Delivery:
    """Send a finished (failed or succeeded) delivery again: a fresh cycle of attempts and
    retries. Used by the API and the admin's action."""
    if delivery.status == Delivery.Status.PENDING:
        raise PayloadValidationError("The delivery is still pending; it is being retried.")
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.PENDING,
        attempts=0,
        first_attempt_at=None,
        next_attempt_at=now,
        delivered_at=None,
        last_error="",
    )
    delivery.refresh_from_db()
    _after_commit_kick(delivery.subscription)
    return delivery


@transaction.atomic
def replay_for(*, client_id: str, subscription_id: int, delivery_id: int) -> Delivery:
    return replay(delivery_for(client_id, subscription_id, delivery_id))
