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


def by_record(found, entity):
    return {e["recordId"]: e for e in found if e["entity"] == entity}


def test_cluster_products_bulk(api):
    """Nested members: a product created in the cluster has it as its cluster; one brought in
    from another cluster is moved (that cluster's default product is cleared: its event); a
    removed member leaves a tombstone and its cluster's default is cleared (its event)."""
    from tests.clusters.factories import ClusterFactory, members

    home, elsewhere = ClusterFactory(), ClusterFactory()
    [staying, leaving] = members(home, 2)
    [moving] = members(elsewhere, 1)
    home.default_product = leaving
    home.save()
    elsewhere.default_product = moving
    elsewhere.save()
    home.sources.create(source="ERP", source_id="HOME")
    start = cursor(api)
    bulk(
        api,
        f"/v2/clusters/id/{home.pk}/products/bulk",
        {"products": [{"id": moving.pk}, {"id": leaving.pk, "action": "remove"}]},
    )
    bulk(
        api,
        "/v2/clusters/sourceId/HOME/products/bulk?source=ERP",
        {"products": [{"source": "ERP", "sourceId": "NEW", "names": name("New member")}]},
    )
    found = events(api, after=start)
    products, clusters = by_record(found, "product"), by_record(found, "cluster")
    [created] = [e for e in products.values() if e["action"] == "created"]
    assert created["changes"]["cluster"] == {"before": None, "after": {"id": home.pk}}
    assert products[moving.pk]["action"] == "moved"
    assert products[moving.pk]["changes"]["cluster"] == {
        "before": {"id": elsewhere.pk},
        "after": {"id": home.pk},
    }
    assert products[leaving.pk]["action"] == "deleted"
    assert staying.pk not in products
    for cluster, gone in ((home, leaving), (elsewhere, moving)):
        event = clusters[cluster.pk]
        assert event["action"] == "updated"
        assert event["changes"]["defaultProduct"] == {"before": {"id": gone.pk}, "after": None}
    assert len(found) == 5


def test_cluster_options_bulk(api):
    from tests.clusters.factories import ClusterFactory, ClusterOptionFactory

    cluster = ClusterFactory()
    option = ClusterOptionFactory(cluster=cluster)
    cluster.sources.create(source="ERP", source_id="CL")
    start = cursor(api)
    bulk(
        api,
        f"/v2/clusters/id/{cluster.pk}/options/bulk",
        {"options": [{"id": option.pk, "isRequired": True}]},
    )
    bulk(
        api,
        "/v2/clusters/sourceId/CL/options/bulk?source=ERP",
        {"options": [{"source": "ERP", "sourceId": "OP", "names": name("Wrap")}]},
    )
    found = events(api, after=start)
    assert sorted((e["entity"], e["action"]) for e in found) == [
        ("clusterOption", "created"),
        ("clusterOption", "updated"),
    ]
    [updated] = [e for e in found if e["action"] == "updated"]
    assert updated["changes"] == {"isRequired": {"before": False, "after": True}}


def test_option_products_bulk(api):
    """Selecting and unselecting products changes the option (its products; a default product
    that leaves is cleared), never the products."""
    from tests.clusters.factories import ClusterOptionFactory, OptionProductFactory

    option = ClusterOptionFactory()
    kept, dropped, added = ProductFactory(), ProductFactory(), ProductFactory()
    OptionProductFactory(option=option, product=kept, position=1)
    OptionProductFactory(option=option, product=dropped, position=2)
    option.default_product = dropped
    option.save()
    start = cursor(api)
    bulk(
        api,
        f"/v2/clusteroptions/id/{option.pk}/products/bulk",
        {"products": [{"id": added.pk}, {"id": dropped.pk, "action": "remove"}]},
    )
    [event] = events(api, after=start)
    assert (event["entity"], event["action"], event["recordId"]) == (
        "clusterOption",
        "updated",
        option.pk,
    )
    assert event["changes"]["products"] == {
        "before": [{"id": kept.pk}, {"id": dropped.pk}],
        "after": [{"id": kept.pk}, {"id": added.pk}],
    }
    assert event["changes"]["defaultProduct"] == {"before": {"id": dropped.pk}, "after": None}


def test_cluster_bulk_remove(api):
    """A removed cluster: its tombstone, its options' tombstones, its products moved out."""
    from tests.clusters.factories import (
        ClusterFactory,
        ClusterOptionFactory,
        ClusterSourceFactory,
        members,
    )

    cluster = ClusterFactory()
    ClusterSourceFactory(cluster=cluster, source="ERP", source_id="GONE")
    option = ClusterOptionFactory(cluster=cluster)
    [member] = members(cluster, 1)
    start = cursor(api)
    bulk(
        api,
        "/v2/clusters/bulk/sourceId",
        {"clusters": [{"source": "ERP", "sourceId": "GONE", "action": "remove"}]},
    )
    found = events(api, after=start)
    assert by_record(found, "cluster")[cluster.pk]["action"] == "deleted"
    assert by_record(found, "clusterOption")[option.pk]["action"] == "deleted"
    moved = by_record(found, "product")[member.pk]
    assert moved["action"] == "moved"
    assert moved["changes"]["cluster"] == {"before": {"id": cluster.pk}, "after": None}


def test_product_bulk_remove_clears_the_default_of_its_cluster(api):
    from tests.clusters.factories import ClusterFactory, members

    cluster = ClusterFactory()
    [product] = members(cluster, 1)
    product.sources.create(source="ERP", source_id="DEF")
    cluster.default_product = product
    cluster.save()
    start = cursor(api)
    bulk(
        api,
        "/v2/products/bulk/sourceId",
        {"products": [{"source": "ERP", "sourceId": "DEF", "action": "remove"}]},
    )
    found = events(api, after=start)
    assert by_record(found, "product")[product.pk]["action"] == "deleted"
    event = by_record(found, "cluster")[cluster.pk]
    assert event["changes"]["defaultProduct"] == {"before": {"id": product.pk}, "after": None}
    cluster.refresh_from_db()
    assert cluster.default_product_id is None and event["version"] == cluster.version
