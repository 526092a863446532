from __future__ import annotations

from django.core.management.base import BaseCommand

from integrations.oauth import access_tokens_prune_expired


class Command(BaseCommand):
    help = "Delete expired OAuth2 access tokens (also run by Celery beat, SPEC §3)."

    def handle(self, *args, **options):
        pruned = access_tokens_prune_expired()
        self.stdout.write(f"Pruned {pruned} expired access tokens.")
