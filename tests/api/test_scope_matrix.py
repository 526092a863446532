"""The full authorization matrix, generated from the route table: every operation × {no token,
malformed token, expired token, revoked token, token lacking a needed scope, token with it}."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken

from config.api.routing import api_views
from config.api.scopes import ALL_SCOPES
from tests.api.test_auth import basic
from tests.conftest import ApiClient, envelope_error

PARAM_VALUES = {"lookup_key": "id", "lookup_value": "1", "language": "nl", "lookupKey": "id"}
MALFORMED = ("Bearer", "Bearer not-a-real-token", "Bearer two parts", "Basic Zm9vOmJhcg==", "xyz")


def operations():
    for path, view in api_views():
        for method, op in view.operations.items():
            if op.scopes:
                url = re.sub(r"{(\w+)}", lambda m: PARAM_VALUES.get(m.group(1), "1"), path)
                yield pytest.param(method, url, op.scopes, op.any_scope, id=f"{method} {path}")


def call(client, method, url, headers=None):
    if method == "GET":
        return client.get(url, headers=headers)
    if method == "DELETE":
        return client.delete(url, headers=headers)
    return getattr(client, method.lower())(url, {}, headers=headers)


def invalid_token(response) -> None:
    envelope_error(response, 401, 10001)
    assert 'error="invalid_token"' in response["WWW-Authenticate"], response["WWW-Authenticate"]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url", "scopes", "any_scope"), list(operations()))
def test_authorization_matrix(anonymous, client_with_scopes, method, url, scopes, any_scope):
    # no token: 401 with a bare challenge (RFC 6750 §3.1: no error code without credentials)
    response = call(anonymous, method, url)
    envelope_error(response, 401, 10001)
    assert response["WWW-Authenticate"].startswith("Bearer")

    # malformed credentials: 401 invalid_token
    for header in MALFORMED:
        invalid_token(call(anonymous, method, url, headers={"Authorization": header}))

    # expired token (scopes would otherwise suffice)
    expired = client_with_scopes(*ALL_SCOPES)
    checksum = hashlib.sha256(expired.token.encode()).hexdigest()  # tokens are stored hashed
    updated = AccessToken.objects.filter(token_checksum=checksum).update(
        expires=timezone.now() - timedelta(seconds=1)
    )
    assert updated == 1
    invalid_token(call(expired, method, url))

    # revoked token, revoked through the real RFC 7009 endpoint
    revoked = client_with_scopes(*ALL_SCOPES)
    answer = Client().post(
        "/oauth2/revoke/",
        {"token": revoked.token},
        headers=basic(revoked.client_id, revoked.secret),
    )
    assert answer.status_code == 200
    invalid_token(call(ApiClient(revoked.token), method, url))

    # a valid token lacking each needed scope: 403 insufficient_scope naming it
    # (scopes that are alternatives, the change feed's, are missing only all together)
    for missing in [scopes] if any_scope else [(scope,) for scope in scopes]:
        partial = client_with_scopes(*[s for s in ALL_SCOPES if s not in missing])
        response = call(partial, method, url)
        error = envelope_error(response, 403, 10002)
        assert all(scope in error["messages"][0] for scope in missing)
        challenge = response["WWW-Authenticate"]
        assert 'error="insufficient_scope"' in challenge
        assert f'scope="{" ".join(scopes)}"' in challenge

    # exactly the needed scopes: success or a business error, never 401/403/5xx
    allowed = client_with_scopes(*scopes)
    response = call(allowed, method, url)
    assert response.status_code not in (401, 403) and response.status_code < 500, response.content


def test_route_table_is_not_empty():
    assert len(list(operations())) >= 6
