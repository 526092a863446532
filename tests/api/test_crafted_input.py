"""Crafted input a fuzzer finds: each answers its proper 4xx in the envelope, never a 500.

- ids past the bigint range in body lookups (``{"id": n}``), bulk ``id`` keys and path ids;
- a forged cursor (a time offset past ±15:59, values no column can hold);
- JSON nested deeper than the parser allows, with or without a NUL at the bottom;
- more query parameters than Django parses (``TooManyFieldsSent``), a bad ``Host``."""

from __future__ import annotations

import base64

import pytest

from clusters.models import ClusterProduct
from records.validation import MAX_ID
from tests.catalogue.factories import ProductFactory
from tests.clusters.factories import (
    ClusterConfigSettingFactory,
    ClusterFactory,
    ClusterOptionFactory,
    ClusterProductFactory,
)
from tests.conftest import envelope_error
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db

#: numbers no row id can be: one past a bigint, past an unsigned 64-bit, and far beyond
HUGE = (2**63, 2**64, 10**30)


def raw(text: str) -> bytes:
    """A JSON body as text: orjson cannot write an integer past 64 bits, a client can."""
    return text.encode()


def forged(payload: str) -> str:
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


@pytest.mark.parametrize("number", HUGE)
def test_cluster_assign_refuses_an_id_past_bigint_and_moves_nothing(api, number):
    cluster, elsewhere = ClusterFactory(), ClusterFactory()
    product = ClusterProductFactory(cluster=elsewhere).product
    body = raw(f'{{"products": [{{"id": {product.pk}}}, {{"id": {number}}}]}}')
    error = envelope_error(
        api.post(f"/v2/clusters/id/{cluster.pk}/products/assign", body), 400, 10007
    )
    assert error["fields"] == {"products[1].id": [f"Must be at most {MAX_ID}."]}
    assert ClusterProduct.objects.get(product=product).cluster_id == elsewhere.pk


def test_the_largest_id_is_a_plain_not_found(api):
    cluster = ClusterFactory()
    response = api.post(
        f"/v2/clusters/id/{cluster.pk}/products/assign", {"products": [{"id": MAX_ID}]}
    )
    assert response.status_code == 200, response.content
    outcome = response.json()["data"][0]
    assert outcome["success"] is False and outcome["error"]["code"] == 80006, outcome


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/v2/products/bulk/id", '{{"products": [{{"id": {n}}}]}}'),
        ("/v2/categories/bulk/id", '{{"categories": [{{"id": {n}}}]}}'),
        ("/v2/clusters/bulk/id", '{{"clusters": [{{"id": {n}}}]}}'),
    ],
)
def test_a_bulk_id_key_past_bigint_is_that_items_error(api, url, body):
    for number in HUGE:
        response = api.post(url, raw(body.format(n=number)))
        assert response.status_code == 200, response.content
        outcome = response.json()["data"][0]
        assert outcome["success"] is False, outcome
        assert outcome["error"]["code"] == 10007, outcome
        assert outcome["error"]["fields"]["id"] == [f"Must be at most {MAX_ID}."]


@pytest.mark.parametrize("number", HUGE)
def test_category_links_refuse_an_id_past_bigint(api, number):
    category = CategoryFactory()
    body = raw(f'{{"products": [{{"id": {number}}}]}}')
    response = api.post(f"/v2/categories/id/{category.pk}/add-products-clusters", body)
    assert response.status_code in (200, 400), response.content
    text = response.content.decode()
    assert f"Must be at most {MAX_ID}." in text, text


@pytest.mark.parametrize("number", HUGE)
def test_a_default_product_past_bigint_is_refused(api, number):
    cluster = ClusterFactory()
    option = ClusterOptionFactory(cluster=cluster)
    for url in (f"/v2/clusters/id/{cluster.pk}", f"/v2/clusteroptions/id/{option.pk}"):
        body = raw(f'{{"defaultProduct": {{"id": {number}}}}}')
        error = envelope_error(api.patch(url, body), 400, 10007)
        assert error["fields"] == {"defaultProduct.id": [f"Must be at most {MAX_ID}."]}


def test_a_bulk_version_past_the_column_is_that_items_error(api):
    product = ProductFactory(sku="V-1")
    response = api.post(
        "/v2/products/bulk/sku", raw(f'{{"products": [{{"sku": "V-1", "version": {2**64}}}]}}')
    )
    assert response.status_code == 200, response.content
    outcome = response.json()["data"][0]
    assert outcome["success"] is False and "version" in outcome["error"]["fields"], outcome
    product.refresh_from_db()
    assert product.version == 1


@pytest.mark.parametrize(
    "path",
    [
        "/v2/clusters/id/{cluster}/products/{n}",
        "/v2/clusters/id/{cluster}/options/{n}",
        "/v2/clusterconfigs/id/{config}/settings/{n}",
        "/v2/products/id/{n}",
    ],
)
def test_a_path_id_past_bigint_is_not_found(api, path):
    setting = ClusterConfigSettingFactory()
    cluster = ClusterFactory(cluster_config=setting.config)
    for number in HUGE:
        url = path.format(cluster=cluster.pk, config=setting.config.pk, n=number)
        for method in ("get", "delete"):
            response = getattr(api, method)(url)
            assert response.status_code == 404, (method, url, response.content)
            assert response.json()["error"]["status"] == 404


def test_id_properties_of_request_bodies_are_bounded_in_the_document(api):
    document = api.get("/v2/schema/").json()
    components = document["components"]["schemas"]
    seen: set[str] = set()
    bounded = 0

    def visit(node):
        nonlocal bounded
        if isinstance(node, list):
            for value in node:
                visit(value)
            return
        if not isinstance(node, dict):
            return
        ref = node.get("$ref", "")
        if ref.startswith("#/components/schemas/") and ref not in seen:
            seen.add(ref)
            visit(components[ref.rsplit("/", 1)[1]])
        schema = node.get("properties", {}).get("id")
        if isinstance(schema, dict) and not schema.get("readOnly"):
            assert schema.get("type") == "integer", node
            assert (schema.get("minimum"), schema.get("maximum")) == (1, MAX_ID), node
            bounded += 1
        for value in node.values():
            visit(value)

    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict):
                visit(operation.get("requestBody"))
    assert bounded >= 5


# Cursors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "moment",
    [
        "2020-01-01T00:00:00+23:00",
        "2020-01-01T00:00:00-23:59",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-15:00",
        "2020-01-01T00:00:00",
    ],
)
def test_a_cursor_with_any_offset_pages_or_is_refused(api, moment):
    ProductFactory.create_batch(3)
    cursor = forged(f'{{"s":"created_at,id","d":"n","v":["{moment}",1]}}')
    response = api.get("/v2/products", {"sort": "createdAt", "cursor": cursor})
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        envelope_error(response, 400, 10015)


@pytest.mark.parametrize(
    ("sort", "values"),
    [
        ("id", f"[{2**64}]"),
        ("id", f"[{10**30}]"),
        ("id", "[-1e400]"),
        ("priority,id", f"[{2**63}, 1]"),
        ("id", '["1"]'),
        ("id", "[null]"),
        ("created_at,id", '[{"a": 1}, 1]'),
        ("sort_name,id", '["a\\u0000", 1]'),
        ("id", "[" + "[" * 100 + "1" + "]" * 100 + "]"),
    ],
)
def test_a_cursor_with_values_no_column_holds_is_refused(api, sort, values):
    ProductFactory()
    cursor = forged(f'{{"s":"{sort}","d":"n","v":{values}}}')
    params = {"cursor": cursor}
    if sort != "id":
        params["sort"] = {"priority,id": "priority", "created_at,id": "createdAt"}.get(sort, "name")
    response = api.get("/v2/products", params)
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        envelope_error(response, 400, 10015)


# Bodies, query strings, headers -------------------------------------------------------------


@pytest.mark.parametrize("depth", [33, 900, 1000, 1023, 5000])
@pytest.mark.parametrize("bottom", ['"\\u0000"', "1", "{}"])
def test_a_body_nested_too_deep_is_refused(api, depth, bottom):
    body = "[" * depth + bottom + "]" * depth
    error = envelope_error(api.post("/v2/products", raw(body)), 400, 10005)
    assert "nest" in error["messages"][0] or "depth" in error["messages"][0], error


def test_an_object_nested_too_deep_is_refused_on_a_bulk_route(api):
    body = (
        '{"products": [{"sku": "D", "attributes": {"a": ' + '{"a": ' * 200 + "1" + "}" * 201 + "}]}"
    )
    envelope_error(api.post("/v2/products/bulk/sku", raw(body)), 400, 10005)


def test_a_body_at_the_depth_limit_is_read(api):
    body = '{"names": ' + "[" * 31 + "]" * 31 + "}"
    error = envelope_error(api.post("/v2/products", raw(body)), 400, 10007)
    assert "names[0]" in error["fields"], error


@pytest.mark.parametrize("count", [1001, 5000])
@pytest.mark.parametrize("url", ["/v2/products", "/v2/categories/tree", "/v2/schema/"])
def test_too_many_query_parameters_are_refused(api, count, url):
    query = "&".join(f"p{i}=1" for i in range(count))
    response = api.get(f"{url}?{query}")
    if url.startswith("/v2/schema"):
        assert response.status_code in (200, 400), response.content
        return
    error = envelope_error(response, 400, 10007)
    assert "query" in error["fields"], error


def test_too_many_query_parameters_on_a_write_write_nothing(api):
    query = "&".join(f"p{i}=1" for i in range(1001))
    response = api.post(f"/v2/products?{query}", {"names": [{"language": "EN", "value": "Shoe"}]})
    envelope_error(response, 400, 10007)
    from catalogue.models import Product

    assert not Product.objects.exists()


@pytest.mark.parametrize("host", ["evil.example", "bad host", "x" * 300, "[::1", "a:b:c"])
def test_a_host_not_allowed_is_a_json_400(anonymous, host):
    response = anonymous.http.get("/v2/products", headers={"Host": host})
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["status"] == 400


def test_deeply_nested_query_values_are_plain_text(api):
    response = api.get("/v2/products", {"q": "[" * 150, "sort": "[[[[", "expands": "{" * 300})
    assert response.status_code == 400, response.content


#: query strings and headers of the shapes above, a fuzzer's favourites: none may give a 5xx
FUZZ_QUERIES = (
    "sort=" + "[" * 2000,
    "q=" + "%5B" * 3000,
    "cursor=" + forged("[" * 1000 + "]" * 1000),
    "cursor=" + "A" * 20000,
    "pageSize=1e400",
    "ids=" + ",".join(["999999999999999999"] * 1000),
    "ids=%ff%fe",
    "q=%ff",
    "language=%00",
    "expands=" + ",".join(["x"] * 5000),
    "sort=id&sort=name",
    "a[b][c][d]=1",
    "createdAtFrom=9999-12-31T23:59:59-23:59",
    "lastModifiedAtTo=" + "9" * 500,
    "source=" + "x" * 100000,
    "attribute.COLOR=" + "x" * 5000,
    "category=" + "9" * 40,
    "cluster=" + "9" * 40,
    "root=" + "9" * 40,
)
FUZZ_HEADERS = (
    {"Accept": ",".join(["text/html;q=0.1"] * 5000)},
    {"Accept": "application/json;q=" + "9" * 500},
    {"Accept": "*/" + "*" * 1000},
    {"X-Request-ID": "x" * 10000},
    {"Accept-Language": "x" * 10000},
    {"If-Match": '"' + "x" * 10000 + '"'},
    {"Origin": "null"},
)


@pytest.mark.parametrize(
    "url",
    [
        "/v2/search?term=x",
        "/v2/products",
        "/v2/categories",
        "/v2/categories/tree",
        "/v2/clusterconfigs",
        "/v2/clusters",
    ],
)
def test_fuzzer_shapes_in_query_and_headers_never_give_5xx(api, url):
    ProductFactory()
    separator = "&" if "?" in url else "?"
    answers = [(q[:40], api.get(f"{url}{separator}{q}").status_code) for q in FUZZ_QUERIES]
    answers += [(str(h)[:40], api.get(url, headers=h).status_code) for h in FUZZ_HEADERS]
    assert [a for a in answers if a[1] >= 500] == []
    assert any(status == 400 for _, status in answers)
