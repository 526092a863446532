"""Guards every input passes before a view runs, found by fuzzing:

- query parameters with a fixed set of values (``language``, the true/false flags, ``expands``
  with one choice) are checked on every route that declares one: a bad value is 400 10007
  naming it, and a write under it writes nothing (the value used to be read only when the
  answer was rendered, after the write);
- U+0000 anywhere (body string or key, query or path parameter) is 400 10007 naming where: on
  PostgreSQL it used to reach the database and answer 500; the document says so in patterns."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from catalogue.models import Product
from clusters.models import Cluster
from config.api.routing import api_views
from records.validation import NUL_MESSAGE
from tests.api.documents import inlined, objects, operations
from tests.api.test_mass_assignment import url_for, world  # noqa: F401  (fixture)
from tests.catalogue.factories import ProductFactory
from tests.clusters.factories import ClusterConfigFactory
from tests.conftest import envelope_error

pytestmark = pytest.mark.django_db


def choice_params():
    for path, view in api_views():
        for method, op in view.operations.items():
            for param in op.query:
                if "enum" in param.schema:
                    yield pytest.param(method, path, param.name, id=f"{method} {path} {param.name}")


@pytest.mark.parametrize(("method", "path", "name"), list(choice_params()))
def test_a_value_outside_the_choices_is_refused_first(api, world, method, path, name):  # noqa: F811
    url = url_for(path, world)
    url += f"{'&' if '?' in url else '?'}{name}=bogus"
    response = getattr(api, method.lower())(url, {} if method != "GET" else None)
    error = envelope_error(response, 400, 10007)
    assert name in error["fields"], error


def test_no_write_happens_under_a_bad_language(api):
    config = ClusterConfigFactory()
    body = {"names": [{"language": "EN", "value": "Shirt"}], "clusterConfig": {"id": config.pk}}
    error = envelope_error(api.post("/v2/clusters?language=xx", body), 400, 10007)
    assert error["fields"]["language"][0].startswith("Must be one of: en, nl")
    assert not Cluster.objects.exists()
    assert api.post("/v2/clusters?language=nl", body).status_code == 201


@pytest.mark.parametrize(
    "url", ["/v2/products?includeDescendants=yes", "/v2/clusters?includeDescendants=1"]
)
def test_a_flag_is_checked_without_the_filter_it_goes_with(api, url):
    error = envelope_error(api.get(url), 400, 10007)
    assert list(error["fields"]) == ["includeDescendants"]


@pytest.mark.parametrize(
    "url", ["/v2/products", "/v2/categories", "/v2/clusters", "/v2/clusterconfigs"]
)
def test_list_text_filter_is_bounded_like_the_search_term(api, url):
    error = envelope_error(api.get(url, {"q": "x" * 201}), 400, 10007)
    assert "q" in error["fields"]
    assert api.get(url, {"q": "x" * 200}).status_code == 200


@pytest.mark.parametrize(
    ("method", "url", "payload", "where"),
    [
        (
            "post",
            "/v2/products",
            {"names": [{"language": "EN", "value": "Sh\x00oe"}]},
            "names[0].value",
        ),
        (
            "post",
            "/v2/products/bulk/sku",
            {"products": [{"sku": "A", "attributes": [{"name": "x", "value": {"k\x00": 1}}]}]},
            "products[0].attributes[0].value.k\x00",
        ),
        ("post", "/v2/products/search", {"term": "\x00"}, "term"),
        ("post", "/v2/categories", '"\\u0000"', "body"),  # a JSON string, sent as it is
        ("get", "/v2/products?sku=A%00", None, "sku"),
        ("get", "/v2/products/sku/A%00", None, "lookup_value"),
        ("get", "/v2/products/sku%00/A", None, "lookup_key"),
    ],
)
def test_the_nul_character_is_refused_where_it_is(api, method, url, payload, where):
    response = getattr(api, method)(url, payload) if payload is not None else api.get(url)
    error = envelope_error(response, 400, 10007)
    assert error["fields"] == {where: [NUL_MESSAGE]}
    assert not Product.objects.exists()


def test_the_document_refuses_the_nul_character_in_every_string_input():
    """Every string a client sends (query, path, body) is an enum or has a pattern refusing
    U+0000, so a client (or a fuzzer) reading the document never sends one."""
    document = inlined(json.loads(Client().get("/v2/schema/").content))
    inputs = [[op.get("parameters", []), op.get("requestBody", {})] for op in operations(document)]
    strings = [
        node
        for node in objects(inputs)
        if node.get("type") == "string" and not node.get("readOnly")
    ]
    assert len(strings) > 200
    for schema in strings:
        if "enum" in schema:
            continue
        assert "pattern" in schema, schema
        assert not re.search(schema["pattern"], "a\x00b"), schema


@pytest.mark.parametrize(
    "url",
    [
        "/v2/products?cluster=0",
        "/v2/products?category=1.5",
        f"/v2/products?category={10**18}",
        "/v2/clusters?clusterConfig=0",
        "/v2/categories?root=-1",
        f"/v2/categories?level={2**31}",
    ],
)
def test_one_id_filters_take_ids_only(api, url):
    """Documented as 1…MAX_ROW_ID (levels: 0…2³¹-1); 0, fractions and numbers past a bigint
    (a 500 on PostgreSQL) are refused."""
    name = url.split("?")[1].split("=")[0]
    assert list(envelope_error(api.get(url), 400, 10007)["fields"]) == [name]


@pytest.mark.parametrize(
    ("method", "url", "payload"),
    [
        ("get", "/v2/clusterconfigs?createdAtFrom=2020-01-01T00:00:00%2B18:22", None),
        ("get", "/v2/products?lastModifiedAtTo=2089-11-01T22:25:25-23:38", None),
        ("post", "/v2/categories/search", {"createdAtTo": "0346-04-16T15:02:19.64+22:09"}),
    ],
)
def test_any_rfc3339_offset_is_taken(api, method, url, payload):
    """RFC 3339 offsets go to ±23:59; PostgreSQL refuses past ±15:59 (it answered 500): the
    service converts to UTC first."""
    response = getattr(api, method)(url, payload) if payload else api.get(url)
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    ("params", "found"),
    [
        ("createdAtFrom=0001-01-01T00:00:00%2B01:00", True),  # year 0 in UTC: before all
        ("createdAtTo=0001-01-01T00:00:00%2B01:00", False),
        ("createdAtFrom=9999-12-31T23:00:00-05:00", False),  # year 10000 in UTC: after all
        ("createdAtTo=9999-12-31T23:00:00-05:00", True),
    ],
)
def test_a_bound_past_the_years_python_has_still_selects_rows(api, params, found):
    product = ProductFactory()
    response = api.get(f"/v2/products?{params}")
    assert response.status_code == 200, response.content
    assert [row["id"] for row in response.json()["data"]] == ([product.pk] if found else [])


@pytest.mark.parametrize(
    ("path", "name", "value"),
    [
        ("/v2/clusters/search", "clusterConfig", 0),
        ("/v2/clusters/search", "category", 10**18),
        ("/v2/categories/search", "root", 0),
        ("/v2/categories/search", "level", 2**31),
        ("/v2/products/search", "cluster", 10**18),
    ],
)
def test_search_bodies_bound_one_id_filters_like_the_query(api, path, name, value):
    """A search body's number filters take the bounds of the list filter they become."""
    document = inlined(json.loads(Client().get("/v2/schema/").content))
    body = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    schema = body["schema"]["properties"][name]
    assert not schema["minimum"] <= value <= schema["maximum"]
    assert list(envelope_error(api.post(path, {name: value}), 400, 10007)["fields"]) == [name]
