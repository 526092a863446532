from __future__ import annotations

import pytest

from catalogue.models import ProductCategory
from taxonomy.models import Category
from taxonomy.selectors import tree_problems
from tests.catalogue.factories import ProductFactory, ProductSourceFactory
from tests.clusters.factories import ClusterCategoryFactory, ClusterFactory, ClusterSourceFactory
from tests.conftest import envelope_error
from tests.resources import (
    BulkCost,
    Cost,
    Lookup,
    Resource,
    localized,
    many_sourced,
    resource_tests,
)
from tests.taxonomy.factories import CategoryFactory, CategorySourceFactory

pytestmark = pytest.mark.django_db

SHOES = {
    "names": [
        {"language": "en", "value": "Shoes & Boots"},
        {"language": "NL", "value": "Schoenen"},
    ],
    "descriptions": [{"language": "EN", "value": "Everything for your feet"}],
    "source": "ERP",
    "sourceId": "C-1",
}


def seed_categories(ctx, n: int) -> Category:
    """``n`` categories with a source each, under a root with its own parent; the last one holds
    ``n + 1`` products and clusters with sources, a secondary category each."""
    root = CategoryFactory(parent=CategoryFactory())
    for category in CategoryFactory.create_batch(n, parent=root):
        CategorySourceFactory(category=category)
    for product in ProductFactory.create_batch(n + 1, parent=category):
        ProductSourceFactory(product=product)
        ProductCategory.objects.create(product=product, category=root)
    for cluster in ClusterFactory.create_batch(n + 1, parent=category):
        ClusterSourceFactory(cluster=cluster)
        ClusterCategoryFactory(cluster=cluster, category=root)
    return category


MEMBERS = {"includeDescendants": "true", "expands": "categories", "pageSize": "100"}


def expanded(body) -> bool:
    return many_sourced(body) and all({"categories", "primary"} <= set(r) for r in body["data"])


CATEGORY = Resource(
    noun="Category",
    collection="/v2/categories",
    scope="categories",
    not_found=30006,
    create=lambda ctx: SHOES,
    created=lambda ctx: {
        "language": "EN",
        "names": localized(EN="Shoes & Boots", NL="Schoenen"),
        "descriptions": localized(EN="Everything for your feet"),
        "slugs": localized(EN="shoes-boots", NL="schoenen"),
        "sources": [{"source": "ERP", "sourceId": "C-1"}],
        **{"parent": None, "level": 0, "path": [], "childCount": 0},
        **{"hidden": False, "priority": 0},
    },
    update={"hidden": True, "priority": 4},
    updated={"hidden": True, "priority": 4},
    lookups=(
        Lookup("sourceId", "C-1", {"source": "ERP"}),
        Lookup("slug", "shoes-boots"),
        Lookup("slug", "schoenen", {"language": "nl"}),
    ),
    seed=seed_categories,
    translation="NL",
    # token + categories (with child counts) + sources + paths
    costs=(
        Cost(
            "list",
            "/v2/categories",
            4,
            {"pageSize": "100"},
            check=lambda body: any(row["sources"] and row["path"] for row in body["data"]),
        ),
        Cost(
            "detail",
            "/v2/categories/id/{row.pk}",
            4,
            check=lambda body: body["data"]["sources"] and len(body["data"]["path"]) == 2,
        ),
        # token + category + products (sources, attributes and categories as columns)
        Cost(
            "products", "/v2/categories/id/{row.pk}/products", 3, {"pageSize": "100"}, many_sourced
        ),
        Cost("products-expanded", "/v2/categories/id/{row.pk}/products", 3, MEMBERS, expanded),
        # token + category + clusters (with config) + cluster sources, + categories when expanded
        Cost(
            "clusters", "/v2/categories/id/{row.pk}/clusters", 4, {"pageSize": "100"}, many_sourced
        ),
        Cost("clusters-expanded", "/v2/categories/id/{row.pk}/clusters", 5, MEMBERS, expanded),
    ),
    bulk=BulkCost(
        "/v2/categories/bulk/sourceId",
        "categories",
        lambda i, ctx: {"source": "ERP", "sourceId": f"K{i}", "names": localized(EN=f"C {i}")},
        statements=16,  # PostgreSQL (+ the events' COPY, the creates' ids); SQLite runs 12
    ),
)


TestCategoryResource = resource_tests(CATEGORY)


def create(api, **overrides):
    return CATEGORY.post(api, CATEGORY.context(), **overrides)


def test_create_child_by_id_or_source_pair_is_last_child(api):
    root = create(api)
    first = create(api, sourceId="C-2", parent={"id": root["id"]})
    second = create(api, sourceId="C-3", parent={"source": "ERP", "sourceId": "C-1"})
    grandchild = create(api, sourceId="C-4", parent={"id": second["id"]})
    assert first["parent"] == {"id": root["id"]} and first["level"] == 1
    assert first["path"] == [root["id"]]
    assert grandchild["path"] == [root["id"], second["id"]] and grandchild["level"] == 2
    children = api.get(f"/v2/categories/id/{root['id']}/children").json()["data"]
    assert [c["id"] for c in children] == [first["id"], second["id"]]
    assert api.get(f"/v2/categories/id/{root['id']}").json()["data"]["childCount"] == 2
    assert tree_problems() == []


def test_missing_parent_is_404_parent_category_not_found(api):
    envelope_error(api.post("/v2/categories", {**SHOES, "parent": {"id": 999999}}), 404, 30007)
    response = api.post("/v2/categories", {**SHOES, "parent": {"source": "X", "sourceId": "y"}})
    error = envelope_error(response, 404, 30007)
    assert error["messages"] == ["Category with sourceId [y] and source [X] not found."]
    assert Category.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"names": [{"language": "XX", "value": "a"}]}, "names[0].language"),
        ({"level": 2}, "level"),
        ({"path": [1]}, "path"),
        ({"childCount": 1}, "childCount"),
        ({"id": 3}, "id"),
        ({"parent": {"slug": "x"}}, "parent"),
        ({"parent": 5}, "parent"),
        ({"hidden": "yes"}, "hidden"),
        ({"priority": 1.5}, "priority"),
        ({"slugs": [{"language": "EN", "value": "Not A Slug"}]}, "slugs[0].value"),
        ({"source": "ERP"}, "sourceId"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_validation_errors_name_the_field(api, body, path):
    response = api.post("/v2/categories", {"names": [{"language": "EN", "value": "A"}], **body})
    error = envelope_error(response, 400, 10007)
    assert path in error["fields"], error["fields"]


def test_names_in_default_language_required(api):
    response = api.post("/v2/categories", {"names": [{"language": "NL", "value": "Schoenen"}]})
    envelope_error(response, 422, 10019)
    error = envelope_error(api.post("/v2/categories", {"hidden": True}), 400, 10007)
    assert "names" in error["fields"]


def test_lookup_errors(api):
    create(api)
    envelope_error(api.get("/v2/categories/code/x"), 400, 10006)
    assert api.get("/v2/categories/sourceId/C-1").status_code == 200  # one source: unambiguous
    envelope_error(api.get("/v2/categories/slug/shoes-boots", {"language": "xx"}), 400, 10007)
    error = envelope_error(api.get("/v2/categories/slug/nope"), 404, 30006)
    assert error["messages"] == ["Category with slug [nope] in language EN not found."]
    envelope_error(api.get("/v2/categories/id/abc"), 404, 30006)


def test_same_source_id_under_two_sources_needs_the_source(api):
    first = create(api)
    create(api, source="PIM", slugs=[{"language": "EN", "value": "other"}])
    data = api.get("/v2/categories/sourceId/C-1", {"source": "ERP"}).json()["data"]
    assert data["id"] == first["id"]
    envelope_error(api.get("/v2/categories/sourceId/C-1"), 400, 30005)


def test_patch_merges_translations_and_bumps_version(api):
    created = create(api)
    path = f"/v2/categories/id/{created['id']}"
    response = api.patch(
        path, {"names": [{"language": "DE", "value": "Schuhe"}, {"language": "NL", "value": None}]}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["messages"] == ["Category updated"]
    assert body["data"]["names"] == [
        {"language": "EN", "value": "Shoes & Boots"},
        {"language": "DE", "value": "Schuhe"},
    ]
    assert body["data"]["version"] == 2 and response["ETag"] == '"2"'
    assert body["data"]["descriptions"] == created["descriptions"]
    unchanged = api.patch(path, {"hidden": False}).json()["data"]
    assert unchanged["version"] == 2
    assert unchanged["lastModifiedAt"] == body["data"]["lastModifiedAt"]


def test_patch_cannot_drop_default_name_and_honours_if_match(api):
    created = create(api)
    path = f"/v2/categories/id/{created['id']}"
    envelope_error(api.patch(path, {"names": [{"language": "EN", "value": None}]}), 422, 10019)
    envelope_error(api.patch(path, {"priority": 3}, headers={"If-Match": '"9"'}), 412, 10009)
    assert api.get(path).json()["data"]["priority"] == 0
    ok = api.patch(path, {"priority": 3}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200 and ok.json()["data"]["priority"] == 3


def test_slugs_are_unique_per_language_and_stable(api):
    first = create(api)
    second = create(api, sourceId="C-2")
    assert second["slugs"][0] == {"language": "EN", "value": "shoes-boots-2"}
    renamed = api.patch(
        f"/v2/categories/id/{first['id']}", {"names": [{"language": "EN", "value": "Footwear"}]}
    ).json()["data"]
    assert renamed["slugs"][0]["value"] == "shoes-boots"
    response = api.patch(
        f"/v2/categories/id/{second['id']}", {"slugs": [{"language": "EN", "value": "shoes-boots"}]}
    )
    envelope_error(response, 409, 30004)


def test_source_pair_is_unique_among_categories(api):
    create(api)
    envelope_error(api.post("/v2/categories", SHOES), 409, 30004)
    assert Category.objects.count() == 1


def test_delete_with_children_is_refused_with_counts(api):
    root = CategoryFactory()
    CategoryFactory.create_batch(2, parent=root)
    error = envelope_error(api.delete(f"/v2/categories/id/{root.pk}"), 409, 30008)
    assert error["messages"] == [
        f"Category [{root.pk}] cannot be deleted: it holds 2 children, 0 products and 0 clusters."
    ]
    assert Category.objects.count() == 3


def test_language_param_narrows_output(api):
    created = create(api)
    data = api.get(f"/v2/categories/id/{created['id']}", {"language": "nl"}).json()["data"]
    assert data["names"] == [{"language": "NL", "value": "Schoenen"}]
    assert data["descriptions"] == []


def test_put_is_405_and_trailing_slash_works(api):
    created = create(api)
    envelope_error(api._send("put", f"/v2/categories/id/{created['id']}", {}, None), 405, 10003)
    assert api.get(f"/v2/categories/id/{created['id']}/").status_code == 200
    assert api.get("/v2/categories/").status_code == 200
    assert api.get("/v2/categories/tree/").status_code == 200


# -- lists ------------------------------------------------------------------------------------


@pytest.fixture
def forest():
    """Two trees: a (b (d, e), c) and f (g)."""
    a = CategoryFactory(name_en="A", sort_name="a", priority=2)
    b = CategoryFactory(name_en="B", sort_name="b", parent=a, priority=1)
    c = CategoryFactory(name_en="C", sort_name="c", parent=a, hidden=True)
    d = CategoryFactory(name_en="D", sort_name="d", parent=b)
    e = CategoryFactory(name_en="E", sort_name="e", parent=b, priority=5)
    f = CategoryFactory(name_en="F", sort_name="f")
    g = CategoryFactory(name_en="G", sort_name="g", parent=f)
    CategorySourceFactory(category=e, source="PIM", source_id="e-1")
    return {n.name_en: n for n in (a, b, c, d, e, f, g)}


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [c["names"][0]["value"] for c in response.json()["data"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, "ABCDEFG"),
        ({"parent": "null"}, "AF"),
        ({"parent": "B"}, "DE"),
        ({"level": "2"}, "DE"),
        ({"level": "0"}, "AF"),
        ({"root": "B"}, "BDE"),
        ({"root": "F"}, "FG"),
        ({"hidden": "true"}, "C"),
        ({"q": "e"}, "E"),
        ({"source": "PIM"}, "E"),
        ({"sourceId": "e-1", "source": "PIM"}, "E"),
        ({"ids": "A,G"}, "AG"),
        ({"sort": "-name"}, "GFEDCBA"),
        ({"sort": "-priority,name"}, "EABCDFG"),
        ({"parent": "999999"}, ""),
        ({"root": "999999"}, ""),
    ],
)
def test_list_filters_and_sorts(api, forest, params, expected):
    resolved = {
        key: ",".join(str(forest[v].pk) if v in forest else v for v in value.split(","))
        for key, value in params.items()
    }
    assert "".join(names(api.get("/v2/categories", resolved))) == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"parent": "x"}, "parent"),
        ({"parent": "0"}, "parent"),
        ({"parent": str(10**18)}, "parent"),
        ({"level": "one"}, "level"),
        ({"level": "-1"}, "level"),
        ({"root": "0"}, "root"),
        ({"hidden": "maybe"}, "hidden"),
        ({"sort": "lft"}, "sort"),
        ({"sort": "position"}, "sort"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_list_rejects_bad_filters(api, forest, params, field):
    error = envelope_error(api.get("/v2/categories", params), 400, 10007)
    assert field in error["fields"]


def test_list_carries_paths_and_child_counts(api, forest):
    rows = {c["names"][0]["value"]: c for c in api.get("/v2/categories").json()["data"]}
    a, b = forest["A"].pk, forest["B"].pk
    assert rows["A"]["path"] == [] and rows["A"]["childCount"] == 2
    assert rows["D"]["path"] == [a, b] and rows["D"]["level"] == 2 and rows["D"]["childCount"] == 0
    assert rows["G"]["path"] == [forest["F"].pk]


def test_list_pages_with_cursor_and_count(api, forest):
    first = api.get("/v2/categories", {"pageSize": 3, "withCount": "true"}).json()
    assert len(first["data"]) == 3 and first["pagination"]["total"] == 7
    second = api.get(first["pagination"]["next"].replace("http://testserver", "")).json()
    assert [c["id"] for c in second["data"]] == sorted(c.pk for c in forest.values())[3:6]
    envelope_error(api.get("/v2/categories", {"pageSize": 0}), 400, 10015)


# -- children and ancestors ---------------------------------------------------------------------


def test_children_are_in_tree_order_paged_and_sortable(api):
    root = CategoryFactory()
    kids = [
        CategoryFactory(parent=root, name_en=f"Kid {n}", sort_name=f"kid {n}", priority=n % 3)
        for n in (5, 3, 9, 1, 7)
    ]
    CategoryFactory(parent=kids[0])  # a grandchild is not a child
    path = f"/v2/categories/id/{root.pk}/children"
    response = api.get(path, {"pageSize": 2})
    body = response.json()
    assert [c["id"] for c in body["data"]] == [kids[0].pk, kids[1].pk]
    seen = [c["id"] for c in body["data"]]
    while body["pagination"]["next"]:
        body = api.get(body["pagination"]["next"].replace("http://testserver", "")).json()
        seen += [c["id"] for c in body["data"]]
    assert seen == [k.pk for k in kids]
    by_name = names(api.get(path, {"sort": "name"}))
    assert by_name == ["Kid 1", "Kid 3", "Kid 5", "Kid 7", "Kid 9"]
    by_priority = names(api.get(path, {"sort": "-priority,name"}))
    assert by_priority == ["Kid 5", "Kid 1", "Kid 7", "Kid 3", "Kid 9"]
    assert api.get(path, {"withCount": "true"}).json()["pagination"]["total"] == 5
    assert api.get(path).json()["data"][0]["childCount"] == 1
    envelope_error(api.get(path, {"sort": "bogus"}), 400, 10007)


def test_children_of_source_lookup_and_missing_category(api):
    root = CategoryFactory()
    CategorySourceFactory(category=root, source="ERP", source_id="R")
    child = CategoryFactory(parent=root)
    data = api.get("/v2/categories/sourceId/R/children", {"source": "ERP"}).json()["data"]
    assert [c["id"] for c in data] == [child.pk]
    envelope_error(api.get("/v2/categories/id/999999/children"), 404, 30007)


def test_ancestors_are_a_breadcrumb(api):
    a = CategoryFactory()
    b = CategoryFactory(parent=a)
    c = CategoryFactory(parent=b)
    d = CategoryFactory(parent=c)
    body = api.get(f"/v2/categories/id/{d.pk}/ancestors").json()
    assert [x["id"] for x in body["data"]] == [a.pk, b.pk, c.pk]
    assert [x["path"] for x in body["data"]] == [[], [a.pk], [a.pk, b.pk]]
    assert api.get(f"/v2/categories/id/{a.pk}/ancestors").json()["data"] == []
    envelope_error(api.get("/v2/categories/id/999999/ancestors"), 404, 30007)


# -- tree -------------------------------------------------------------------------------------


def shape(nodes) -> list:
    return [(n["names"][0]["value"], shape(n["children"])) for n in nodes]


def test_tree_of_the_whole_forest(api, forest):
    body = api.get("/v2/categories/tree").json()
    assert body["messages"] == []
    assert shape(body["data"]) == [
        ("A", [("B", [("D", []), ("E", [])]), ("C", [])]),
        ("F", [("G", [])]),
    ]
    e = body["data"][0]["children"][0]["children"][1]
    assert e["path"] == [forest["A"].pk, forest["B"].pk] and e["level"] == 2
    assert e["sources"] == [{"source": "PIM", "sourceId": "e-1"}]


def test_tree_root_and_depth(api, forest):
    data = api.get("/v2/categories/tree", {"root": forest["B"].pk}).json()["data"]
    assert shape(data) == [("B", [("D", []), ("E", [])])]
    assert data[0]["path"] == [forest["A"].pk]
    assert data[0]["children"][0]["path"] == [forest["A"].pk, forest["B"].pk]
    top_only = api.get("/v2/categories/tree", {"depth": 0}).json()["data"]
    assert shape(top_only) == [("A", []), ("F", [])]
    assert top_only[0]["childCount"] == 2
    one = api.get("/v2/categories/tree", {"root": forest["A"].pk, "depth": 1}).json()["data"]
    assert shape(one) == [("A", [("B", []), ("C", [])])]
    narrowed = api.get("/v2/categories/tree", {"root": forest["F"].pk, "language": "nl"})
    assert narrowed.json()["data"][0]["names"] == []


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"root": "999999"}, 404, 30006),
        ({"root": "x"}, 400, 10007),
        ({"root": str(2**63)}, 400, 10007),
        ({"root": str(2**63 - 1)}, 404, 30006),
        ({"depth": "-1"}, 400, 10007),
        ({"depth": "٣"}, 400, 10007),
        ({"depth": str(2**31)}, 400, 10007),
        ({"depth": ""}, 400, 10007),
        ({"pageSize": "5"}, 400, 10007),
        ({"language": "xx"}, 400, 10007),
        ({"language": ""}, 400, 10007),
    ],
)
def test_tree_parameter_errors(api, params, status, code):
    envelope_error(api.get("/v2/categories/tree", params), status, code)


def test_tree_depth_past_the_trees_own_is_the_whole_tree(api, forest):
    whole = api.get("/v2/categories/tree").json()["data"]
    assert api.get("/v2/categories/tree", {"depth": 2**31 - 1}).json()["data"] == whole
