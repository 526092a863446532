"""Periodic work of the API foundation (``CELERY_BEAT_SCHEDULE`` in settings)."""

from __future__ import annotations

from celery import shared_task

from config.api.idempotency import prune_idempotency_records as prune


@shared_task(name="config.api.tasks.prune_idempotency_records")
def prune_idempotency_records() -> int:
    """Delete idempotency records older than ``IDEMPOTENCY_TTL_SECONDS`` (hourly)."""
    return prune()
