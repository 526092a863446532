from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from oauth2_provider.models import Application

from catalogue.demo import seed_catalogue
from catalogue.models import Product
from clusters.demo import seed_clusters
from config.api.scopes import ALL_SCOPES
from config.permissions import MERCHANDISER
from integrations.oauth import client_scopes, create_api_client

DEMO_CLIENT = "demo"
DEMO_PRODUCTS, DEMO_CLUSTERS = 200, 12
DEMO_ADMIN = "admin"
DEMO_MERCHANDISER = "merchandiser"
#: the demo credentials in plain text, so a second run can print them again (secrets and
#: passwords are stored hashed); under var/, which git ignores
CREDENTIALS_FILE = settings.BASE_DIR / "var" / "demo-credentials.json"


def _port(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise CommandError(f"PORT must be a number from 1 to 65535, not {value!r}.")
    return int(value)


class Command(BaseCommand):
    help = (
        "Load the demo catalogue (once), create the demo API client, admin and merchandiser, and "
        "print their credentials. Later runs keep and print the same credentials (tokens stay "
        "valid) unless --reset-credentials is given."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset-credentials",
            action="store_true",
            help="new client secret and passwords (the old ones and the client's tokens stop working)",
        )
        parser.add_argument(
            "--port",
            default=os.environ.get("PORT", "8000"),
            help="port of the printed URLs (default: $PORT, else 8000)",
        )
        parser.add_argument(
            "--credentials-file",
            type=Path,
            default=CREDENTIALS_FILE,
            help=f"where the plain-text demo credentials are kept (default: {CREDENTIALS_FILE})",
        )

    def handle(self, *args, **options):
        port = _port(str(options["port"]))
        path: Path = options["credentials_file"]
        if not Product.objects.exists():
            result = seed_catalogue(products=DEMO_PRODUCTS, categories=30, seed=1)
            grouped = seed_clusters(clusters=DEMO_CLUSTERS, seed=1)
            self.stdout.write(
                f"Demo catalogue: {result.categories} categories, {result.products} products, "
                f"{grouped.clusters} clusters."
            )
        stored = {} if options["reset_credentials"] else self._stored(path)
        kept: list[str] = []
        application, secret = self._client(stored, kept)
        password = self._user(DEMO_ADMIN, stored.get(DEMO_ADMIN), kept, superuser=True)
        merchandiser_password = self._user(
            DEMO_MERCHANDISER, stored.get(DEMO_MERCHANDISER), kept, superuser=False
        )
        self._store(
            path,
            {
                "client_id": application.client_id,
                "client_secret": secret,
                DEMO_ADMIN: password,
                DEMO_MERCHANDISER: merchandiser_password,
            },
        )
        base = f"http://127.0.0.1:{port}"
        if kept:
            state = f"Kept from the last run: {', '.join(kept)} (new ones: make run RESET=1)."
        else:
            state = "New credentials (any printed by earlier runs no longer work)."
        self.stdout.write(
            f"""
Demo API client (all scopes)
  client_id:     {application.client_id}
  client_secret: {secret}
Admin: {base}/admin/  user {DEMO_ADMIN}  password {password}
       user {DEMO_MERCHANDISER}  password {merchandiser_password}  (Merchandiser group)
Docs:  {base}/docs/
{state}

Try it:
  TOKEN=$(curl -s -u '{application.client_id}:{secret}' -d grant_type=client_credentials \\
    {base}/oauth2/token/ | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -s -H "Authorization: Bearer $TOKEN" '{base}/v2/products?pageSize=2&sort=name'
"""
        )

    @staticmethod
    def _database() -> str:
        return f"{connection.vendor}:{connection.settings_dict['NAME']}"

    def _stored(self, path: Path) -> dict[str, str]:
        """This database's credentials from the file; none when it is missing or unreadable."""
        try:
            every = json.loads(path.read_text())
        except (OSError, ValueError):
            return {}
        found = every.get(self._database()) if isinstance(every, dict) else None
        return found if isinstance(found, dict) else {}

    def _store(self, path: Path, credentials: dict[str, str]) -> None:
        try:
            every = json.loads(path.read_text())
        except (OSError, ValueError):
            every = {}
        every = every if isinstance(every, dict) else {}
        every[self._database()] = credentials
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        path.write_text(json.dumps(every, indent=2) + "\n")

    def _client(self, stored: dict[str, str], kept: list[str]) -> tuple[Application, str]:
        """The demo client of the last run when its stored secret still matches and it holds
        every scope; otherwise a new one (the old client and its tokens are deleted)."""
        secret = stored.get("client_secret", "")
        application = Application.objects.filter(
            name=DEMO_CLIENT, client_id=stored.get("client_id", "")
        ).first()
        if (
            application is not None
            and secret
            and check_password(secret, application.client_secret)
            and sorted(client_scopes(application)) == sorted(ALL_SCOPES)
        ):
            kept.append("client secret")
            return application, secret
        Application.objects.filter(name=DEMO_CLIENT).delete()
        return create_api_client(name=DEMO_CLIENT, scopes=list(ALL_SCOPES))

    def _user(
        self, username: str, password: str | None, kept: list[str], *, superuser: bool
    ) -> str:
        """Create or update a staff user; its password stays when the stored one still logs in,
        else it gets a fresh random one. Returns the password."""
        User = get_user_model()
        user = User.objects.filter(username=username).first() or User(username=username)
        user.is_staff, user.is_superuser = True, superuser
        if password and user.pk is not None and user.check_password(password):
            kept.append(f"{username} password")
        else:
            password = secrets.token_urlsafe(12)
            user.set_password(password)
        user.save()
        if not superuser:
            user.groups.add(Group.objects.get(name=MERCHANDISER))
        return password
