"""Request limits, generated from the route table where a limit applies to a family of routes:
body size (also chunked, without Content-Length), pageSize, bulk item count, search term length."""

from __future__ import annotations

import io

import orjson
import pytest
from django.test import Client, override_settings

from catalogue.models import Product
from config.api.bulk_views import BulkBody
from config.api.pagination import MAX_PAGE_SIZE
from config.api.routing import api_views
from taxonomy.models import Category
from tests.api.test_mass_assignment import url_for, world  # noqa: F401  (fixture)
from tests.conftest import envelope_error

pytestmark = pytest.mark.django_db
BODY = {"names": [{"language": "EN", "value": "Shoe"}], "source": "ERP", "sourceId": "S-1"}


def chunked(api, path: str, payload: bytes):
    """A POST as gunicorn hands over a ``Transfer-Encoding: chunked`` body: no Content-Length,
    an input that ends by itself."""
    return Client().post(
        path,
        b"",
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.token}"},
        CONTENT_LENGTH="",
        CONTENT_TYPE="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(payload), "wsgi.input_terminated": True},
    )


@override_settings(MAX_REQUEST_BYTES=100)
def test_chunked_body_over_limit_is_413(api):
    payload = orjson.dumps({"names": [{"language": "EN", "value": "x" * 500}]})
    error = envelope_error(chunked(api, "/v2/products", payload), 413, 10011)
    assert "100" in error["messages"][0]
    assert not Product.objects.exists()


def test_chunked_body_within_limit_is_read(api):
    response = chunked(api, "/v2/products", orjson.dumps(BODY))
    assert response.status_code == 201, response.content
    assert Product.objects.count() == 1


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
def test_djangos_own_upload_limit_surfaces_as_413_not_500(api):
    response = api.post("/v2/products", {"names": [{"language": "EN", "value": "x" * 200}]})
    assert response.status_code in (201, 413), response.content
    if response.status_code == 413:
        envelope_error(response, 413, 10011)


def list_routes():
    for path, view in api_views():
        for method, op in view.operations.items():
            fields = getattr(op.request, "fields", {}) or {}
            if "pageSize" in {q.name for q in op.query} | set(fields):
                # a route that declares its own bound (the change feed: 1000) is held to it
                declared = [q.schema.get("maximum") for q in op.query if q.name == "pageSize"]
                maximum = declared[0] if declared and declared[0] else MAX_PAGE_SIZE
                yield pytest.param(method, path, maximum, id=f"{method} {path}")


@pytest.mark.parametrize(("method", "path", "maximum"), list(list_routes()))
def test_page_size_over_the_maximum_is_400(api, world, method, path, maximum):  # noqa: F811
    url = url_for(path, world)
    base = {"q": "shoe"} if path == "/v2/search" else {}

    def send(size):
        params = {**base, "pageSize": size}
        return api.get(url, params) if method == "GET" else api.post(url, params)

    for size in (maximum + 1, 10_000, 0, -1):
        response = send(size)
        # 10015 (PaginatedResponseException) on list routes, 10007 naming it on /v2/search
        error = envelope_error(response, 400, response.json()["error"]["code"])
        assert error["code"] in (10007, 10015), error
        assert "pageSize" in str(error.get("fields", {})) + error["messages"][0], error
    ok = send(maximum)
    assert ok.status_code == 200, ok.content


def bulk_routes():
    for path, view in api_views():
        for method, op in view.operations.items():
            if isinstance(op.request, BulkBody):
                yield pytest.param(method, path, op.request.resource, id=f"{method} {path}")


@pytest.mark.parametrize(("method", "path", "resource"), list(bulk_routes()))
def test_bulk_over_max_items_is_413_and_writes_nothing(api, method, path, resource):
    url = path.replace("{lookupKey}", "sourceId")
    if "{lookup_key}" in url:  # a sub-resource bulk: the owner in the URL must exist
        from tests.clusters.factories import ClusterFactory, ClusterOptionFactory

        owner = ClusterOptionFactory() if url.startswith("/v2/clusteroptions") else ClusterFactory()
        url = url.replace("{lookup_key}", "id").replace("{lookup_value}", str(owner.pk))
    items = [
        {"source": "ERP", "sourceId": f"B-{n}", "names": [{"language": "EN", "value": f"N {n}"}]}
        for n in range(resource.max_items + 1)
    ]
    before = (Product.objects.count(), Category.objects.count())
    envelope_error(api.post(url, {resource.items_key: items}), 413, 10013)
    assert (Product.objects.count(), Category.objects.count()) == before
    # the maximum itself is accepted
    response = api.post(url, {resource.items_key: items[: resource.max_items]})
    assert response.status_code == 200, response.content[:500]


def test_search_term_over_200_characters_is_400(api):
    for path in ("/v2/products/search", "/v2/categories/search"):
        error = envelope_error(api.post(path, {"term": "x" * 201}), 400, 10007)
        assert "term" in error["fields"], error
        assert api.post(path, {"term": "x" * 200}).status_code == 200
    error = envelope_error(api.get("/v2/search", {"q": "x" * 201}), 400, 10007)
    assert "q" in error["fields"], error
