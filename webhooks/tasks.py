"""Webhook work on Celery workers (SPEC §20)."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from webhooks import delivery, dispatch
from webhooks.models import Delivery, Subscription


@shared_task(name="webhooks.tasks.dispatch_events")
def dispatch_events() -> int:
    """Fan new outbox events out to deliveries, then start a drainer per subscription given work."""
    touched = dispatch.dispatch()
    for subscription_id in sorted(touched):
        drain_subscription.delay(subscription_id)
    return len(touched)


@shared_task(name="webhooks.tasks.drain_subscription")
def drain_subscription(subscription_id: int) -> int:
    """Send one subscription's due deliveries (in order per record); re-queue while more is due."""
    made, more = delivery.drain(subscription_id)
    if more:
        drain_subscription.delay(subscription_id)
    return made


@shared_task(name="webhooks.tasks.sweep")
def sweep() -> int:
    """Beat's safety net: dispatch what no kick dispatched, start drainers for due retries."""
    dispatch_events()
    due = (
        Delivery.objects.filter(
            status=Delivery.Status.PENDING,
            next_attempt_at__lte=timezone.now(),
            subscription__active=True,
        )
        .values_list("subscription_id", flat=True)
        .distinct()
    )
    ids = sorted(set(due))
    for subscription_id in ids:
        drain_subscription.delay(subscription_id)
    return len(ids)


@shared_task(name="webhooks.tasks.prune_deliveries")
def prune_deliveries() -> int:
    """Delete finished deliveries older than ``WEBHOOK_DELIVERY_RETENTION_DAYS`` (hourly)."""
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOK_DELIVERY_RETENTION_DAYS)
    finished = Delivery.objects.exclude(status=Delivery.Status.PENDING)
    deleted, _ = finished.filter(created_at__lt=cutoff).delete()
    return deleted


def start_drain(subscription: Subscription) -> None:
    drain_subscription.delay(subscription.pk)
