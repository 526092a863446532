"""Tasks of the service's plumbing (Celery, ``config/celery.py``; periodic ones are
``CELERY_BEAT_SCHEDULE`` in settings)."""

from __future__ import annotations

import logging

from celery import shared_task

from config.api.idempotency import prune_idempotency_records as prune

logger = logging.getLogger("catalogue.tasks")


@shared_task(name="config.api.tasks.ping")
def ping() -> str:
    """Proves a worker executes what the broker delivers (smoke suite, beat heartbeat)."""
    logger.info("pong")
    return "pong"


@shared_task(name="config.api.tasks.prune_idempotency_records")
def prune_idempotency_records() -> int:
    """Delete idempotency records older than ``IDEMPOTENCY_TTL_SECONDS`` (hourly)."""
    return prune()
