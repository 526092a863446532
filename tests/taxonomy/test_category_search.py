"""POST /v2/categories/search (SPEC §13): term, the category list filters in JSON form, sorts,
paging and the §10 representation."""

from __future__ import annotations

import pytest

from taxonomy.models import Category, CategorySource
from taxonomy.search import refresh_category_search_text
from tests.conftest import envelope_error
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db
URL = "/v2/categories/search"


@pytest.fixture
def tree():
    """Clothing > Outerwear > Jackets, Clothing > Scarves, and a second root Décor."""
    clothing = CategoryFactory(name_en="Clothing", name_nl="Kleding", priority=3)
    outerwear = CategoryFactory(name_en="Outerwear", parent=clothing, priority=1)
    jackets = CategoryFactory(
        name_en="Jackets",
        name_de="Jacken",
        description_en="Rain and winter jackets",
        parent=outerwear,
        priority=2,
    )
    scarves = CategoryFactory(name_en="Scarves", name_fr="Écharpes", parent=clothing, hidden=True)
    decor = CategoryFactory(name_en="Décor", priority=3)
    CategorySource.objects.create(category=jackets, source="ERP", source_id="C-JACK")
    refresh_category_search_text(Category.objects.values_list("pk", flat=True))
    return {
        "clothing": Category.objects.get(pk=clothing.pk),
        "outerwear": outerwear,
        "jackets": jackets,
        "scarves": scarves,
        "decor": decor,
    }


def found(api, body: dict) -> list[int]:
    response = api.post(URL, body)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["data"]]


@pytest.mark.parametrize(
    ("term", "name"),
    [
        ("DECOR", "decor"),
        ("décor", "decor"),
        ("kleding", "clothing"),
        ("jacken", "jackets"),
        ("echarpes", "scarves"),
        ("winter", "jackets"),
        ("C-JACK", "jackets"),
        ("jakcets", "jackets"),
    ],
)
def test_term_matches_names_descriptions_and_source_ids(api, tree, term, name):
    assert found(api, {"term": term}) == [tree[name].pk]


def test_result_is_the_category_representation_with_relevance(api, tree):
    response = api.post(URL, {"term": "jackets"})
    item = response.json()["data"][0]
    assert item["id"] == tree["jackets"].pk
    assert item["names"][0] == {"language": "EN", "value": "Jackets"}
    assert item["parent"] == {"id": tree["outerwear"].pk}
    assert item["path"] == [tree["clothing"].pk, tree["outerwear"].pk]
    assert item["level"] == 2 and item["childCount"] == 0
    assert item["sources"] == [{"source": "ERP", "sourceId": "C-JACK"}]
    assert item["relevance"] > 0
    assert response.json()["pagination"]["next"] is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"parent": None}, {"clothing", "decor"}),
        ({"parent": "clothing"}, {"outerwear", "scarves"}),
        ({"level": 2}, {"jackets"}),
        ({"root": "outerwear"}, {"outerwear", "jackets"}),
        ({"hidden": True}, {"scarves"}),
        ({"ids": ["decor", "jackets"]}, {"decor", "jackets"}),
        ({"source": "ERP"}, {"jackets"}),
        ({"q": "outer"}, {"outerwear"}),
        ({"term": "c", "parent": None}, {"clothing"}),
    ],
)
def test_category_filters_work_in_the_search_body(api, tree, body, expected):
    body = {
        key: (
            tree[value].pk
            if key in ("parent", "root") and value
            else [tree[v].pk for v in value]
            if key == "ids"
            else value
        )
        for key, value in body.items()
    }
    assert set(found(api, body)) == {tree[name].pk for name in expected}


def test_sort_and_paging(api, tree):
    body = {"sort": [{"field": "priority", "order": "desc"}, {"field": "name"}], "pageSize": 2}
    first = api.post(URL, body).json()
    assert [i["id"] for i in first["data"]] == [tree["clothing"].pk, tree["decor"].pk]
    second = api.post(URL, {**body, "cursor": first["pagination"]["nextCursor"]}).json()
    assert [i["id"] for i in second["data"]] == [tree["jackets"].pk, tree["outerwear"].pk]


@pytest.mark.parametrize(
    ("body", "field"),
    [({"parent": "x"}, "parent"), ({"level": -1}, "level"), ({"sku": "A"}, "sku")],
)
def test_invalid_category_search_is_400(api, body, field):
    error = envelope_error(api.post(URL, body), 400, 10007)
    assert field in error["fields"]


def test_category_search_needs_search_read(client_with_scopes, tree):
    envelope_error(client_with_scopes("categories:read").post(URL, {}), 403, 10002)
    assert client_with_scopes("search:read").post(URL, {}).status_code == 200
