"""Cross-cutting contract tests: envelopes, request ids, limits, docs, the route table."""

from __future__ import annotations

import json
import logging
import re
from unittest import mock

import pytest
from django.test import Client, override_settings
from django.urls import get_resolver

from config.api import errors
from config.api.routing import api_views
from tests.api.documents import validator as schema_validator
from tests.clusters.factories import ClusterConfigFactory
from tests.conftest import envelope_error

pytestmark = pytest.mark.django_db


def test_unknown_route_is_json_404_envelope(api):
    error = envelope_error(api.get("/v2/nothing/here"), 404, 10008)
    assert error["type"] == "NotFound"
    envelope_error(Client().get("/no-such-page"), 404, 10008)


def test_request_id_is_echoed_or_generated(api):
    response = api.get("/v2/products", headers={"X-Request-ID": "abc-123"})
    assert response["X-Request-ID"] == "abc-123"
    generated = api.get("/v2/products", headers={"X-Request-ID": "bad id with spaces"})
    assert re.fullmatch(r"[0-9a-f]{32}", generated["X-Request-ID"])
    assert Client().get("/healthz")["X-Request-ID"]


@override_settings(MAX_REQUEST_BYTES=100)
def test_body_over_limit_is_413_before_any_work(api):
    response = api.post("/v2/products", {"names": [{"language": "EN", "value": "x" * 200}]})
    error = envelope_error(response, 413, 10011)
    assert "100" in error["messages"][0]


def test_unexpected_exception_is_500_envelope_without_internals(api):
    with mock.patch("catalogue.selectors.product_list", side_effect=RuntimeError("secret SQL")):
        response = api.get("/v2/products")
    error = envelope_error(response, 500, 10021)
    assert "secret" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert error["type"] == "InternalError"


def test_database_error_is_500_envelope(api):
    from django.db import DatabaseError

    with mock.patch(
        "catalogue.selectors.product_list", side_effect=DatabaseError('relation "x" does not exist')
    ):
        response = api.get("/v2/products")
    envelope_error(response, 500, 10021)
    assert "relation" not in response.content.decode()


def test_health_and_readiness_are_public():
    assert Client().get("/healthz").json() == {"status": "ok"}
    ready = Client().get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"


def test_readiness_reports_unreachable_database():
    with mock.patch("config.api.health.connection") as conn:
        conn.cursor.side_effect = Exception("down")
        response = Client().get("/readyz")
    assert response.status_code == 503


def test_error_catalogue_page_lists_every_code():
    page = Client().get("/docs/errors").content.decode()
    for error in errors.catalogue():
        assert f'id="{error.code}"' in page
        assert error.type_name() in page
    assert {e.code for e in errors.catalogue()} >= {10001, 10023, 20004, 30012, 80006}


def test_docs_page_uses_local_assets():
    page = Client().get("/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()


def _resolver_routes(resolver=None, prefix="") -> set[str]:
    """Every /v2/ route the URLconf answers, as an OpenAPI path template."""
    routes = set()
    for pattern in (resolver or get_resolver()).url_patterns:
        regex = prefix + pattern.pattern.regex.pattern.lstrip("^")
        if hasattr(pattern, "url_patterns"):
            routes |= _resolver_routes(pattern, regex)
        elif regex.startswith("v2/") and "schema" not in regex:
            path = regex.removesuffix("$").removesuffix("/?")
            routes.add("/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", path))
    return routes


def test_every_route_is_documented_and_every_documented_path_exists():
    schema = json.loads(Client().get("/v2/schema/").content)
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == _resolver_routes()


def test_every_operation_documents_scopes_and_error_shapes():
    schema = json.loads(Client().get("/v2/schema/").content)
    for path, view in api_views():
        for method, op in view.operations.items():
            documented = schema["paths"][path][method.lower()]
            if op.any_scope:  # alternatives: any one of the scopes admits the token
                assert documented["security"] == [{"oauth2": [scope]} for scope in op.scopes]
            else:
                assert documented["security"] == [{"oauth2": list(op.scopes)}]
            assert {"401", "403", "500"} <= set(documented["responses"])
            assert str(op.status) in documented["responses"]
            if op.request is not None:
                assert {"400", "415"} <= set(documented["responses"])
    scopes = schema["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
    assert "products:read" in scopes["scopes"]


def test_sort_parameters_document_the_rule_against_a_repeated_field():
    """The service refuses a sort naming a field twice (400); the document says so too, so a
    client (or a fuzzer) reading it never builds one."""
    schema = json.loads(Client().get("/v2/schema/").content)
    checked = 0
    for operation in (op for item in schema["paths"].values() for op in item.values()):
        for param in operation.get("parameters", []):
            if param["name"] != "sort":
                continue
            pattern = re.compile(param["schema"]["pattern"])
            fields = param["schema"]["pattern"].split("-?(", 2)[1].split(")")[0].split("|")
            first, second = fields[0], fields[-1]
            assert all(pattern.fullmatch(f) and pattern.fullmatch(f"-{f}") for f in fields)
            assert pattern.fullmatch(f"{first},-{second}")
            for repeated in (f"{first},{first}", f"{first},-{first}", f"{first},{second},{first}"):
                assert not pattern.fullmatch(repeated), (repeated, param["schema"]["pattern"])
            checked += 1
    assert checked >= 5


@pytest.mark.parametrize("resource", ["products", "categories", "clusters"])
def test_search_bodies_document_that_relevance_needs_a_term(api, resource):
    """The service refuses a relevance sort without a term; the body schema says so (a fuzzer
    built one from the document when it did not)."""
    document = json.loads(Client().get("/v2/schema/").content)
    path = f"/v2/{resource}/search"
    body_schema = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    validator = schema_validator(document, body_schema["schema"])
    by_relevance = {"sort": [{"field": "relevance"}]}
    for body in (by_relevance, {**by_relevance, "term": "  "}):
        assert not validator.is_valid(body)
        envelope_error(api.post(path, body), 400, 10007)
    for body in ({**by_relevance, "term": "shoe"}, {"sort": [{"field": "id"}]}):
        assert validator.is_valid(body)
        assert api.post(path, body).status_code == 200


@pytest.mark.parametrize("resource", ["products", "categories", "clusters"])
def test_create_bodies_document_the_default_language_name(api, resource):
    """A new record's names must hold its default language (422 10019); the create body's
    schema says so, so a fuzzer reading it only builds bodies the service accepts."""
    document = json.loads(Client().get("/v2/schema/").content)
    post = document["paths"][f"/v2/{resource}"]["post"]
    validator = schema_validator(
        document, post["requestBody"]["content"]["application/json"]["schema"]
    )
    extra = {}
    if resource == "clusters":
        extra["clusterConfig"] = {"id": ClusterConfigFactory().pk}

    def names(*pairs):
        return [{"language": language, "value": value} for language, value in pairs]

    refused = [
        {"names": names(("NL", "Schoen"))},
        {"names": names(("EN", None), ("NL", "Schoen"))},
        {"names": [], "language": "nl"},
        {"names": names(("EN", "Shoe")), "language": "NL"},
    ]
    accepted = [
        {"names": names(("NL", "Schoen"), ("en", "Shoe"))},
        {"names": names(("nl", "Schoen")), "language": "NL"},
    ]
    for body in refused:
        assert not validator.is_valid({**body, **extra}), body
        assert api.post(f"/v2/{resource}", {**body, **extra}).status_code in (400, 422), body
    for index, body in enumerate(accepted):
        body = {**body, **extra, **({"sku": f"S{index}"} if resource == "products" else {})}
        assert validator.is_valid(body), body
        response = api.post(f"/v2/{resource}", body)
        assert response.status_code == 201, response.content


def test_every_date_filter_is_documented_as_a_date_time():
    """Query parameters and search-body fields alike (the stateful fuzzer sent a search body a
    string that was never a date, which the schema allowed)."""
    schema = json.loads(Client().get("/v2/schema/").content)
    found = []

    def walk(node, name=""):
        if isinstance(node, dict):
            if name.endswith(("AtFrom", "AtTo")):
                found.append((name, node.get("format") or node.get("schema", {}).get("format")))
            for key, value in node.items():
                walk(value, node["name"] if key == "schema" and "name" in node else key)
        elif isinstance(node, list):
            for item in node:
                walk(item, name)

    walk(schema["paths"])
    assert len(found) > 20
    assert {fmt for _, fmt in found} == {"date-time"}, [f for f in found if f[1] != "date-time"]


def test_access_log_is_one_json_line_with_context(api, caplog):
    from config.api.logging import JsonFormatter

    with caplog.at_level(logging.INFO, logger="catalogue.access"):
        api.get("/v2/products", headers={"X-Request-ID": "log-1"})
    record = next(r for r in caplog.records if r.name == "catalogue.access")
    line = json.loads(JsonFormatter().format(record))
    assert line["requestId"] == "log-1"
    assert line["clientId"] == api.client_id
    assert line["method"] == "GET" and line["path"] == "/v2/products" and line["status"] == 200
    assert isinstance(line["durationMs"], float)
