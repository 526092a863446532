"""Webhook subscriptions, their deliveries and the dispatcher's place in the outbox (SPEC §20)."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone

from webhooks import signing


class Subscription(models.Model):
    """A client's subscription: where to POST which events, signed with its secret.

    ``secret_encrypted`` is the ``whsec_…`` secret encrypted with ``WEBHOOK_SECRET_KEY``
    (``webhooks.signing``); the plain secret is shown once, in the answer that created (or
    rotated) it. A rotation keeps the replaced secret ``WEBHOOK_SECRET_OVERLAP_SECONDS``: every
    delivery meanwhile carries both signatures, so a receiver can switch without losing one.
    ``failing_since`` is the first failed attempt since the last success (deactivation after
    ``WEBHOOK_DEACTIVATE_AFTER_SECONDS``); ``lease_until`` marks the one worker draining it.
    """

    client_id = models.CharField(max_length=100, db_index=True)
    url = models.CharField(max_length=2000)
    events = models.JSONField(default=list)
    description = models.CharField(max_length=500, blank=True, default="")
    active = models.BooleanField(default=True)
    secret_encrypted = models.TextField(editable=False)
    #: after a rotation the replaced secret still signs (a second signature) until this moment
    previous_secret_encrypted = models.TextField(editable=False, blank=True, default="")
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    failing_since = models.DateTimeField(null=True, blank=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    deactivated_reason = models.CharField(max_length=255, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.url}"

    def signing_secrets(self, now: datetime) -> list[str]:
        """The plain secrets a delivery is signed with now: the current one, and the replaced
        one while its overlap lasts."""
        kept = [self.secret_encrypted]
        if self.overlap_until(now) is not None:
            kept.append(self.previous_secret_encrypted)
        return [signing.decrypt(token) for token in kept]

    def overlap_until(self, now: datetime) -> datetime | None:
        """Until when the replaced secret still signs (None: only the current one signs)."""
        until = self.previous_secret_until
        return until if until is not None and now < until else None


class Delivery(models.Model):
    """One event for one subscription: the exact body, and how its attempts went.

    Rows of one subscription are created in event order (ids increase with the feed order), and
    ``record_key`` names the record: a pending delivery waits for every earlier pending one of
    the same record (order per subscription and record).
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.CharField(max_length=64)
    event_type = models.CharField(max_length=64)
    record_key = models.CharField(max_length=80)
    payload = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.IntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    #: when the event was written (the outbox's ``at``): latency is measured from it
    event_at = models.DateTimeField(default=timezone.now)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.IntegerField(null=True, blank=True)
    last_duration_ms = models.IntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event_id"], name="webhook_delivery_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["subscription", "status", "record_key", "id"],
                name="webhook_delivery_queue",
            ),
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → #{self.subscription_id}"


class DispatchCursor(models.Model):
    """The dispatcher's place in the change feed (one row): a ``changes.feed.Position`` token."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    position = models.CharField(max_length=64)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.position
