"""Token rows do not grow without bound, and narrowing a client's scopes narrows its live tokens
at once (SPEC §3)."""

from __future__ import annotations

from datetime import timedelta
from hashlib import sha256
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from oauth2_provider.models import AccessToken

from integrations.oauth import access_tokens_prune_expired, create_api_client
from integrations.tasks import prune_expired_tokens
from tests.admin.conftest import changeform_data
from tests.catalogue.factories import ProductFactory
from tests.conftest import ApiClient, envelope_error, issue_token

pytestmark = pytest.mark.django_db


def issue(count: int, scopes: list[str] | None = None) -> list[str]:
    application, secret = create_api_client(name="erp", scopes=scopes or ["products:read"])
    return [issue_token(application.client_id, secret)["access_token"] for _ in range(count)]


def expire(tokens: list[str]) -> None:
    checksums = [sha256(t.encode()).hexdigest() for t in tokens]
    past = timezone.now() - timedelta(seconds=1)
    AccessToken.objects.filter(token_checksum__in=checksums).update(expires=past)


def test_prune_command_deletes_expired_tokens_only():
    tokens = issue(4)
    expire(tokens[:3])
    out = StringIO()
    call_command("prune_tokens", stdout=out)
    assert "Pruned 3 expired access tokens." in out.getvalue()
    assert AccessToken.objects.count() == 1
    assert ApiClient(tokens[3]).get("/v2/products").status_code == 200
    call_command("prune_tokens", stdout=out)  # idempotent
    assert "Pruned 0 expired access tokens." in out.getvalue()


def test_prune_works_in_batches():
    tokens = issue(5)
    expire(tokens)
    assert access_tokens_prune_expired(batch_size=2) == 5
    assert not AccessToken.objects.exists()


def test_the_periodic_task_prunes_and_is_scheduled():
    expire(issue(2))
    assert prune_expired_tokens.delay().get() == 2
    assert AccessToken.objects.count() == 0
    entry = settings.CELERY_BEAT_SCHEDULE["prune-expired-tokens"]
    assert entry["task"] == prune_expired_tokens.name
    assert 0 < entry["schedule"] <= 3600


def test_removing_a_scope_in_the_admin_narrows_live_tokens_at_once(admin_client):
    application, secret = create_api_client(
        name="erp", scopes=["products:read", "products:write", "search:read"]
    )
    full = ApiClient(issue_token(application.client_id, secret)["access_token"])
    writer = ApiClient(issue_token(application.client_id, secret, "products:write")["access_token"])
    product = ProductFactory()
    assert full.patch(f"/v2/products/id/{product.pk}", {"sku": "N-1"}).status_code == 200

    url = f"/admin/oauth2_provider/application/{application.pk}/change/"
    data = changeform_data(admin_client.get(url))
    data["profile-0-scopes"] = ["products:read", "search:read"]
    response = admin_client.post(url, data, follow=True)
    assert response.status_code == 200
    assert "2 live access token(s) lost removed scopes." in response.content.decode()

    refused = full.patch(f"/v2/products/id/{product.pk}", {"sku": "N-2"})
    assert "products:write" in envelope_error(refused, 403, 10002)["messages"][0]
    assert full.get(f"/v2/products/id/{product.pk}").json()["data"]["sku"] == "N-1"
    # a token holding nothing but removed scopes is gone
    envelope_error(writer.get("/v2/products"), 401, 10001)
    assert AccessToken.objects.get().scope == "products:read search:read"


def test_an_admin_save_that_keeps_the_scopes_changes_no_token(admin_client):
    application, secret = create_api_client(name="erp", scopes=["products:read"])
    token = ApiClient(issue_token(application.client_id, secret)["access_token"])
    url = f"/admin/oauth2_provider/application/{application.pk}/change/"
    response = admin_client.post(url, changeform_data(admin_client.get(url)), follow=True)
    assert "lost removed scopes" not in response.content.decode()
    assert token.get("/v2/products").status_code == 200
