from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from oauth2_provider.models import Application

from catalogue.demo import seed_catalogue
from catalogue.models import Product
from clusters.demo import seed_clusters
from config.api.scopes import ALL_SCOPES
from config.permissions import MERCHANDISER
from integrations.oauth import create_api_client

DEMO_CLIENT = "demo"
DEMO_PRODUCTS, DEMO_CLUSTERS = 200, 12
DEMO_ADMIN = "admin"
DEMO_MERCHANDISER = "merchandiser"


class Command(BaseCommand):
    help = (
        "Load the demo catalogue (once), create a fresh demo API client, admin and merchandiser, "
        "print their credentials."
    )

    def handle(self, *args, **options):
        if not Product.objects.exists():
            result = seed_catalogue(products=DEMO_PRODUCTS, categories=30, seed=1)
            grouped = seed_clusters(clusters=DEMO_CLUSTERS, seed=1)
            self.stdout.write(
                f"Demo catalogue: {result.categories} categories, {result.products} products, "
                f"{grouped.clusters} clusters."
            )
        Application.objects.filter(name=DEMO_CLIENT).delete()
        application, secret = create_api_client(name=DEMO_CLIENT, scopes=list(ALL_SCOPES))
        password = self._user(DEMO_ADMIN, superuser=True)
        merchandiser_password = self._user(DEMO_MERCHANDISER, superuser=False)
        base = "http://127.0.0.1:8000"
        self.stdout.write(
            f"""
Demo API client (all scopes)
  client_id:     {application.client_id}
  client_secret: {secret}
Admin: {base}/admin/  user {DEMO_ADMIN}  password {password}
       user {DEMO_MERCHANDISER}  password {merchandiser_password}  (Merchandiser group)
Docs:  {base}/docs/

Try it:
  TOKEN=$(curl -s -u '{application.client_id}:{secret}' -d grant_type=client_credentials \\
    {base}/oauth2/token/ | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -s -H "Authorization: Bearer $TOKEN" '{base}/v2/products?pageSize=2&sort=name'
"""
        )

    def _user(self, username: str, *, superuser: bool) -> str:
        """Create or reset a staff user with a fresh random password; returns the password."""
        password = secrets.token_urlsafe(12)
        User = get_user_model()
        user = User.objects.filter(username=username).first() or User(username=username)
        user.is_staff, user.is_superuser = True, superuser
        user.set_password(password)
        user.save()
        if not superuser:
            user.groups.add(Group.objects.get(name=MERCHANDISER))
        return password
