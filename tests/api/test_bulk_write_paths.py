"""Bulk writes keep the rules other write paths keep: the search document, one primary home."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def search_ids(api, path, term):
    response = api.post(path, {"term": term})
    assert response.status_code == 200, response.content
    return [hit["id"] for hit in response.json()["data"]]


def test_bulk_created_and_updated_products_are_found_by_term(api):
    body = {
        "products": [
            {
                "source": "ERP",
                "sourceId": "B-1",
                "names": [{"language": "EN", "value": "Crème Parka"}],
            },
            {
                "source": "ERP",
                "sourceId": "B-2",
                "names": [{"language": "EN", "value": "Rain Boot"}],
            },
        ]
    }
    outcomes = api.post("/v2/products/bulk/sourceId", body).json()["data"]
    parka, boot = (o["id"] for o in outcomes)
    assert search_ids(api, "/v2/products/search", "creme parka") == [parka]
    assert search_ids(api, "/v2/products/search", "B-2") == [boot]
    update = {
        "products": [
            {
                "source": "ERP",
                "sourceId": "B-2",
                "names": [{"language": "NL", "value": "Regenlaars"}],
            }
        ]
    }
    assert api.post("/v2/products/bulk/sourceId", update).status_code == 200
    assert search_ids(api, "/v2/products/search", "regenlaars") == [boot]


def test_bulk_created_categories_are_found_by_term(api):
    body = {
        "categories": [
            {
                "source": "ERP",
                "sourceId": "C-9",
                "names": [{"language": "EN", "value": "Outerwear"}],
            },
        ]
    }
    outcome = api.post("/v2/categories/bulk/sourceId", body).json()["data"][0]
    assert search_ids(api, "/v2/categories/search", "outerwear") == [outcome["id"]]


def test_bulk_parent_on_a_clustered_product_is_an_item_error(api):
    from tests.clusters.factories import ClusterFactory, ClusterProductFactory

    membership = ClusterProductFactory(cluster=ClusterFactory())
    product = membership.product
    category = api.post("/v2/categories", {"names": [{"language": "EN", "value": "Boots"}]})
    body = {"products": [{"id": product.pk, "parent": {"id": category.json()["data"]["id"]}}]}
    outcome = api.post("/v2/products/bulk/id", body).json()["data"][0]
    assert outcome["action"] == "error"
    assert outcome["error"]["code"] == 10017
