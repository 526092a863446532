"""GET /v2/search (quick search across surfaces) and POST /v2/resolve (SPEC §13)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue.search import refresh_product_search_text
from taxonomy.models import CategorySource
from taxonomy.search import refresh_category_search_text
from tests.catalogue.factories import ProductFactory, ProductSourceFactory
from tests.conftest import envelope_error
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed():
    jacket = ProductFactory(name_en="Storm Jacket", name_nl="Stormjas", sku="J-1")
    jackets = CategoryFactory(name_en="Jackets", name_nl="Jassen", slug_en="jackets")
    boot = ProductFactory(name_en="Storm Boot", sku="B-1", language="nl", name_nl="Laars")
    refresh_product_search_text([jacket.pk, boot.pk])
    refresh_category_search_text([jackets.pk])
    return {"jacket": jacket, "jackets": jackets, "boot": boot}


def test_global_search_mixes_types_best_first(api, mixed):
    response = api.get("/v2/search", {"q": "jacket"})
    assert response.status_code == 200
    body = response.json()
    assert body["messages"] == []
    hits = body["data"]
    assert {(h["type"], h["id"]) for h in hits} == {
        ("product", mixed["jacket"].pk),
        ("category", mixed["jackets"].pk),
    }
    assert all(set(h) == {"type", "id", "name", "score"} for h in hits)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    names = {h["type"]: h["name"] for h in hits}
    assert names == {"product": "Storm Jacket", "category": "Jackets"}


def test_global_search_names_in_the_default_or_requested_language(api, mixed):
    hits = api.get("/v2/search", {"q": "storm boot"}).json()["data"]
    assert hits[0]["name"] == "Laars"  # the boot's default language is NL
    hits = api.get("/v2/search", {"q": "storm jacket", "language": "NL"}).json()["data"]
    assert hits[0]["name"] == "Stormjas"


def test_global_search_types_and_page_size(api, mixed):
    hits = api.get("/v2/search", {"q": "jacket", "types": "categories"}).json()["data"]
    assert [(h["type"], h["id"]) for h in hits] == [("category", mixed["jackets"].pk)]
    hits = api.get("/v2/search", {"q": "storm", "pageSize": 1}).json()["data"]
    assert len(hits) == 1
    # no cluster matches here (tests/clusters/test_cluster_search.py has cluster hits)
    assert api.get("/v2/search", {"q": "jacket", "types": "clusters"}).json()["data"] == []


@pytest.mark.parametrize(
    ("params", "status", "code", "field"),
    [
        ({}, 400, 10007, "q"),
        ({"q": " "}, 400, 10007, "q"),
        ({"q": "x" * 201}, 400, 10007, "q"),
        ({"q": "x", "types": "products,widgets"}, 400, 10007, "types"),
        ({"q": "x", "pageSize": "0"}, 400, 10015, "pageSize"),
        ({"q": "x", "colour": "red"}, 400, 10007, "colour"),
        ({"q": "x", "language": "xx"}, 400, 10007, "language"),
        ({"q": "x", "language": ""}, 400, 10007, "language"),
        ({"q": "x", "types": ""}, 400, 10007, "types"),
    ],
)
def test_global_search_refuses_bad_parameters(api, params, status, code, field):
    error = envelope_error(api.get("/v2/search", params), status, code)
    assert field in error["fields"]


def test_a_term_without_letters_or_digits_matches_nothing(api, mixed):
    """Punctuation is a valid term with no words: nothing matches (not the whole catalogue,
    and not an error: the term is well-formed)."""
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/v2/search", {"q": ";!🤣"})
    assert response.status_code == 200 and response.json()["data"] == []
    assert not [q for q in queries if "search_text" in q["sql"]]
    response = api.post("/v2/products/search", {"term": "--"})
    assert response.status_code == 200 and response.json()["data"] == []


def test_global_search_costs_one_query_per_surface(api, mixed):
    api.get("/v2/search", {"q": "warm-up"})
    with CaptureQueriesContext(connection) as queries:
        api.get("/v2/search", {"q": "storm"})
    searches = [q for q in queries if "search_text" in q["sql"]]
    assert len(searches) == 3  # products, clusters, categories


def test_global_search_and_resolve_need_search_read(client_with_scopes, anonymous):
    reader = client_with_scopes("products:read", "categories:read")
    envelope_error(reader.get("/v2/search", {"q": "x"}), 403, 10002)
    envelope_error(
        reader.post("/v2/resolve", {"items": [{"type": "product", "id": 1}]}), 403, 10002
    )
    envelope_error(anonymous.get("/v2/search", {"q": "x"}), 401, 10001)


@pytest.fixture
def records():
    jacket = ProductFactory(sku="DUP", supplier="Acme", supplier_code="AC-1")
    twin = ProductFactory(sku="DUP", supplier="Other", supplier_code="AC-1")
    single = ProductFactory(sku="ONE")
    ProductSourceFactory(product=jacket, source="ERP", source_id="A-17")
    ProductSourceFactory(product=twin, source="PIM", source_id="A-17")
    category = CategoryFactory(slug_en="jackets", slug_nl="jassen")
    CategorySource.objects.create(category=category, source="ERP", source_id="A-17")
    return {"jacket": jacket, "twin": twin, "single": single, "category": category}


def test_resolve_answers_every_item_in_order(api, records):
    jacket, twin, single, category = (
        records[k].pk for k in ("jacket", "twin", "single", "category")
    )
    items = [
        {"type": "product", "sourceId": "A-17", "source": "ERP"},
        {"type": "product", "sku": "DUP"},
        {"type": "product", "sku": "ONE"},
        {"type": "product", "id": single},
        {"type": "product", "id": 999999},
        {"type": "product", "sourceId": "A-17"},
        {"type": "product", "sourceId": "A-17", "source": "CRM"},
        {"type": "product", "supplierCode": "AC-1", "supplier": "Acme"},
        {"type": "product", "supplierCode": "AC-1"},
        {"type": "category", "sourceId": "A-17", "source": "ERP"},
        {"type": "category", "id": category},
        {"type": "category", "slug": "jassen", "language": "NL"},
        {"type": "category", "slug": "jassen"},
        {"type": "cluster", "sourceId": "A-17", "source": "ERP"},
        {"type": "clusterOption", "id": 1},
    ]
    response = api.post("/v2/resolve", {"items": items})
    assert response.status_code == 200, response.content
    assert response.json()["data"] == [
        {"index": 0, "found": True, "id": jacket},
        {"index": 1, "found": True, "ids": sorted([jacket, twin])},
        {"index": 2, "found": True, "id": single},
        {"index": 3, "found": True, "id": single},
        {"index": 4, "found": False},
        {"index": 5, "found": True, "ids": sorted([jacket, twin])},
        {"index": 6, "found": False},
        {"index": 7, "found": True, "id": jacket},
        {"index": 8, "found": True, "ids": sorted([jacket, twin])},
        {"index": 9, "found": True, "id": category},
        {"index": 10, "found": True, "id": category},
        {"index": 11, "found": True, "id": category},
        {"index": 12, "found": False},  # slug in the default language (EN) is "jackets"
        {"index": 13, "found": False},  # no cluster has that source id
        {"index": 14, "found": False},
    ]


def test_resolve_runs_one_query_per_type_and_key_whatever_the_item_count(api, records):
    def queries_for(count: int) -> int:
        items = []
        for n in range(count):
            items += [
                {"type": "product", "sku": f"S-{n}"},
                {"type": "product", "id": n + 1},
                {"type": "product", "sourceId": f"A-{n}", "source": "ERP"},
                {"type": "product", "sourceId": f"B-{n}"},
                {"type": "category", "slug": f"c-{n}"},
                {"type": "cluster", "id": n + 1},
            ]
        with CaptureQueriesContext(connection) as captured:
            response = api.post("/v2/resolve", {"items": items})
        assert response.status_code == 200
        assert len(response.json()["data"]) == len(items)
        return len(captured)

    queries_for(1)  # warm-up
    small, large = queries_for(2), queries_for(160)  # 12 and 960 items
    assert small == large


def test_resolve_over_1000_items_is_413(api):
    items = [{"type": "product", "id": 1}] * 1001
    envelope_error(api.post("/v2/resolve", {"items": items}), 413, 10013)
    assert api.post("/v2/resolve", {"items": items[:1000]}).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": [{"type": "widget", "id": 1}]}, "items[0].type"),
        ({"items": [{"id": 1}]}, "items[0].type"),
        ({"items": [{"type": "product", "slug": "x"}]}, "items[0]"),
        ({"items": [{"type": "product", "sku": "A", "id": 1}]}, "items[0]"),
        ({"items": [{"type": "product", "source": "ERP"}]}, "items[0]"),
        ({"items": [{"type": "product", "id": "1"}]}, "items[0].id"),
        ({"items": [{"type": "category", "colour": "red"}]}, "items[0].colour"),
        ({"items": [{"type": "cluster"}]}, "items[0]"),
        ({"items": []}, "items"),
        ({"items": "x"}, "items"),
        ({}, "items"),
        ({"items": [], "extra": 1}, "extra"),
    ],
)
def test_resolve_refuses_malformed_items(api, body, field):
    error = envelope_error(api.post("/v2/resolve", body), 400, 10007)
    assert field in error["fields"], error["fields"]
