"""Periodic work of the integrations app (scheduled in ``CELERY_BEAT_SCHEDULE``)."""

from __future__ import annotations

from celery import shared_task

from integrations.oauth import access_tokens_prune_expired


@shared_task(name="integrations.tasks.prune_expired_tokens")
def prune_expired_tokens() -> int:
    """Delete expired access tokens; running it twice deletes nothing more."""
    return access_tokens_prune_expired()
