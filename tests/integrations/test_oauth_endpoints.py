"""The token, revocation and introspection endpoints (SPEC §3, §18): client credentials only, the
Basic challenge, no password checks, the bad-secret throttle and the token budget."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from oauth2_provider.models import AccessToken

from integrations.oauth import create_api_client
from tests.api.test_auth import basic
from tests.conftest import ApiClient, issue_token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_counters")]

TOKEN, REVOKE, INTROSPECT = "/oauth2/token/", "/oauth2/revoke/", "/oauth2/introspect/"
CLIENT_CREDENTIALS = {"grant_type": "client_credentials"}


@pytest.fixture
def erp():
    application, secret = create_api_client(name="erp", scopes=["products:read", "search:read"])
    return application.client_id, secret


@pytest.fixture
def admin_user():
    return User.objects.create_superuser("admin", password="the-real-password")


def post(path: str, data: dict, headers: dict | None = None, address: str = "127.0.0.1"):
    return Client(REMOTE_ADDR=address).post(path, data, headers=headers or {})


def assert_oauth_error(response, status: int, error: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == error, body
    assert set(body) <= {"error", "error_description", "error_uri"}  # RFC 6749 §5.2
    assert response["Cache-Control"] == "no-store"
    return body


# --- client credentials only -------------------------------------------------------------------

OTHER_GRANTS = [
    ("password", {"username": "admin", "password": "the-real-password"}),
    ("authorization_code", {"code": "abc", "redirect_uri": "https://example.com/cb"}),
    ("refresh_token", {"refresh_token": "abc"}),
    ("urn:ietf:params:oauth:grant-type:device_code", {"device_code": "abc"}),
    ("implicit", {}),
    ("urn:ietf:params:oauth:grant-type:jwt-bearer", {"assertion": "abc"}),
    ("anything", {}),
]


@pytest.mark.parametrize(("grant_type", "extra"), OTHER_GRANTS, ids=[g for g, _ in OTHER_GRANTS])
def test_every_other_grant_is_unsupported_before_any_lookup(erp, admin_user, grant_type, extra):
    with CaptureQueriesContext(connection) as queries:
        response = post(TOKEN, {"grant_type": grant_type, **extra}, basic(*erp))
    assert_oauth_error(response, 400, "unsupported_grant_type")
    assert queries.captured_queries == []  # no user, code, device or even client lookup


def test_password_grant_answers_alike_for_the_right_and_a_wrong_password(erp, admin_user):
    """It used to say unauthorized_client for the real password: a password oracle."""
    right = post(
        TOKEN, {"grant_type": "password", "username": "admin", "password": "the-real-password"}
    )
    wrong = post(TOKEN, {"grant_type": "password", "username": "admin", "password": "guess"})
    assert right.status_code == wrong.status_code == 400
    assert right.content == wrong.content


def test_missing_grant_type_is_invalid_request(erp):
    assert_oauth_error(post(TOKEN, {}, basic(*erp)), 400, "invalid_request")
    assert_oauth_error(post(TOKEN, {"grant_type": ""}, basic(*erp)), 400, "invalid_request")


def test_a_token_answer_is_not_cached_and_has_no_refresh_token(erp):
    response = post(TOKEN, CLIENT_CREDENTIALS, basic(*erp))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "refresh_token" not in response.json()


@pytest.mark.parametrize("path", [TOKEN, REVOKE, INTROSPECT])
def test_failed_client_authentication_is_401_with_a_basic_challenge(erp, path):
    client_id, _ = erp
    data = {**CLIENT_CREDENTIALS, "token": "whatever"}
    for headers, extra in [
        (basic(client_id, "wrong"), {}),  # a wrong secret
        (basic("no-such-client", "x"), {}),  # an unknown client
        ({}, {"client_id": client_id, "client_secret": "wrong"}),  # body credentials
    ]:
        response = post(path, {**data, **extra}, headers)
        assert_oauth_error(response, 401, "invalid_client")
        assert response["WWW-Authenticate"] == 'Basic realm="oauth2"'


def test_no_oauth_endpoint_checks_a_django_user_password(erp, admin_user, monkeypatch):
    """Only the admin login may check a user's password (SPEC §3)."""
    checked = []
    original = User.check_password
    monkeypatch.setattr(
        User, "check_password", lambda user, raw: checked.append(raw) or original(user, raw)
    )
    as_user = basic("admin", "the-real-password")
    attempts = [
        (TOKEN, {"grant_type": "password", "username": "admin", "password": "the-real-password"}),
        (TOKEN, CLIENT_CREDENTIALS),
        (REVOKE, {"token": "x"}),
        (INTROSPECT, {"token": "x"}),
    ]
    with CaptureQueriesContext(connection) as queries:
        statuses = [post(path, data, as_user).status_code for path, data in attempts]
    assert statuses == [400, 401, 401, 401]
    assert checked == []
    assert [q["sql"] for q in queries.captured_queries if "auth_user" in q["sql"]] == []


@pytest.mark.parametrize(
    "path",
    [
        "/oauth2/authorize/",
        "/oauth2/device-authorization/",
        "/oauth2/applications/",
        "/oauth2/authorized-tokens/",
        "/oauth2/userinfo/",
        "/oauth2/.well-known/openid-configuration",
        "/o/token/",
        "/o/authorize/",
    ],
)
def test_dot_routes_other_than_ours_are_not_mounted(erp, path):
    assert Client().get(path).status_code == 404
    assert Client().post(path, CLIENT_CREDENTIALS, headers=basic(*erp)).status_code == 404


# --- the bad-secret throttle (SPEC §18) --------------------------------------------------------


def test_wrong_secrets_past_the_limit_get_429_but_the_right_one_still_works(erp):
    """The default limit, 20 per client id and address per minute, through the real endpoint."""
    client_id, secret = erp
    wrong = basic(client_id, "wrong")
    statuses = [post(TOKEN, CLIENT_CREDENTIALS, wrong).status_code for _ in range(20)]
    assert statuses == [401] * 20
    refused = post(TOKEN, CLIENT_CREDENTIALS, wrong)
    body = assert_oauth_error(refused, 429, "temporarily_unavailable")
    assert body["error"] != "invalid_client"
    assert 1 <= int(refused["Retry-After"]) <= 60
    # client ids are not secret: failures must not lock the real integration out
    assert post(TOKEN, CLIENT_CREDENTIALS, basic(client_id, secret)).status_code == 200
    assert post(INTROSPECT, {"token": "x"}, basic(client_id, secret)).json() == {"active": False}
    assert post(REVOKE, {"token": "x"}, basic(client_id, secret)).status_code == 200


@override_settings(TOKEN_FAILURES_PER_MINUTE=3)
def test_token_revoke_and_introspect_count_together(erp):
    wrong = basic(erp[0], "wrong")
    assert post(TOKEN, CLIENT_CREDENTIALS, wrong).status_code == 401
    assert post(REVOKE, {"token": "x"}, wrong).status_code == 401
    assert post(INTROSPECT, {"token": "x"}, wrong).status_code == 401
    for path in (TOKEN, REVOKE, INTROSPECT):
        response = post(path, {**CLIENT_CREDENTIALS, "token": "x"}, wrong)
        assert_oauth_error(response, 429, "temporarily_unavailable")
        assert response["Retry-After"]
    body_credentials = {**CLIENT_CREDENTIALS, "client_id": erp[0], "client_secret": "wrong"}
    assert post(TOKEN, body_credentials).status_code == 429  # the same client id in the body


@override_settings(TOKEN_FAILURES_PER_MINUTE=2)
def test_the_count_is_per_client_id_and_caller_address(erp):
    other_id, _ = create_api_client(name="other", scopes=["products:read"])
    for _ in range(2):
        post(TOKEN, CLIENT_CREDENTIALS, basic(erp[0], "wrong"), address="10.0.0.1")
    assert post(TOKEN, CLIENT_CREDENTIALS, basic(erp[0], "x"), "10.0.0.1").status_code == 429
    assert post(TOKEN, CLIENT_CREDENTIALS, basic(erp[0], "x"), "10.0.0.2").status_code == 401
    other = basic(other_id.client_id, "x")
    assert post(TOKEN, CLIENT_CREDENTIALS, other, "10.0.0.1").status_code == 401


@override_settings(TOKEN_FAILURES_PER_MINUTE=2)
def test_forwarded_for_is_ignored_unless_proxies_are_trusted(erp, settings):
    wrong = basic(erp[0], "wrong")

    def attempt(forwarded: str) -> int:
        return post(TOKEN, CLIENT_CREDENTIALS, {**wrong, "X-Forwarded-For": forwarded}).status_code

    # no trusted proxy: a caller cannot pick a fresh address per attempt
    assert [attempt(f"192.0.2.{n}") for n in range(3)] == [401, 401, 429]
    cache.clear()
    settings.TRUSTED_PROXY_HOPS = 1
    # one trusted proxy: the address it appended counts, whatever the caller put before it
    assert [attempt(f"192.0.2.{n}, 198.51.100.7") for n in range(3)] == [401, 401, 429]
    assert attempt("198.51.100.8") == 401


# --- the token budget ---------------------------------------------------------------------------


@override_settings(TOKEN_REQUESTS_PER_MINUTE=2)
def test_successful_token_calls_are_bounded_per_client(erp):
    issued = [post(TOKEN, CLIENT_CREDENTIALS, basic(*erp)) for _ in range(2)]
    assert [r.status_code for r in issued] == [200, 200]
    refused = post(TOKEN, CLIENT_CREDENTIALS, basic(*erp))
    assert_oauth_error(refused, 429, "temporarily_unavailable")
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert AccessToken.objects.filter(application__client_id=erp[0]).count() == 2
    # the tokens it has keep working, and other clients have their own budget
    assert ApiClient(issued[0].json()["access_token"]).get("/v2/products").status_code == 200
    other, secret = create_api_client(name="other", scopes=["products:read"])
    assert post(TOKEN, CLIENT_CREDENTIALS, basic(other.client_id, secret)).status_code == 200


def test_the_token_budget_defaults_to_60_per_minute(erp):
    statuses = [post(TOKEN, CLIENT_CREDENTIALS, basic(*erp)).status_code for _ in range(61)]
    assert statuses == [200] * 60 + [429]


def test_a_revoked_token_is_refused_and_introspects_inactive(erp):
    token = issue_token(*erp)["access_token"]
    assert ApiClient(token).get("/v2/products").status_code == 200
    assert post(REVOKE, {"token": token}, basic(*erp)).status_code == 200
    assert ApiClient(token).get("/v2/products").status_code == 401
    assert post(INTROSPECT, {"token": token}, basic(*erp)).json() == {"active": False}


def test_a_client_cannot_revoke_another_clients_token(erp):
    token = issue_token(*erp)["access_token"]
    other, secret = create_api_client(name="other", scopes=["products:read"])
    assert post(REVOKE, {"token": token}, basic(other.client_id, secret)).status_code == 200
    assert ApiClient(token).get("/v2/products").status_code == 200
