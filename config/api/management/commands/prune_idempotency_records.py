"""``manage.py prune_idempotency_records``: what the hourly Celery task does, on demand."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from config.api.idempotency import prune_idempotency_records


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than IDEMPOTENCY_TTL_SECONDS (24 h)."

    def handle(self, *args, **options) -> None:
        deleted = prune_idempotency_records()
        self.stdout.write(f"Deleted {deleted} idempotency record(s).")
