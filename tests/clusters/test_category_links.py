"""Clusters in category relationships (SPEC §10.1): linking, reading, and category delete."""

from __future__ import annotations

import pytest

from catalogue.models import ProductCategory
from clusters.models import ClusterCategory
from tests.catalogue.factories import ProductFactory
from tests.clusters.factories import (
    ClusterCategoryFactory,
    ClusterFactory,
    ClusterSourceFactory,
)
from tests.conftest import envelope_error
from tests.taxonomy.members import (
    CATEGORY_FILTER_CASES,
    MemberKind,
    add,
    check_members_with_primary_flags,
    found_by_category_filter,
    remove,
)

pytestmark = pytest.mark.django_db

KIND = MemberKind("clusters", "code", "C", ClusterFactory, ClusterCategory, "cluster")
listed, linked_ids = KIND.listed, KIND.linked_ids


def codes(response) -> list[tuple[str, int, str, int | None]]:
    assert response.status_code == 200, response.content
    return [
        (o["type"], o["index"], o["action"], o.get("error", {}).get("code"))
        for o in response.json()["data"]
    ]


def test_add_clusters_by_every_lookup(api, shelf):
    _, shoes, _, _ = shelf
    by_id, by_source, by_code = ClusterFactory(), ClusterFactory(), ClusterFactory(code="OX-1")
    ClusterSourceFactory(cluster=by_source, source="ERP", source_id="CL-17")
    response = add(
        api,
        shoes,
        {"clusters": [{"id": by_id.pk}, {"sourceId": "CL-17", "source": "ERP"}, {"code": "OX-1"}]},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["messages"] == ["3 added, 0 failed"]
    assert body["data"] == [
        {
            "index": 0,
            "type": "cluster",
            "lookupKey": "id",
            "key": by_id.pk,
            "id": by_id.pk,
            "action": "add",
            "success": True,
        },
        {
            "index": 1,
            "type": "cluster",
            "lookupKey": "sourceId",
            "key": "CL-17",
            "id": by_source.pk,
            "action": "add",
            "success": True,
        },
        {
            "index": 2,
            "type": "cluster",
            "lookupKey": "code",
            "key": "OX-1",
            "id": by_code.pk,
            "action": "add",
            "success": True,
        },
    ]
    assert linked_ids(shoes) == {by_id.pk, by_source.pk, by_code.pk}


def test_add_outcome_codes_one_bad_item_never_blocks_the_others(api, shelf):
    _, shoes, _, _ = shelf
    good, linked, homed = ClusterFactory(), ClusterFactory(), ClusterFactory(parent=shoes)
    ClusterCategoryFactory(cluster=linked, category=shoes)
    product = ProductFactory()
    response = add(
        api,
        shoes,
        {
            "products": [{"id": product.pk}],
            "clusters": [
                {"id": 999999},
                {"sourceId": "nope", "source": "ERP"},
                {"code": "NOPE"},
                {"sku": "X"},
                {"id": good.pk},
                {"code": "X", "id": good.pk},
                {"id": good.pk},
                {"id": linked.pk},
                {"id": homed.pk},
            ],
        },
    )
    assert codes(response) == [
        ("product", 0, "add", None),
        ("cluster", 0, "error", 20006),
        ("cluster", 1, "error", 20006),
        ("cluster", 2, "error", 20006),
        ("cluster", 3, "error", 10007),
        ("cluster", 4, "add", None),
        ("cluster", 5, "error", 10007),  # two keys in one lookup
        ("cluster", 6, "error", 10020),
        ("cluster", 7, "error", 30010),
        ("cluster", 8, "error", 30010),
    ]
    body = response.json()
    assert body["messages"] == ["2 added, 8 failed"]
    outcomes = [o for o in body["data"] if o["type"] == "cluster"]
    missing = outcomes[1]
    assert missing["id"] is None and missing["success"] is False
    assert missing["error"]["type"] == "ClusterNotFound" and missing["error"]["status"] == 404
    assert missing["error"]["messages"] == [
        "Cluster with sourceId [nope] and source [ERP] not found."
    ]
    assert missing["error"]["moreInfo"].endswith("/docs/errors#20006")
    assert outcomes[2]["error"]["messages"] == ["Cluster with code [NOPE] not found."]
    assert "clusters[3]" in outcomes[3]["error"]["fields"]
    assert outcomes[7]["error"]["messages"] == [
        f"Cluster [{linked.pk}] is already linked to category [{shoes.pk}]."
    ]
    assert outcomes[8]["id"] == homed.pk
    assert "primary category" in outcomes[8]["error"]["messages"][0]
    assert linked_ids(shoes) == {good.pk, linked.pk}
    assert set(
        ProductCategory.objects.filter(category=shoes).values_list("product_id", flat=True)
    ) == {product.pk}


def test_remove_outcome_codes(api, shelf):
    _, shoes, _, _ = shelf
    linked, unlinked, homed = ClusterFactory(), ClusterFactory(), ClusterFactory(parent=shoes)
    ClusterCategoryFactory(cluster=linked, category=shoes)
    response = remove(
        api,
        shoes,
        {
            "clusters": [
                {"id": linked.pk},
                {"id": unlinked.pk},
                {"id": homed.pk},
                {"code": "NOPE"},
                {"id": linked.pk},
            ]
        },
    )
    assert codes(response) == [
        ("cluster", 0, "remove", None),
        ("cluster", 1, "error", 30011),
        ("cluster", 2, "error", 30012),
        ("cluster", 3, "error", 20006),
        ("cluster", 4, "error", 10020),
    ]
    assert response.json()["messages"] == ["1 removed, 4 failed"]
    outcomes = response.json()["data"]
    assert outcomes[1]["error"]["type"] == "CategoryRelationNotFound"
    assert outcomes[2]["error"]["type"] == "PrimaryCategoryRelation"
    assert outcomes[2]["error"]["status"] == 422
    assert linked_ids(shoes) == set()
    # removing again: the link is gone
    assert codes(remove(api, shoes, {"clusters": [{"id": linked.pk}]})) == [
        ("cluster", 0, "error", 30011)
    ]


def test_clusters_count_towards_the_100_item_limit(api, shelf):
    clusters = ClusterFactory.create_batch(2)
    products = ProductFactory.create_batch(99)
    body = {
        "products": [{"id": p.pk} for p in products],
        "clusters": [{"id": c.pk} for c in clusters],
    }
    envelope_error(add(api, shelf[1], body), 413, 10013)
    assert linked_ids(shelf[1]) == set()


# -- reading links --------------------------------------------------------------------------


def test_clusters_of_a_category_with_primary_flags(api, stocked):
    root, shoes, boots, other = stocked["categories"]
    path = check_members_with_primary_flags(api, KIND, stocked)
    assert listed(api.get(path, {"sort": "code"})) == [("C-SECOND", False), ("C-SHOES", True)]
    data = api.get(path, {"expands": "categories,clusterConfig"}).json()["data"]
    assert data[0]["categories"] == [other.pk] and data[0]["parent"] == {"id": shoes.pk}
    assert "settings" in data[0]["clusterConfig"]
    envelope_error(api.get(path, {"includeDescendants": "yes"}), 400, 10007)
    envelope_error(api.get(path, {"sort": "sku"}), 400, 10007)
    envelope_error(api.get(path, {"expands": "variants"}), 400, 10007)


def test_clusters_of_a_category_by_source_lookup(api, stocked):
    from tests.taxonomy.factories import CategorySourceFactory

    boots = stocked["categories"][2]
    CategorySourceFactory(category=boots, source="ERP", source_id="BOOTS")
    response = api.get("/v2/categories/sourceId/BOOTS/clusters", {"source": "ERP"})
    assert listed(response) == [("C-BOOTS", True), ("C-DEEP", False)]
    envelope_error(api.get("/v2/categories/id/999999/clusters"), 404, 30007)


@pytest.mark.parametrize(("category", "descendants", "expected"), CATEGORY_FILTER_CASES)
def test_cluster_list_category_filter_covers_primary_and_secondary(
    api, stocked, category, descendants, expected
):
    assert found_by_category_filter(api, KIND, stocked, category, descendants) == expected


def test_cluster_expands_categories(api, stocked):
    root, shoes, boots, other = stocked["categories"]
    cluster = stocked["shoes"]
    ClusterCategoryFactory(cluster=cluster, category=boots)
    data = api.get(f"/v2/clusters/id/{cluster.pk}", {"expands": "categories"}).json()["data"]
    assert data["categories"] == sorted([other.pk, boots.pk])
    assert "categories" not in api.get(f"/v2/clusters/id/{cluster.pk}").json()["data"]


# -- category delete ----------------------------------------------------------------------


def test_delete_refused_while_clusters_are_linked(api, stocked):
    root, shoes, boots, other = stocked["categories"]
    error = envelope_error(api.delete(f"/v2/categories/id/{boots.pk}"), 409, 30008)
    assert error["messages"] == [
        f"Category [{boots.pk}] cannot be deleted: it holds 0 children, 0 products and 2 clusters."
    ]
    product = ProductFactory(parent=other)
    error = envelope_error(api.delete(f"/v2/categories/id/{other.pk}"), 409, 30008)
    assert error["messages"] == [
        f"Category [{other.pk}] cannot be deleted: it holds 0 children, 1 products and 3 clusters."
    ]
    # the primary link goes with the cluster, the secondary one through remove
    assert api.delete(f"/v2/clusters/id/{stocked['boots'].pk}").status_code == 200
    error = envelope_error(api.delete(f"/v2/categories/id/{boots.pk}"), 409, 30008)
    assert "0 products and 1 clusters" in error["messages"][0]
    assert codes(remove(api, boots, {"clusters": [{"id": stocked["deep"].pk}]})) == [
        ("cluster", 0, "remove", None)
    ]
    assert api.delete(f"/v2/categories/id/{boots.pk}").status_code == 200
    assert product.pk  # untouched by the refusals


def test_moving_a_cluster_to_another_primary_category_frees_the_old_one(api, stocked):
    root, shoes, boots, other = stocked["categories"]
    ClusterCategory.objects.filter(category=boots).delete()
    cluster = stocked["boots"]
    response = api.patch(f"/v2/clusters/id/{cluster.pk}", {"parent": {"id": other.pk}})
    assert response.status_code == 200
    assert api.delete(f"/v2/categories/id/{boots.pk}").status_code == 200


def test_deleting_a_cluster_removes_its_links(api, stocked):
    shoes = stocked["categories"][1]
    api.delete(f"/v2/clusters/id/{stocked['second'].pk}")
    assert linked_ids(shoes) == set()
