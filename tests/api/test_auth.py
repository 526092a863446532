from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken

from integrations.oauth import create_api_client
from tests.conftest import ApiClient, envelope_error, issue_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def credentials():
    application, secret = create_api_client(name="erp", scopes=["products:read", "search:read"])
    return application.client_id, secret


def basic(client_id: str, secret: str) -> dict:
    token = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_token_with_basic_auth_gets_all_client_scopes(credentials):
    response = Client().post(
        "/oauth2/token/", {"grant_type": "client_credentials"}, headers=basic(*credentials)
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 1800
    assert set(body["scope"].split()) == {"products:read", "search:read"}
    assert "refresh_token" not in body


def test_token_with_body_credentials_and_narrower_scope(credentials):
    client_id, secret = credentials
    response = Client().post(
        "/oauth2/token",
        {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "scope": "search:read",
        },
    )
    assert response.status_code == 200
    assert response.json()["scope"] == "search:read"


def test_scope_the_client_does_not_hold_is_invalid_scope(credentials):
    response = Client().post(
        "/oauth2/token/",
        {"grant_type": "client_credentials", "scope": "products:write"},
        headers=basic(*credentials),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_bad_secret_is_invalid_client(credentials):
    response = Client().post(
        "/oauth2/token/",
        {"grant_type": "client_credentials"},
        headers=basic(credentials[0], "wrong"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_client_secret_is_stored_with_the_cheap_hasher(credentials):
    from oauth2_provider.models import Application

    stored = Application.objects.get(client_id=credentials[0]).client_secret
    assert stored.startswith("pbkdf2_sha256_client$1000$")


def test_missing_token_is_401_with_bearer_challenge(anonymous):
    response = anonymous.get("/v2/products")
    envelope_error(response, 401, 10001)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "error=" not in response["WWW-Authenticate"]


@pytest.mark.parametrize("header", ["Bearer", "Bearer not-a-token", "Basic abc", "Bearer a b"])
def test_malformed_or_unknown_token_is_invalid_token(db, header):
    response = Client().get("/v2/products", headers={"Authorization": header})
    envelope_error(response, 401, 10001)
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_expired_token_is_invalid_token(credentials):
    token = issue_token(*credentials)["access_token"]
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    response = ApiClient(token).get("/v2/products")
    envelope_error(response, 401, 10001)
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_token_in_query_string_is_never_accepted(credentials):
    token = issue_token(*credentials)["access_token"]
    envelope_error(Client().get(f"/v2/products?access_token={token}"), 401, 10001)


def test_revoked_token_is_401(credentials):
    token = issue_token(*credentials)["access_token"]
    assert ApiClient(token).get("/v2/products").status_code == 200
    response = Client().post("/oauth2/revoke/", {"token": token}, headers=basic(*credentials))
    assert response.status_code == 200
    envelope_error(ApiClient(token).get("/v2/products"), 401, 10001)


def test_introspection_of_own_token(credentials):
    token = issue_token(*credentials)["access_token"]
    response = Client().post("/oauth2/introspect/", {"token": token}, headers=basic(*credentials))
    assert response.status_code == 200
    body = response.json()
    assert body["active"] is True
    assert body["client_id"] == credentials[0]
    assert set(body["scope"].split()) == {"products:read", "search:read"}
    gone = Client().post("/oauth2/introspect/", {"token": "nope"}, headers=basic(*credentials))
    assert gone.json() == {"active": False}
    unauthenticated = Client().post("/oauth2/introspect/", {"token": token})
    assert unauthenticated.status_code == 401


def test_insufficient_scope_names_the_scope(client_with_scopes):
    api = client_with_scopes("search:read")
    response = api.get("/v2/products")
    error = envelope_error(response, 403, 10002)
    assert "products:read" in error["messages"][0]
    assert response["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", scope="products:read"'
    )


def test_request_with_token_costs_one_query(client_with_scopes, django_assert_num_queries):
    api = client_with_scopes("products:read")
    # token lookup + page query (no rows: no prefetches)
    with django_assert_num_queries(2):
        assert api.get("/v2/products").status_code == 200


def token_queries(token: str) -> int:
    """How many statements one request with ``token`` sends to the token table."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert ApiClient(token).get("/v2/products").status_code == 200
    return sum("oauth2_provider_accesstoken" in q["sql"] for q in queries.captured_queries)


def test_every_request_reads_the_token_row_once(credentials):
    token = issue_token(*credentials)["access_token"]
    assert [token_queries(token) for _ in range(3)] == [1, 1, 1]


def test_a_changed_token_row_takes_effect_on_the_next_request(credentials):
    token = issue_token(*credentials)["access_token"]
    assert ApiClient(token).get("/v2/products").status_code == 200
    # a bulk UPDATE sends no signal: nothing in any worker may have remembered the old row
    AccessToken.objects.update(scope="search:read")
    envelope_error(ApiClient(token).get("/v2/products"), 403, 10002)
    AccessToken.objects.all().delete()
    envelope_error(ApiClient(token).get("/v2/products"), 401, 10001)


def test_expiry_is_checked_on_every_request(credentials, monkeypatch):
    token = issue_token(*credentials)["access_token"]
    assert ApiClient(token).get("/v2/products").status_code == 200
    later = timezone.now() + timedelta(days=1)
    monkeypatch.setattr("config.api.auth.timezone.now", lambda: later)
    response = ApiClient(token).get("/v2/products")
    assert "expired" in envelope_error(response, 401, 10001)["messages"][0]
