from __future__ import annotations

import pytest

from catalogue.models import Product, ProductAttribute, ProductCategory
from tests.catalogue.factories import ProductFactory, ProductSourceFactory
from tests.conftest import envelope_error
from tests.resources import BulkCost, Cost, Lookup, Resource, localized, resource_tests
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db

JACKET = {
    "names": [{"language": "en", "value": "Crème Jacket"}, {"language": "NL", "value": "Jas"}],
    "sku": "J-1",
    "eanCode": "4006381333931",
    "source": "ERP",
    "sourceId": "A-17",
    "attributes": [{"name": "COLOR", "value": "red"}, {"name": "SIZE", "value": 42}],
}


def seed_products(ctx, n: int) -> Product:
    """``n`` products, each with a source, an attribute and a category."""
    category = CategoryFactory()
    for product in ProductFactory.create_batch(n):
        ProductSourceFactory(product=product)
        ProductAttribute.objects.create(product=product, position=0, name="COLOR", value="red")
        ProductCategory.objects.create(product=product, category=category)
    return product


def every_row_has(*fields):
    return lambda body: body["data"] and all(all(row[f] for f in fields) for row in body["data"])


PRODUCT = Resource(
    noun="Product",
    collection="/v2/products",
    scope="products",
    not_found=80006,
    create=lambda ctx: {**JACKET, "supplier": "Acme", "supplierCode": "SUP-9"},
    created=lambda ctx: {
        "language": "EN",
        "names": localized(EN="Crème Jacket", NL="Jas"),
        "slugs": localized(EN="creme-jacket", NL="jas"),
        "sources": [{"source": "ERP", "sourceId": "A-17"}],
        "attributes": JACKET["attributes"],
        **{"sku": "J-1", "supplier": "Acme", "supplierCode": "SUP-9"},
        **{"status": "A", "taxCode": "H", "unit": 1, "parent": None, "cluster": None},
    },
    # translations merge: DE is added, NL removed, EN kept
    update={"names": localized(DE="Jacke", NL=None)},
    updated={"names": localized(EN="Crème Jacket", DE="Jacke")},
    lookups=(
        Lookup("sourceId", "A-17", {"source": "ERP"}),
        Lookup("sku", "J-1"),
        Lookup("supplierCode", "SUP-9", {"supplier": "Acme"}),
    ),
    seed=seed_products,
    translation="NL",
    translated={"descriptions": localized(NL="Warm")},
    # the token lookup, then one statement: the product(s) with sources, attributes, cluster (and
    # categories when expanded) as columns; the count of a page is one more
    costs=(
        Cost(
            "detail",
            "/v2/products/id/{row.pk}",
            2,
            {"expands": "categories"},
            check=lambda body: body["data"]["sources"] and body["data"]["categories"],
        ),
        Cost(
            "list", "/v2/products", 2, {"pageSize": "100"}, every_row_has("sources", "attributes")
        ),
        Cost("list-with-count", "/v2/products", 3, {"withCount": "true"}),
    ),
    bulk=BulkCost(
        "/v2/products/bulk/sourceId",
        "products",
        lambda i, ctx: {"source": "ERP", "sourceId": f"K{i}", "names": localized(EN=f"P {i}")},
        statements=13,  # PostgreSQL (+ the events' COPY, the creates' ids); SQLite runs 10
        sizes=(2, 500),
    ),
)


TestProductResource = resource_tests(PRODUCT)


def create(api, **overrides):
    return PRODUCT.post(api, PRODUCT.context(), **overrides)


def test_ambiguous_sku_is_400_multiple_found(api):
    ProductFactory.create_batch(2, sku="DUP")
    envelope_error(api.get("/v2/products/sku/DUP"), 400, 80005)


def test_source_id_without_source_resolves_when_unambiguous(api):
    created = create(api)
    assert api.get("/v2/products/sourceId/A-17").json()["data"]["id"] == created["id"]
    create(api, source="PIM")  # the same sourceId in a second source
    error = envelope_error(api.get("/v2/products/sourceId/A-17"), 400, 80005)
    assert "?source=" in error["messages"][0]
    assert api.get("/v2/products/sourceId/A-17?source=PIM").status_code == 200


def test_source_id_held_twice_by_one_product_finds_that_product(api):
    product = ProductFactory()
    ProductSourceFactory(product=product, source="ERP", source_id="A-17")
    ProductSourceFactory(product=product, source="PIM", source_id="A-17")
    assert api.get("/v2/products/sourceId/A-17").json()["data"]["id"] == product.pk


def test_missing_product_is_404_with_message(api):
    error = envelope_error(api.get("/v2/products/sourceId/X?source=ERP"), 404, 80006)
    assert error["messages"] == ["Product with sourceId [X] and source [ERP] not found."]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"eanCode": "4006381333932"}, "eanCode"),
        ({"eanCode": "12345"}, "eanCode"),
        ({"names": [{"language": "XX", "value": "a"}]}, "names[0].language"),
        ({"status": "Z"}, "status"),
        ({"taxCode": "Q"}, "taxCode"),
        ({"unit": 0}, "unit"),
        ({"minimumQuantity": "1"}, "minimumQuantity"),
        ({"sku": "x" * 129}, "sku"),
        ({"attributes": [{"name": "color", "value": "red"}]}, "attributes[0].name"),
        (
            {"attributes": [{"name": "C", "value": 1}, {"name": "C", "value": 2}]},
            "attributes[1].name",
        ),
        ({"attributes": [{"name": "C", "value": {"x": 1}}]}, "attributes[0].value"),
        (
            {"metadataCanonicalUrls": [{"language": "EN", "value": "ftp://x"}]},
            "metadataCanonicalUrls[0].value",
        ),
        ({"slugs": [{"language": "EN", "value": "Bad Slug"}]}, "slugs[0].value"),
        ({"names": [{"language": "EN", "value": "x" * 256}]}, "names[0].value"),
        ({"unknownField": 1}, "unknownField"),
        ({"id": 5}, "id"),
        ({"version": 5}, "version"),
        ({"cluster": {"id": 1}}, "cluster"),
        ({"source": "ERP"}, "sourceId"),
        ({"source": "ERP", "sourceId": "1", "sources": []}, "sources"),
        ({"sources": [{"source": "bad source", "sourceId": "1"}]}, "sources[0].source"),
        ({"parent": {"slug": "x"}}, "parent"),
    ],
)
def test_validation_errors_name_the_field(api, body, path):
    response = api.post("/v2/products", {"names": [{"language": "EN", "value": "Shoe"}], **body})
    error = envelope_error(response, 400, 10007)
    assert path in error["fields"], error["fields"]
    assert Product.objects.count() == 0


def test_names_required_in_default_language(api):
    response = api.post("/v2/products", {"names": [{"language": "NL", "value": "Schoen"}]})
    envelope_error(response, 422, 10019)
    error = envelope_error(api.post("/v2/products", {"sku": "x"}), 400, 10007)
    assert "names" in error["fields"]


def test_record_default_language_may_differ(api):
    data = create(
        api,
        language="nl",
        names=[{"language": "NL", "value": "Schoen"}],
        source="ERP",
        sourceId="NL-1",
    )
    assert data["language"] == "NL"


def test_bad_json_and_non_json_bodies(api):
    envelope_error(api.post("/v2/products", b"{not json"), 400, 10005)
    response = api.http.post(
        "/v2/products", {"a": "b"}, headers={"Authorization": f"Bearer {api.token}"}
    )
    envelope_error(response, 415, 10004)
    envelope_error(api.post("/v2/products", [1, 2]), 400, 10007)


def test_patch_cannot_drop_default_language_name(api):
    created = create(api)
    response = api.patch(
        f"/v2/products/id/{created['id']}", {"names": [{"language": "EN", "value": None}]}
    )
    envelope_error(response, 422, 10019)


def test_language_param_narrows_localized_output(api):
    created = create(api)
    data = api.get(f"/v2/products/id/{created['id']}", {"language": "nl"}).json()["data"]
    assert data["names"] == [{"language": "NL", "value": "Jas"}]
    envelope_error(api.get(f"/v2/products/id/{created['id']}", {"language": "xx"}), 400, 10007)


def test_generated_slugs_get_a_counter_and_stay_stable(api):
    first = create(api, source="ERP", sourceId="1")
    second = create(api, source="ERP", sourceId="2")
    third = create(api, source="ERP", sourceId="3")
    assert [p["slugs"][0]["value"] for p in (first, second, third)] == [
        "creme-jacket",
        "creme-jacket-2",
        "creme-jacket-3",
    ]
    renamed = api.patch(
        f"/v2/products/id/{first['id']}", {"names": [{"language": "EN", "value": "Other"}]}
    ).json()["data"]
    assert renamed["slugs"][0]["value"] == "creme-jacket"


def test_client_supplied_duplicate_slug_is_409(api):
    create(api, slugs=[{"language": "EN", "value": "taken"}])
    response = api.post(
        "/v2/products", {**JACKET, "sourceId": "B", "slugs": [{"language": "EN", "value": "taken"}]}
    )
    envelope_error(response, 409, 80004)


def test_source_pair_is_unique_per_type(api):
    create(api)
    envelope_error(api.post("/v2/products", JACKET), 409, 80004)
    other = create(api, sourceId="B-1")
    response = api.patch(f"/v2/products/id/{other['id']}", {"source": "ERP", "sourceId": "A-17"})
    envelope_error(response, 409, 80004)


def test_sources_flat_adds_and_list_replaces(api):
    created = create(api)
    path = f"/v2/products/id/{created['id']}"
    added = api.patch(path, {"source": "PIM", "sourceId": "p-1"}).json()["data"]
    assert added["sources"] == [
        {"source": "ERP", "sourceId": "A-17"},
        {"source": "PIM", "sourceId": "p-1"},
    ]
    replaced = api.patch(path, {"sources": [{"source": "WEB", "sourceId": "w"}]}).json()["data"]
    assert replaced["sources"] == [{"source": "WEB", "sourceId": "w"}]
    assert replaced["version"] == 3


def test_attributes_replace_whole_list(api):
    created = create(api)
    data = api.patch(
        f"/v2/products/id/{created['id']}",
        {"attributes": [{"name": "FIT", "value": ["slim", "tall"]}]},
    ).json()["data"]
    assert data["attributes"] == [{"name": "FIT", "value": ["slim", "tall"]}]


def test_parent_by_id_or_source_pair_and_missing_parent(api):
    category = CategoryFactory()
    category.sources.create(source="ERP", source_id="C-1")
    data = create(api, parent={"id": category.pk})
    assert data["parent"] == {"id": category.pk}
    data = create(api, sourceId="B", parent={"sourceId": "C-1", "source": "ERP"})
    assert data["parent"] == {"id": category.pk}
    response = api.post("/v2/products", {**JACKET, "sourceId": "C", "parent": {"id": 999999}})
    envelope_error(response, 404, 30007)


def test_put_is_405_with_allow(api):
    created = create(api)
    response = api._send("put", f"/v2/products/id/{created['id']}", {}, None)
    error = envelope_error(response, 405, 10003)
    assert "PUT" in error["messages"][0]
    assert set(response["Allow"].replace(" ", "").split(",")) >= {"GET", "PATCH", "DELETE"}


def test_trailing_slash_answers_without_redirect(api):
    created = create(api)
    assert api.get(f"/v2/products/id/{created['id']}/").status_code == 200
    assert api.get("/v2/products/").status_code == 200


def test_ids_filter_refuses_ids_no_row_can_have(api):
    """Found by the stateful fuzz phase: an id beyond bigint was a 500 (database overflow)."""
    a, b = ProductFactory(), ProductFactory()
    page = api.get("/v2/products", {"ids": f"{a.pk},{b.pk}"}).json()["data"]
    assert {p["id"] for p in page} == {a.pk, b.pk}
    envelope_error(api.get("/v2/products", {"ids": f"{a.pk},45893904088700430200700"}), 400, 10007)
    envelope_error(api.get("/v2/products", {"ids": "1" * 19}), 400, 10007)
