"""One test per route and method, generated from the route table: 401 without a token, 403 with a
token lacking a needed scope (naming it), and neither with every scope."""

from __future__ import annotations

import re

import pytest

from config.api.routing import api_views
from config.api.scopes import ALL_SCOPES
from tests.conftest import envelope_error

PARAM_VALUES = {"lookup_key": "id", "lookup_value": "1", "language": "nl", "lookupKey": "id"}


def operations():
    for path, view in api_views():
        for method, op in view.operations.items():
            if op.scopes:
                url = re.sub(r"{(\w+)}", lambda m: PARAM_VALUES.get(m.group(1), "1"), path)
                yield pytest.param(method, url, op.scopes, id=f"{method} {path}")


def call(client, method, url):
    if method == "GET":
        return client.get(url)
    if method == "DELETE":
        return client.delete(url)
    return getattr(client, method.lower())(url, {})


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url", "scopes"), list(operations()))
def test_scopes_are_enforced(anonymous, client_with_scopes, method, url, scopes):
    response = call(anonymous, method, url)
    envelope_error(response, 401, 10001)
    for missing in scopes:
        partial = client_with_scopes(*[s for s in ALL_SCOPES if s != missing])
        response = call(partial, method, url)
        error = envelope_error(response, 403, 10002)
        assert missing in error["messages"][0]
        assert f'scope="{" ".join(scopes)}"' in response["WWW-Authenticate"]
    allowed = client_with_scopes(*scopes)
    response = call(allowed, method, url)
    assert response.status_code not in (401, 403) and response.status_code < 500, response.content


def test_route_table_is_not_empty():
    assert len(list(operations())) >= 6
