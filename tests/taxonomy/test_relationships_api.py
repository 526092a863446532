from __future__ import annotations

import pytest

from catalogue.models import ProductCategory
from config.api import errors
from taxonomy import relationships
from taxonomy.relationships import UnavailableKind
from tests.catalogue.factories import ProductFactory, ProductSourceFactory
from tests.conftest import envelope_error
from tests.taxonomy.factories import CategoryFactory, CategorySourceFactory
from tests.taxonomy.members import (
    CATEGORY_FILTER_CASES,
    MemberKind,
    add,
    check_members_with_primary_flags,
    found_by_category_filter,
    remove,
)

pytestmark = pytest.mark.django_db

KIND = MemberKind("products", "sku", "P", ProductFactory, ProductCategory, "product")
listed, linked_ids = KIND.listed, KIND.linked_ids


def test_add_by_every_lookup_gives_one_outcome_per_item(api, shelf):
    _, shoes, _, _ = shelf
    by_id, by_source, by_sku = ProductFactory.create_batch(3)
    ProductSourceFactory(product=by_source, source="ERP", source_id="A-17")
    response = add(
        api,
        shoes,
        {
            "products": [
                {"id": by_id.pk},
                {"sourceId": "A-17", "source": "ERP"},
                {"sku": by_sku.sku},
            ]
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["messages"] == ["3 added, 0 failed"]
    assert body["data"] == [
        {
            "index": 0,
            "type": "product",
            "lookupKey": "id",
            "key": by_id.pk,
            "id": by_id.pk,
            "action": "add",
            "success": True,
        },
        {
            "index": 1,
            "type": "product",
            "lookupKey": "sourceId",
            "key": "A-17",
            "id": by_source.pk,
            "action": "add",
            "success": True,
        },
        {
            "index": 2,
            "type": "product",
            "lookupKey": "sku",
            "key": by_sku.sku,
            "id": by_sku.pk,
            "action": "add",
            "success": True,
        },
    ]
    assert linked_ids(shoes) == {by_id.pk, by_source.pk, by_sku.pk}


def test_one_bad_item_never_blocks_the_others(api, shelf):
    _, shoes, _, _ = shelf
    good, linked, homed = ProductFactory(), ProductFactory(), ProductFactory(parent=shoes)
    ProductFactory.create_batch(2, sku="TWIN")
    ProductCategory.objects.create(product=linked, category=shoes)
    response = add(
        api,
        shoes,
        {
            "products": [
                {"id": 999999},
                {"sourceId": "nope", "source": "ERP"},
                {"sku": "TWIN"},
                {"colour": "red"},
                {"id": good.pk},
                {"id": good.pk},
                {"id": linked.pk},
                {"id": homed.pk},
                "not an object",
            ],
            "clusters": [{"id": 1}, {"sku": "X"}],  # sku is a product key only
        },
    )
    assert response.status_code == 200
    body = response.json()
    outcomes = body["data"]
    assert body["messages"] == ["1 added, 10 failed"]
    codes = [(o["type"], o["index"], o["action"], o.get("error", {}).get("code")) for o in outcomes]
    assert codes == [
        ("product", 0, "error", 80006),
        ("product", 1, "error", 80006),
        ("product", 2, "error", 80005),
        ("product", 3, "error", 10007),
        ("product", 4, "add", None),
        ("product", 5, "error", 10020),
        ("product", 6, "error", 30010),
        ("product", 7, "error", 30010),
        ("product", 8, "error", 10007),
        ("cluster", 0, "error", 20006),
        ("cluster", 1, "error", 10007),
    ]
    missing = outcomes[1]
    assert missing["success"] is False and missing["id"] is None
    assert missing["lookupKey"] == "sourceId" and missing["key"] == "nope"
    assert missing["error"]["status"] == 404 and missing["error"]["type"] == "ProductNotFound"
    assert missing["error"]["messages"] == [
        "Product with sourceId [nope] and source [ERP] not found."
    ]
    assert missing["error"]["moreInfo"].endswith("/docs/errors#80006")
    assert "requestId" not in missing["error"]
    assert "products[3]" in outcomes[3]["error"]["fields"]
    assert (
        outcomes[7]["id"] == homed.pk and "primary category" in outcomes[7]["error"]["messages"][0]
    )
    assert outcomes[9]["error"]["type"] == "ClusterNotFound"
    assert linked_ids(shoes) == {linked.pk, good.pk}


def test_remove_outcomes(api, shelf):
    _, shoes, _, _ = shelf
    linked, unlinked, homed = ProductFactory(), ProductFactory(), ProductFactory(parent=shoes)
    ProductCategory.objects.create(product=linked, category=shoes)
    response = remove(
        api,
        shoes,
        {
            "products": [{"id": linked.pk}, {"id": unlinked.pk}, {"id": homed.pk}, {"id": 999999}],
            "clusters": [{"sourceId": "c", "source": "ERP"}],
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["messages"] == ["1 removed, 4 failed"]
    assert [(o["action"], o.get("error", {}).get("code")) for o in body["data"]] == [
        ("remove", None),
        ("error", 30011),
        ("error", 30012),
        ("error", 80006),
        ("error", 20006),
    ]
    assert linked_ids(shoes) == set()


def test_more_than_100_items_is_413_and_nothing_is_written(api, shelf):
    _, shoes, _, _ = shelf
    products = ProductFactory.create_batch(60)
    body = {
        "products": [{"id": p.pk} for p in products],
        "clusters": [{"id": n} for n in range(1, 42)],
    }
    error = envelope_error(add(api, shoes, body), 413, 10013)
    assert "101" in error["messages"][0]
    assert linked_ids(shoes) == set()
    body["clusters"] = body["clusters"][:40]
    assert add(api, shoes, body).json()["messages"] == ["60 added, 40 failed"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"products": []},
        {"products": [], "clusters": []},
        {"products": {"id": 1}},
        {"items": []},
    ],
)
def test_request_shape_errors_are_400(api, shelf, body):
    envelope_error(add(api, shelf[1], body), 400, 10007)


def test_missing_category_in_url_is_404_parent_category_not_found(api):
    product = ProductFactory()
    response = api.post(
        "/v2/categories/id/999999/add-products-clusters", {"products": [{"id": product.pk}]}
    )
    envelope_error(response, 404, 30007)
    envelope_error(api.get("/v2/categories/id/999999/products"), 404, 30007)
    envelope_error(api.get("/v2/categories/slug/nope/clusters"), 404, 30007)


def test_link_endpoints_accept_source_lookup_of_the_category(api, shelf):
    _, shoes, _, _ = shelf
    CategorySourceFactory(category=shoes, source="ERP", source_id="SHOES")
    product = ProductFactory()
    response = api.post(
        "/v2/categories/sourceId/SHOES/add-products-clusters?source=ERP",
        {"products": [{"id": product.pk}]},
    )
    assert response.json()["data"][0]["success"] is True
    listed = api.get("/v2/categories/sourceId/SHOES/products", {"source": "ERP"}).json()["data"]
    assert [p["id"] for p in listed] == [product.pk]


# -- reading links --------------------------------------------------------------------------


def test_products_of_a_category_with_primary_flags(api, stocked):
    path = check_members_with_primary_flags(api, KIND, stocked)
    envelope_error(api.get(path, {"includeDescendants": "yes"}), 400, 10007)
    envelope_error(api.get(path, {"sort": "code"}), 400, 10007)


def test_a_kind_whose_app_is_not_installed_holds_nothing(api, shelf, monkeypatch):
    """The registry's placeholder: taxonomy works on its own, before an app registers a kind."""
    placeholder = UnavailableKind("clusters", "cluster", "Cluster", errors.ClusterNotFound)
    monkeypatch.setitem(relationships._KINDS, "clusters", placeholder)
    response = api.get(f"/v2/categories/id/{shelf[1].pk}/clusters", {"withCount": "true"})
    assert response.status_code == 200
    assert response.json() == {
        "data": [],
        "messages": [],
        "pagination": {
            "pageSize": 50,
            "nextCursor": None,
            "previousCursor": None,
            "next": None,
            "previous": None,
            "total": 0,
        },
    }
    envelope_error(api.get(f"/v2/categories/id/{shelf[1].pk}/clusters", {"sort": "x"}), 400, 10007)
    outcome = add(api, shelf[1], {"clusters": [{"id": 1}]}).json()["data"][0]
    assert outcome["error"]["messages"] == ["Cluster with id [1] not found."]
    assert api.delete(f"/v2/categories/id/{shelf[2].pk}").status_code == 200


# -- the product side ---------------------------------------------------------------------------


def test_product_expands_categories(api, stocked, django_assert_max_num_queries):
    root, shoes, boots, other = stocked["categories"]
    product = stocked["shoes"]
    ProductCategory.objects.create(product=product, category=boots)
    data = api.get(f"/v2/products/id/{product.pk}", {"expands": "categories"}).json()["data"]
    assert data["categories"] == sorted([other.pk, boots.pk])
    assert data["parent"] == {"id": shoes.pk}
    assert "categories" not in api.get(f"/v2/products/id/{product.pk}").json()["data"]
    envelope_error(api.get(f"/v2/products/id/{product.pk}", {"expands": "clusterz"}), 400, 10007)
    ProductFactory.create_batch(20)
    # token + products + sources + attributes + category links
    with django_assert_max_num_queries(5):
        rows = api.get("/v2/products", {"expands": "categories", "pageSize": 100}).json()["data"]
    assert {r["id"]: r["categories"] for r in rows}[stocked["deep"].pk] == [boots.pk]
    patched = api.patch(f"/v2/products/id/{product.pk}?expands=categories", {"priority": 9}).json()[
        "data"
    ]
    assert patched["categories"] == sorted([other.pk, boots.pk])


@pytest.mark.parametrize(("category", "descendants", "expected"), CATEGORY_FILTER_CASES)
def test_product_list_category_filter_covers_primary_and_secondary(
    api, stocked, category, descendants, expected
):
    assert found_by_category_filter(api, KIND, stocked, category, descendants) == expected


def test_delete_refused_while_products_are_linked(api, stocked):
    root, shoes, boots, other = stocked["categories"]
    error = envelope_error(api.delete(f"/v2/categories/id/{boots.pk}"), 409, 30008)
    assert error["messages"] == [
        f"Category [{boots.pk}] cannot be deleted: it holds 0 children, 2 products and 0 clusters."
    ]
    error = envelope_error(api.delete(f"/v2/categories/id/{shoes.pk}"), 409, 30008)
    assert "1 child, 2 products" in error["messages"][0]
    api.delete(f"/v2/products/id/{stocked['boots'].pk}")  # takes its primary home with it
    assert remove(api, boots, {"products": [{"id": stocked["deep"].pk}]}).status_code == 200
    assert api.delete(f"/v2/categories/id/{boots.pk}").status_code == 200


def test_deleting_a_product_removes_its_links(api, stocked):
    shoes = stocked["categories"][1]
    api.delete(f"/v2/products/id/{stocked['second'].pk}")
    assert linked_ids(shoes) == set()


# -- scopes -----------------------------------------------------------------------------------

ROUTES = [
    ("GET", "/v2/categories", "categories:read"),
    ("POST", "/v2/categories", "categories:write"),
    ("GET", "/v2/categories/tree", "categories:read"),
    ("GET", "/v2/categories/id/{id}", "categories:read"),
    ("PATCH", "/v2/categories/id/{id}", "categories:write"),
    ("DELETE", "/v2/categories/id/{id}", "categories:write"),
    ("DELETE", "/v2/categories/id/{id}/translation/nl", "categories:write"),
    ("POST", "/v2/categories/id/{id}/move", "categories:write"),
    ("GET", "/v2/categories/id/{id}/children", "categories:read"),
    ("GET", "/v2/categories/id/{id}/ancestors", "categories:read"),
    ("GET", "/v2/categories/id/{id}/products", "relationships:read"),
    ("GET", "/v2/categories/id/{id}/clusters", "relationships:read"),
    ("POST", "/v2/categories/id/{id}/add-products-clusters", "relationships:write"),
    ("POST", "/v2/categories/id/{id}/remove-products-clusters", "relationships:write"),
]


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
def test_each_route_needs_its_own_scope(client_with_scopes, method, path, scope):
    category = CategoryFactory(name_nl="Schoenen")
    url = path.format(id=category.pk)
    family = scope.split(":")[0]
    others = {"categories", "relationships"} - {family}
    wrong = client_with_scopes(*(f"{f}:{a}" for f in others for a in ("read", "write")))
    right = client_with_scopes(scope)

    def call(client):
        if method == "GET":
            return client.get(url)
        if method == "DELETE":
            return client.delete(url)
        return getattr(client, method.lower())(url, {})

    error = envelope_error(call(wrong), 403, 10002)
    assert scope in error["messages"][0]
    assert call(right).status_code not in (401, 403)
