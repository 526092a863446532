"""Cluster search (SPEC §13): POST /v2/clusters/search, cluster hits in GET /v2/search, the
``cluster`` and ``clusterOption`` resolve types, and the search document kept by every cluster
write path."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue.search import refresh_product_search_text
from clusters.models import Cluster
from clusters.search import refresh_cluster_search_text
from taxonomy.search import refresh_category_search_text
from tests.catalogue.factories import ProductFactory
from tests.clusters.factories import (
    ClusterConfigFactory,
    ClusterFactory,
    ClusterOptionFactory,
    ClusterSourceFactory,
)
from tests.conftest import envelope_error
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db
URL = "/v2/clusters/search"


def create(api, **body):
    response = api.post("/v2/clusters", body)
    assert response.status_code == 201, response.content
    return response.json()["data"]["id"]


def names(*pairs):
    return [{"language": lang, "value": value} for lang, value in pairs]


@pytest.fixture
def world(api):
    """Clusters created through the API (so the services write their documents): shirts in
    Clothing > Shirts, a coat in Clothing, a hidden jacket elsewhere."""
    shirts_config = ClusterConfigFactory(name="shirts")
    coats_config = ClusterConfigFactory(name="coats")
    clothing = CategoryFactory(name_en="Clothing")
    shirts = CategoryFactory(name_en="Shirts", parent=clothing)
    other = CategoryFactory(name_en="Other")
    ids = {
        "oxford": create(
            api,
            names=names(("EN", "Oxford Shirt"), ("NL", "Overhemd")),
            descriptions=names(("FR", "Chemise en coton crème")),
            clusterConfig={"id": shirts_config.pk},
            code="OX-1",
            source="ERP",
            sourceId="CL-OX",
            parent={"id": shirts.pk},
        ),
        "linen": create(
            api,
            names=names(("EN", "Linen Shirt")),
            clusterConfig={"id": shirts_config.pk},
            code="LIN-2",
            parent={"id": shirts.pk},
            priority=5,
        ),
        "coat": create(
            api,
            names=names(("EN", "Rain Coat"), ("DE", "Regenmantel")),
            descriptions=names(("EN", "A coat for every storm")),
            clusterConfig={"id": coats_config.pk},
            code="STORM",
            source="PIM",
            sourceId="P-77",
            parent={"id": clothing.pk},
        ),
        "jacket": create(
            api,
            names=names(("EN", "Storm Jacket")),
            clusterConfig={"id": coats_config.pk},
            hidden=True,
            parent={"id": other.pk},
        ),
    }
    return {
        **ids,
        "shirts_config": shirts_config.pk,
        "coats_config": coats_config.pk,
        "clothing": clothing.pk,
        "shirts": shirts.pk,
        "other": other.pk,
    }


def found(api, body: dict) -> list[int]:
    response = api.post(URL, body)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["data"]]


@pytest.mark.parametrize(
    ("term", "name"),
    [
        ("OXFORD", "oxford"),  # case
        ("overhemd", "oxford"),  # another language's name
        ("creme", "oxford"),  # accent, in a description
        ("CRÈME", "oxford"),
        ("regenmantel", "coat"),
        ("ox-1", "oxford"),  # the code
        ("lin-2", "linen"),
        ("CL-OX", "oxford"),  # a source id
        ("p-77", "coat"),
        ("oxfrod", "oxford"),  # a typo: two letters swapped
        ("linnen", "linen"),  # a typo: one letter too many
        ("regenmantl", "coat"),  # a typo: one letter missing
    ],
)
def test_term_matches_names_descriptions_codes_and_source_ids(api, world, term, name):
    assert found(api, {"term": term}) == [world[name]]


def test_an_exact_code_ranks_first(api, world):
    """ "storm" is the coat's code: it outranks the jacket whose name starts with the word."""
    response = api.post(URL, {"term": "storm"})
    data = response.json()["data"]
    assert [item["id"] for item in data] == [world["coat"], world["jacket"]]
    assert data[0]["relevance"] >= 2 > data[1]["relevance"] > 0


def test_result_is_the_cluster_representation_with_relevance(api, world):
    item = api.post(URL, {"term": "oxford", "language": "NL"}).json()["data"][0]
    assert item["id"] == world["oxford"] and item["code"] == "OX-1"
    assert item["names"] == [{"language": "NL", "value": "Overhemd"}]
    assert item["clusterConfig"] == {"id": world["shirts_config"], "name": "shirts"}
    assert item["parent"] == {"id": world["shirts"]}
    assert item["sources"] == [{"source": "ERP", "sourceId": "CL-OX"}]
    assert "searchText" not in item and "search_text" not in item
    assert item["relevance"] > 0


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"code": "OX-1"}, {"oxford"}),
        ({"clusterConfig": "coats_config"}, {"coat", "jacket"}),
        ({"category": "shirts"}, {"oxford", "linen"}),
        ({"category": "clothing"}, {"coat"}),
        ({"category": "clothing", "includeDescendants": True}, {"oxford", "linen", "coat"}),
        ({"hidden": True}, {"jacket"}),
        ({"ids": ["oxford", "jacket"]}, {"oxford", "jacket"}),
        ({"source": "PIM"}, {"coat"}),
        ({"sourceId": "CL-OX"}, {"oxford"}),
        ({"term": "shirt", "clusterConfig": "shirts_config"}, {"oxford", "linen"}),
        ({"term": "storm", "hidden": False}, {"coat"}),
        ({"term": "shirt", "category": "other"}, set()),
    ],
)
def test_cluster_list_filters_work_in_the_search_body(api, world, body, expected):
    refs = ("clusterConfig", "category")
    body = {
        key: world[value] if key in refs else [world[v] for v in value] if key == "ids" else value
        for key, value in body.items()
    }
    assert set(found(api, body)) == {world[name] for name in expected}


def test_sort_objects_and_count(api, world):
    body = {"sort": [{"field": "priority", "order": "desc"}, {"field": "id"}], "pageSize": 2}
    first = api.post(URL, {**body, "withCount": True}).json()
    assert [i["id"] for i in first["data"]] == [world["linen"], world["oxford"]]
    assert first["pagination"]["total"] == 4
    second = api.post(URL, {**body, "cursor": first["pagination"]["nextCursor"]}).json()
    assert [i["id"] for i in second["data"]] == [world["coat"], world["jacket"]]
    codes = found(api, {"sort": [{"field": "code", "order": "desc"}], "code": "LIN-2"})
    assert codes == [world["linen"]]


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"clusterConfig": "x"}, 400, 10007, "clusterConfig"),
        ({"category": 0}, 400, 10007, "category"),
        ({"code": ""}, 400, 10007, "code"),
        ({"eanCode": "A"}, 400, 10007, "eanCode"),  # a product filter
        ({"sort": [{"field": "relevance"}]}, 400, 10007, "sort[0].field"),
        ({"sort": [{"field": "sku"}]}, 400, 10007, "sort[0].field"),
        ({"ids": []}, 400, 10007, "ids"),
        ({"pageSize": 0}, 400, 10015, "pageSize"),
    ],
)
def test_invalid_cluster_search_is_refused(api, world, body, status, code, field):
    error = envelope_error(api.post(URL, body), status, code)
    assert field in error["fields"], error["fields"]


def test_paging_by_relevance_has_no_duplicates_or_gaps(api):
    config = ClusterConfigFactory()
    # many ties: equal documents, so only the id tie-breaker orders them
    clusters = [
        ClusterFactory(cluster_config=config, name_en=f"Alpine Jacket {n % 3}") for n in range(9)
    ]
    clusters += [
        ClusterFactory(cluster_config=config, name_en=f"Warm coat, jacket lining {n}")
        for n in range(4)
    ]
    clusters += [
        ClusterFactory(cluster_config=config, name_en=f"Jackets {n}", code=f"J{n}")
        for n in range(3)
    ]
    clusters.append(ClusterFactory(cluster_config=config, name_en="Jacket", code="JACKET"))
    ClusterFactory(cluster_config=config, name_en="Scarf")
    refresh_cluster_search_text(Cluster.objects.values_list("pk", flat=True))

    def walk(page_size: int) -> tuple[list[int], list[float]]:
        seen, scores, cursor = [], [], None
        while True:
            body = {"term": "jacket", "pageSize": page_size}
            payload = api.post(URL, {**body, **({"cursor": cursor} if cursor else {})}).json()
            seen += [item["id"] for item in payload["data"]]
            scores += [item["relevance"] for item in payload["data"]]
            cursor = payload["pagination"]["nextCursor"]
            if cursor is None:
                return seen, scores

    seen, scores = walk(4)
    assert len(seen) == len(set(seen)) == len(clusters)
    assert set(seen) == {c.pk for c in clusters}
    assert scores == sorted(scores, reverse=True)
    assert seen[0] == clusters[-1].pk  # the exact code
    assert walk(5)[0] == walk(100)[0] == seen  # the page size changes nothing


def test_search_text_follows_every_cluster_write_path(api, world):
    oxford = f"/v2/clusters/id/{world['oxford']}"
    # update: a new name replaces the old one in the document
    assert api.patch(oxford, {"names": names(("EN", "Poplin Shirt"))}).status_code == 200
    assert found(api, {"term": "poplin"}) == [world["oxford"]]
    assert found(api, {"term": "oxford"}) == []
    # a changed code
    assert api.patch(oxford, {"code": "POP-9"}).status_code == 200
    assert found(api, {"term": "POP-9"}) == [world["oxford"]]
    assert found(api, {"term": "OX-1"}) == []
    # a replaced source set
    sources = {"sources": [{"source": "CRM", "sourceId": "NEW-SRC"}]}
    assert api.patch(oxford, sources).status_code == 200
    assert found(api, {"term": "new-src"}) == [world["oxford"]]
    assert found(api, {"term": "CL-OX"}) == []
    # an added flat source pair keeps the others
    assert api.patch(oxford, {"source": "ERP", "sourceId": "ADDED-1"}).status_code == 200
    assert found(api, {"term": "added-1"}) == found(api, {"term": "new-src"}) == [world["oxford"]]
    # translation removal
    assert api.delete(f"{oxford}/translation/NL").status_code == 200
    assert found(api, {"term": "overhemd"}) == []
    assert api.delete(f"{oxford}/translation/FR").status_code == 200
    assert found(api, {"term": "creme"}) == []


def test_an_unchanged_patch_keeps_the_version(api, world):
    oxford = f"/v2/clusters/id/{world['oxford']}"
    response = api.patch(oxford, {"code": "OX-1"})
    assert response.json()["data"]["version"] == 1


def test_rebuild_command_covers_clusters(api):
    cluster = ClusterFactory(name_en="Bypassed Lantern")  # a raw write: no search_text
    assert found(api, {"term": "lantern"}) == []
    out = io.StringIO()
    call_command("rebuild_search_text", stdout=out, stderr=io.StringIO())
    assert "1 clusters" in out.getvalue()
    assert found(api, {"term": "lantern"}) == [cluster.pk]


def test_cluster_search_costs_a_constant_number_of_queries(api, django_assert_max_num_queries):
    config = ClusterConfigFactory()
    for n in range(30):
        ClusterSourceFactory(cluster=ClusterFactory(cluster_config=config, name_en=f"Boot {n}"))
    refresh_cluster_search_text(Cluster.objects.values_list("pk", flat=True))
    api.post(URL, {"term": "boot", "pageSize": 2})  # warm-up (token, vocabulary)
    with django_assert_max_num_queries(6):
        response = api.post(URL, {"term": "boot", "pageSize": 25})
    assert len(response.json()["data"]) == 25


def test_cluster_search_needs_search_read(client_with_scopes, anonymous, world):
    envelope_error(client_with_scopes("clusters:read").post(URL, {}), 403, 10002)
    envelope_error(anonymous.post(URL, {}), 401, 10001)
    assert client_with_scopes("search:read").post(URL, {}).status_code == 200


# --- GET /v2/search --------------------------------------------------------------------------


@pytest.fixture
def mixed():
    product = ProductFactory(name_en="Storm Jacket", sku="J-1")
    category = CategoryFactory(name_en="Jackets", slug_en="jackets")
    cluster = ClusterFactory(name_en="Storm Jacket Family", name_nl="Stormjassen", code="SJ-1")
    refresh_product_search_text([product.pk])
    refresh_category_search_text([category.pk])
    refresh_cluster_search_text([cluster.pk])
    return {"product": product.pk, "category": category.pk, "cluster": cluster.pk}


def test_global_search_mixes_clusters_with_products_and_categories(api, mixed):
    hits = api.get("/v2/search", {"q": "jacket"}).json()["data"]
    assert {(h["type"], h["id"]) for h in hits} == {
        ("product", mixed["product"]),
        ("category", mixed["category"]),
        ("cluster", mixed["cluster"]),
    }
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    cluster_hit = next(h for h in hits if h["type"] == "cluster")
    assert cluster_hit["name"] == "Storm Jacket Family"


def test_global_search_cluster_types_language_and_code(api, mixed):
    hits = api.get("/v2/search", {"q": "jacket", "types": "clusters"}).json()["data"]
    assert hits == [
        {
            "type": "cluster",
            "id": mixed["cluster"],
            "name": "Storm Jacket Family",
            "score": hits[0]["score"],
        }
    ]
    hits = api.get("/v2/search", {"q": "jakcet", "types": "clusters", "language": "NL"})
    assert [(h["id"], h["name"]) for h in hits.json()["data"]] == [
        (mixed["cluster"], "Stormjassen")
    ]
    hits = api.get("/v2/search", {"q": "SJ-1"}).json()["data"]
    assert (hits[0]["type"], hits[0]["id"]) == ("cluster", mixed["cluster"])
    assert hits[0]["score"] >= 2
    hits = api.get("/v2/search", {"q": "jacket", "types": "products,categories"}).json()["data"]
    assert "cluster" not in {h["type"] for h in hits}


# --- POST /v2/resolve ------------------------------------------------------------------------


@pytest.fixture
def resolvable():
    first = ClusterFactory(code="C-1")
    second = ClusterFactory(code="C-2")
    ClusterSourceFactory(cluster=first, source="ERP", source_id="S-1")
    ClusterSourceFactory(cluster=second, source="PIM", source_id="S-1")
    ClusterSourceFactory(cluster=second, source="ERP", source_id="S-2")
    option = ClusterOptionFactory(cluster=first)
    twin = ClusterOptionFactory(cluster=second)
    option.sources.create(source="ERP", source_id="O-1")
    twin.sources.create(source="PIM", source_id="O-1")
    twin.sources.create(source="ERP", source_id="O-2")
    return {"first": first.pk, "second": second.pk, "option": option.pk, "twin": twin.pk}


def test_resolve_clusters_and_options(api, resolvable):
    first, second, option, twin = (resolvable[k] for k in ("first", "second", "option", "twin"))
    items = [
        {"type": "cluster", "id": first},
        {"type": "cluster", "id": 999999},
        {"type": "cluster", "code": "C-2"},
        {"type": "cluster", "code": "c-2"},  # codes are exact
        {"type": "cluster", "code": "NOPE"},
        {"type": "cluster", "sourceId": "S-1", "source": "PIM"},
        {"type": "cluster", "sourceId": "S-1"},  # ambiguous across sources
        {"type": "cluster", "sourceId": "S-2"},
        {"type": "cluster", "sourceId": "S-2", "source": "PIM"},
        {"type": "clusterOption", "id": twin},
        {"type": "clusterOption", "id": 999999},
        {"type": "clusterOption", "sourceId": "O-1", "source": "ERP"},
        {"type": "clusterOption", "sourceId": "O-1"},
        {"type": "clusterOption", "sourceId": "O-3"},
        {"type": "product", "id": first},  # a cluster id is not a product id
    ]
    response = api.post("/v2/resolve", {"items": items})
    assert response.status_code == 200, response.content
    assert response.json()["data"] == [
        {"index": 0, "found": True, "id": first},
        {"index": 1, "found": False},
        {"index": 2, "found": True, "id": second},
        {"index": 3, "found": False},
        {"index": 4, "found": False},
        {"index": 5, "found": True, "id": second},
        {"index": 6, "found": True, "ids": sorted([first, second])},
        {"index": 7, "found": True, "id": second},
        {"index": 8, "found": False},
        {"index": 9, "found": True, "id": twin},
        {"index": 10, "found": False},
        {"index": 11, "found": True, "id": option},
        {"index": 12, "found": True, "ids": sorted([option, twin])},
        {"index": 13, "found": False},
        {"index": 14, "found": False},
    ]


def test_resolve_of_clusters_costs_one_query_per_key(api, resolvable):
    def queries_for(count: int) -> int:
        items = []
        for n in range(count):
            items += [
                {"type": "cluster", "id": n + 1},
                {"type": "cluster", "code": f"C-{n}"},
                {"type": "cluster", "sourceId": f"S-{n}", "source": "ERP"},
                {"type": "clusterOption", "id": n + 1},
                {"type": "clusterOption", "sourceId": f"O-{n}"},
            ]
        with CaptureQueriesContext(connection) as captured:
            response = api.post("/v2/resolve", {"items": items})
        assert response.status_code == 200
        assert len(response.json()["data"]) == len(items)
        return len(captured)

    queries_for(1)  # warm-up
    assert queries_for(2) == queries_for(200)  # 10 and 1000 items


@pytest.mark.parametrize(
    "item",
    [
        {"type": "cluster", "slug": "x"},
        {"type": "cluster", "code": "A", "id": 1},
        {"type": "cluster", "source": "ERP"},
        {"type": "clusterOption", "code": "A"},
        {"type": "clusterOption"},
    ],
)
def test_resolve_refuses_keys_a_cluster_or_option_does_not_have(api, item):
    error = envelope_error(api.post("/v2/resolve", {"items": [item]}), 400, 10007)
    assert "items[0]" in error["fields"], error["fields"]


def test_resolve_needs_search_read(client_with_scopes):
    reader = client_with_scopes("clusters:read", "cluster-options:read")
    items = [{"type": "cluster", "id": 1}]
    envelope_error(reader.post("/v2/resolve", {"items": items}), 403, 10002)
    assert (
        client_with_scopes("search:read").post("/v2/resolve", {"items": items}).status_code == 200
    )
