"""From outside: an independent OAuth2 client library (authlib) drives the token, introspection
and revocation endpoints of a running gunicorn server and parses their answers and errors
(SPEC §3, §18).

One scenario per server start: the server runs on a database shared with the test (see
tests/integrations/conftest.py), which costs a migration on SQLite.
"""

from __future__ import annotations

import pytest
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from tests.integrations.conftest import wait_for_a_fresh_minute


@pytest.fixture
def server_settings() -> dict[str, str]:
    # low, so that the scenario reaches the throttle quickly on one of the 3 workers (without
    # REDIS_URL each worker counts for itself; shared counting is tested with Redis elsewhere)
    return {"TOKEN_FAILURES_PER_MINUTE": "2"}


def oauth_error(call) -> OAuthError:
    with pytest.raises(OAuthError) as raised:
        call()
    return raised.value


@pytest.mark.django_db(transaction=True)  # committed rows, visible to gunicorn
def test_an_oauth2_client_library_gets_what_it_expects(gunicorn):
    port, _, client_id, secret = gunicorn
    url = f"http://127.0.0.1:{port}"
    token_url, revoke_url, introspect_url = (
        f"{url}/oauth2/{name}/" for name in ("token", "revoke", "introspect")
    )

    def session(secret: str, **kwargs) -> OAuth2Session:
        return OAuth2Session(
            client_id, secret, token_endpoint_auth_method="client_secret_basic", **kwargs
        )

    with session(secret, scope="products:read") as client:
        token = client.fetch_token(token_url, grant_type="client_credentials")
        assert token["token_type"] == "Bearer" and token["scope"] == "products:read"
        assert token["expires_in"] == 1800 and "refresh_token" not in token
        assert client.get(f"{url}/v2/products").status_code == 200

        introspected = client.introspect_token(introspect_url, token=token["access_token"])
        assert introspected.status_code == 200
        assert introspected.json()["active"] is True
        assert introspected.json()["client_id"] == client_id

        assert client.revoke_token(revoke_url, token=token["access_token"]).status_code == 200
        after = client.introspect_token(introspect_url, token=token["access_token"])
        assert after.json() == {"active": False}
        refused = client.get(f"{url}/v2/products")
        assert refused.status_code == 401
        assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]

        # errors the library parses: a scope the client does not hold, another grant
        wider = session(secret, scope="products:write")
        assert oauth_error(lambda: wider.fetch_token(token_url)).error == "invalid_scope"
        password = oauth_error(
            lambda: client.fetch_token(
                token_url, grant_type="password", username="admin", password="whatever"
            )
        )
        assert password.error == "unsupported_grant_type"

    wait_for_a_fresh_minute()
    with session("wrong") as wrong:
        assert oauth_error(lambda: wrong.fetch_token(token_url)).error == "invalid_client"
        revoked = wrong.revoke_token(revoke_url, token="x")
        assert revoked.status_code == 401
        assert revoked.headers["WWW-Authenticate"] == 'Basic realm="oauth2"'
        # past the limit the library is told to come back later, not that the client is invalid
        errors = [oauth_error(lambda: wrong.fetch_token(token_url)).error for _ in range(8)]
        assert "temporarily_unavailable" in errors
        assert set(errors) <= {"invalid_client", "temporarily_unavailable"}

    with session(secret) as client:  # and the real client is never locked out
        assert client.fetch_token(token_url)["access_token"]
