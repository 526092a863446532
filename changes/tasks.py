"""Periodic work of the change feed (``CELERY_BEAT_SCHEDULE`` in settings)."""

from __future__ import annotations

from celery import shared_task

from changes import feed


@shared_task(name="changes.tasks.prune_change_events")
def prune_change_events() -> int:
    """Delete change events older than ``CHANGES_RETENTION_DAYS`` (hourly); idempotent."""
    return feed.prune()
