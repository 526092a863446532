from __future__ import annotations

import json as jsonlib

from django.core.management.base import BaseCommand, CommandError

from config.api.scopes import ALL_SCOPES
from integrations.oauth import create_api_client


class Command(BaseCommand):
    help = "Create an OAuth2 client-credentials API client and print its id and secret once."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--scopes",
            default=" ".join(ALL_SCOPES),
            help="Space-separated scopes (default: every scope).",
        )
        parser.add_argument("--json", action="store_true", help="Print JSON.")

    def handle(self, *args, name: str, scopes: str, json: bool = False, **options):
        try:
            application, secret = create_api_client(name=name, scopes=scopes.split())
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        payload = {
            "client_id": application.client_id,
            "client_secret": secret,
            "scopes": scopes.split(),
        }
        if json:
            self.stdout.write(_dumps(payload))
            return
        self.stdout.write(f"client_id:     {payload['client_id']}")
        self.stdout.write(f"client_secret: {payload['client_secret']}")
        self.stdout.write(f"scopes:        {' '.join(payload['scopes'])}")
        self.stdout.write("The secret is shown once; it is stored hashed.")


def _dumps(payload: dict) -> str:
    return jsonlib.dumps(payload)
