"""Bulk routes append one change event per created, changed or deleted record, with a constant
number of statements, from the rows the bulk path read (SPEC §19 with §14)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.api.scopes import ALL_SCOPES
from tests.catalogue.factories import ProductFactory
from tests.changes.helpers import cursor, events
from tests.clusters.factories import ClusterConfigFactory
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(client_with_scopes):
    return client_with_scopes(*ALL_SCOPES)


def bulk(api, path, body):
    response = api.post(path, body)
    assert response.status_code == 200, response.content
    return response.json()["data"]


def name(value):
    return [{"language": "EN", "value": value}]


def test_product_bulk(api):
    kept = ProductFactory(sku="K")
    kept.sources.create(source="ERP", source_id="K")
    gone = ProductFactory(sku="G")
    gone.sources.create(source="ERP", source_id="G")
    same = ProductFactory(sku="S", name_en="Same")
    same.sources.create(source="ERP", source_id="S")
    bulk(
        api,
        "/v2/products/bulk/sourceId",
        {
            "products": [
                {"source": "ERP", "sourceId": "N", "names": name("New"), "sku": "N1"},
                {"source": "ERP", "sourceId": "K", "sku": "K2", "attributes": [{"name": "SIZE", "value": "M"}]},
                {"source": "ERP", "sourceId": "G", "action": "remove"},
                {"source": "ERP", "sourceId": "S", "names": name("Same")},
            ]
        },
    )  # fmt: skip
    found = {e["keys"]["sources"][0]["sourceId"]: e for e in events(api)}
    assert set(found) == {"N", "K", "G"}  # the unchanged item appends nothing
    assert found["N"]["action"] == "created" and found["N"]["changes"]["sku"]["after"] == "N1"
    assert found["N"]["changes"]["sources"]["after"] == [{"source": "ERP", "sourceId": "N"}]
    updated = found["K"]
    assert updated["action"] == "updated" and updated["version"] == 2
    assert updated["changes"]["sku"] == {"before": "K", "after": "K2"}
    assert updated["changes"]["attributes"]["after"] == [{"name": "SIZE", "value": "M"}]
    tombstone = found["G"]
    assert tombstone["action"] == "deleted" and tombstone["recordId"] == gone.pk
    assert tombstone["keys"] == {"sources": [{"source": "ERP", "sourceId": "G"}], "sku": "G"}
    assert {e["actor"]["id"] for e in found.values()} == {api.client_id}


def insert_statements(queries) -> int:
    """Statements appending events: an INSERT (SQLite) or a COPY (PostgreSQL)."""
    return sum(
        '"changes_changeevent"' in q["sql"] and q["sql"].startswith(("INSERT", "COPY"))
        for q in queries
    )


@pytest.mark.parametrize("count", [10, 300])
def test_product_bulk_appends_its_events_with_one_statement(api, count):
    items = [{"sourceId": f"P{i}", "source": "ERP", "names": name(f"P{i}")} for i in range(count)]
    with CaptureQueriesContext(connection) as queries:
        bulk(api, "/v2/products/bulk/sourceId", {"products": items})
    assert insert_statements(queries.captured_queries) == 1
    assert len(events(api)) == count


def test_category_bulk_reparenting_is_a_move(api):
    root, other = CategoryFactory(), CategoryFactory()
    leaf = CategoryFactory(parent=root)
    leaf.sources.create(source="ERP", source_id="L")
    start = cursor(api)
    bulk(
        api,
        "/v2/categories/bulk/sourceId",
        {"categories": [{"source": "ERP", "sourceId": "L", "parent": {"id": other.pk}}]},
    )
    (event,) = events(api, after=start)
    assert (event["action"], event["recordId"]) == ("moved", leaf.pk)
    assert event["changes"]["parent"] == {"before": {"id": root.pk}, "after": {"id": other.pk}}


def test_cluster_bulk_with_nested_products_and_options(api):
    config = ClusterConfigFactory()
    bulk(
        api,
        "/v2/clusters/bulk/sourceId",
        {
            "clusters": [
                {
                    "source": "ERP", "sourceId": "C1", "names": name("Tee"),
                    "clusterConfig": {"id": config.pk},
                    "products": [{"source": "ERP", "sourceId": "CP1", "names": name("Tee S")}],
                    "options": [{"source": "ERP", "sourceId": "O1", "names": name("Wrap")}],
                }
            ]
        },
    )  # fmt: skip
    kinds = sorted((e["entity"], e["action"]) for e in events(api))
    assert ("cluster", "created") in kinds
    assert ("product", "created") in kinds
    assert ("clusterOption", "created") in kinds


def test_a_dry_run_appends_nothing(api):
    response = api.post(
        "/v2/products/bulk/sourceId?dryRun=true",
        {"products": [{"sourceId": "D", "source": "ERP", "names": name("D")}]},
    )
    assert response.status_code == 200, response.content
    assert events(api) == []
