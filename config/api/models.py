"""The API's own tables."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class IdempotencyRecord(models.Model):
    """The first completed answer to a POST carrying ``Idempotency-Key`` (SPEC §18).

    The row is inserted (the claim) inside the transaction of the write it guards and filled with
    the rendered answer before that transaction commits, so a committed row always holds an
    answer and a rolled-back request (a 5xx, a crashed worker) leaves no claim behind. The unique
    ``(client_id, key)`` index makes a concurrent duplicate wait for the first to finish.
    """

    client_id = models.CharField(max_length=100)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(null=True)
    headers = models.JSONField(default=dict)
    content = models.BinaryField(default=b"")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client_id", "key"], name="uniq_idempotency_key")
        ]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.key}"
