"""Tasks of the service's plumbing (Celery, ``config/celery.py``)."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger("catalogue.tasks")


@shared_task(name="config.api.tasks.ping")
def ping() -> str:
    """Proves a worker executes what the broker delivers (smoke suite, beat heartbeat)."""
    logger.info("pong")
    return "pong"
