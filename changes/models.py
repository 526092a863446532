"""The transactional outbox: one row per change of one record (SPEC §19)."""

from __future__ import annotations

from django.db import models
from django.db.models import Func
from django.utils import timezone


class CurrentTransactionId(Func):
    """The writing transaction's id, as the column default (PostgreSQL ``pg_current_xact_id``).

    The feed orders events by ``(txid, id)`` and exposes only transactions below the oldest one
    still in flight, so an event whose transaction commits late is never skipped. SQLite
    serialises writers (events commit in id order), so there every event gets ``0``.
    """

    function = "pg_current_xact_id"
    template = "(pg_current_xact_id()::text::bigint)"
    output_field = models.BigIntegerField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return "0", []


class ChangeEvent(models.Model):
    """One created / updated / deleted / moved / linked / unlinked record, appended by
    ``changes.outbox`` inside the writing transaction and never updated afterwards.

    ``keys`` are the record's keys after the write (the last ones for ``deleted``: a tombstone);
    ``sources`` holds its source names as ``|ERP|SHOP|`` for the feed's ``source`` filter.
    """

    class Action(models.TextChoices):
        CREATED = "created"
        UPDATED = "updated"
        DELETED = "deleted"
        MOVED = "moved"
        LINKED = "linked"
        UNLINKED = "unlinked"

    id = models.BigAutoField(primary_key=True)
    txid = models.BigIntegerField(db_default=CurrentTransactionId(), editable=False)
    at = models.DateTimeField(default=timezone.now)
    entity = models.CharField(max_length=16)
    action = models.CharField(max_length=16, choices=Action.choices)
    record_id = models.BigIntegerField()
    version = models.IntegerField(null=True)
    keys = models.JSONField(default=dict)
    sources = models.CharField(max_length=1024, blank=True, default="")
    changed_fields = models.JSONField(default=list)
    changes = models.JSONField(default=dict)
    actor_kind = models.CharField(max_length=8)
    actor_id = models.CharField(max_length=255, blank=True, default="")
    request_id = models.CharField(max_length=128, blank=True, default="")
    job_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["txid", "id"], name="change_feed_order"),
            models.Index(fields=["entity", "record_id", "id"], name="change_record_history"),
            models.Index(fields=["at"], name="change_at"),
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.record_id} {self.action}"
