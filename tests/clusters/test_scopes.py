"""Every cluster, cluster config and cluster option route, generated from the route table: 401
without a token, 403 naming the scope when the token lacks it, and through with exactly it."""

from __future__ import annotations

import re

import pytest

from config.api.routing import api_views
from config.api.scopes import ALL_SCOPES
from tests.conftest import envelope_error

PREFIXES = ("/v2/clusters", "/v2/clusterconfigs", "/v2/clusteroptions")


def operations():
    for path, view in api_views():
        if not path.startswith(PREFIXES):
            continue
        for method, op in view.operations.items():
            url = re.sub(r"{(\w+)}", lambda m: "id" if m.group(1) == "lookup_key" else "1", path)
            yield pytest.param(method, url, op.scopes, id=f"{method} {path}")


def call(client, method, url):
    if method in ("GET", "DELETE"):
        return getattr(client, method.lower())(url)
    return getattr(client, method.lower())(url, {})


def test_every_route_of_the_family_is_declared():
    declared = {(p.values[0], p.values[1]) for p in operations()}
    # configs 10, clusters 9 (with the two attribute routes), cluster products 7, nested
    # options 5, options 7, bulk 4, search 1, history of clusters, configs and options 3
    assert len(declared) == 46


def expected_scopes(method: str, url: str) -> tuple[str, ...]:
    """Bulk routes need ``bulk:write`` as well as the family's write scope (SPEC §14); assign
    takes products out of their homes, so it needs ``products:write`` too (SPEC §11)."""
    scope = expected_scope(method, url)
    if url.endswith("/products/assign") and url.startswith("/v2/clusters/"):
        return (scope, "products:write")
    return ("bulk:write", scope) if "/bulk" in url else (scope,)


def expected_scope(method: str, url: str) -> str:
    if url == "/v2/clusters/search":
        return "search:read"  # every search surface (SPEC §13)
    if "/options" in url or url.startswith("/v2/clusteroptions"):
        family = "cluster-options"
    elif url.startswith("/v2/clusterconfigs"):
        family = "cluster-configs"
    else:
        family = "clusters"  # clusters and the products inside them
    return f"{family}:{'read' if method == 'GET' else 'write'}"


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url", "scopes"), list(operations()))
def test_scopes_are_enforced(anonymous, client_with_scopes, method, url, scopes):
    assert scopes == expected_scopes(method, url)

    envelope_error(call(anonymous, method, url), 401, 10001)
    partial = client_with_scopes(*[s for s in ALL_SCOPES if s not in scopes])
    response = call(partial, method, url)
    error = envelope_error(response, 403, 10002)
    assert any(scope in error["messages"][0] for scope in scopes)
    allowed = client_with_scopes(*scopes)
    response = call(allowed, method, url)
    assert response.status_code not in (401, 403) and response.status_code < 500, response.content


def test_openapi_documents_every_route_with_its_scopes(anonymous):
    schema = anonymous.get("/v2/schema/").json()
    for path, view in api_views():
        if path.startswith(PREFIXES):
            for method, op in view.operations.items():
                documented = schema["paths"][path][method.lower()]
                assert documented["security"] == [{"oauth2": list(op.scopes)}]
                assert str(op.status) in documented["responses"]


def test_openapi_path_parameters_are_precise(anonymous):
    """Lookup keys are the resource's enum; numeric ids are integers (the URLs take digits)."""
    schema = anonymous.get("/v2/schema/").json()
    keys = {
        "/v2/clusters/": ["id", "sourceId", "code", "sku"],
        "/v2/clusterconfigs/": ["id", "name"],
        "/v2/clusteroptions/": ["id", "sourceId"],
    }
    checked = 0
    for path, view in api_views():
        if not path.startswith(PREFIXES) or "{" not in path:
            continue
        for method in view.operations:
            params = {
                p["name"]: p["schema"]
                for p in schema["paths"][path][method.lower()]["parameters"]
                if p["in"] == "path"
            }
            prefix = next(k for k in keys if path.startswith(k))
            key_param = "lookupKey" if "lookupKey" in params else "lookup_key"  # bulk/{lookupKey}
            assert params[key_param] == {"type": "string", "enum": keys[prefix]}, path
            for name in ("product_id", "setting_id", "option_id"):
                if name in params:
                    assert params[name]["type"] == "integer" and params[name]["minimum"] == 1
                    checked += 1
    assert checked == 3 + 3 + 3  # GET/PATCH/DELETE of each nested detail
