"""Cluster bulk endpoints (SPEC §14): clusters with nested products/options and sub-resources."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue.models import Product
from clusters.bulk import CLUSTERS
from clusters.models import Cluster, ClusterOption, ClusterProduct, OptionProduct
from records.bulk import run_bulk
from tests.catalogue.factories import ProductFactory, ProductSourceFactory
from tests.clusters.factories import (
    ClusterConfigFactory,
    ClusterFactory,
    ClusterOptionFactory,
    ClusterSourceFactory,
    members,
)
from tests.conftest import envelope_error
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def names(en):
    return [{"language": "EN", "value": en}]


def post(api, url, body, status=200):
    response = api.post(url, body)
    assert response.status_code == status, response.content
    return response.json()


def cluster_item(sid, config, **fields):
    return {
        "source": "ERP",
        "sourceId": sid,
        "names": names(f"Cluster {sid}"),
        "clusterConfig": {"name": config.name},
        **fields,
    }


def product_item(sid, **fields):
    return {"source": "ERP", "sourceId": sid, "names": names(f"Product {sid}"), **fields}


def test_creates_clusters_with_nested_products_and_options(api):
    config = ClusterConfigFactory()
    home = CategoryFactory()
    moved = ProductFactory(parent=home)
    ProductSourceFactory(product=moved, source="ERP", source_id="P-OLD")
    old_cluster = ClusterFactory()
    ClusterProduct.objects.create(cluster=old_cluster, product=moved)
    old_cluster.default_product = moved
    old_cluster.save()
    body = post(
        api,
        "/v2/clusters/bulk/sourceId",
        {
            "clusters": [
                cluster_item(
                    "C-1",
                    config,
                    parent={"id": home.pk},
                    defaultProduct={"id": moved.pk},
                    products=[product_item("P-1"), {"source": "ERP", "sourceId": "P-OLD"}],
                    options=[
                        {
                            "source": "ERP",
                            "sourceId": "O-1",
                            "names": names("Gift wrap"),
                            "products": [product_item("P-2")],
                        }
                    ],
                )
            ]
        },
    )
    assert body["summary"] == {"create": 1, "update": 0, "skip": 0, "remove": 0, "error": 0}
    assert body["messages"][0] == "1 created, 0 updated, 0 skipped, 0 removed, 0 failed"
    outcome = body["data"][0]
    assert outcome["action"] == "create" and outcome["success"]
    assert [p["action"] for p in outcome["products"]] == ["create", "update"]
    assert [p["index"] for p in outcome["products"]] == [0, 1]
    assert outcome["options"][0]["action"] == "create"
    assert outcome["options"][0]["products"][0]["action"] == "create", str(outcome)
    cluster = Cluster.objects.get(pk=outcome["id"])
    assert cluster.parent_id == home.pk and cluster.default_product_id == moved.pk
    assert set(cluster.memberships.values_list("product_id", flat=True)) == {
        moved.pk,
        outcome["products"][0]["id"],
    }
    moved.refresh_from_db()
    assert moved.parent_id is None
    old_cluster.refresh_from_db()
    assert old_cluster.default_product_id is None
    option = ClusterOption.objects.get(pk=outcome["options"][0]["id"])
    assert option.cluster_id == cluster.pk
    assert list(
        OptionProduct.objects.filter(option=option).values_list("product_id", flat=True)
    ) == [outcome["options"][0]["products"][0]["id"]]
    # the same request again changes nothing
    again = post(
        api,
        "/v2/clusters/bulk/sourceId",
        {
            "clusters": [
                cluster_item("C-1", config, parent={"id": home.pk}, products=[product_item("P-1")])
            ]
        },
    )
    assert again["data"][0]["action"] == "skip" and again["data"][0]["reason"] == "unchanged"
    assert again["data"][0]["products"][0]["action"] == "skip"


def test_item_errors_versions_repeats_and_code_key(api):
    config = ClusterConfigFactory()
    stale = ClusterFactory(code="K-1", cluster_config=config)
    body = post(
        api,
        "/v2/clusters/bulk/code",
        {
            "clusters": [
                {"code": "K-1", "version": stale.version + 5, "hidden": True},
                {"code": "K-2", "names": names("New"), "clusterConfig": {"name": "nope"}},
                {"code": "K-3", "names": names("New")},
                {"code": "K-3", "names": names("Again"), "clusterConfig": {"id": config.pk}},
                {"names": names("No key")},
                {"code": "K-4", "names": names("ok"), "clusterConfig": {"id": config.pk}},
            ]
        },
    )
    codes = [o.get("error", {}).get("code") for o in body["data"]]
    assert codes == [10014, 21005, 10007, 10020, 10016, None]
    assert body["summary"]["create"] == 1 and body["summary"]["error"] == 5
    assert Cluster.objects.filter(code="K-4").exists()


def test_default_product_must_be_a_member(api):
    cluster = ClusterFactory()
    ClusterSourceFactory(cluster=cluster, source="ERP", source_id="C-9")
    outsider = ProductFactory()
    body = post(
        api,
        "/v2/clusters/bulk/sourceId",
        {"clusters": [{"source": "ERP", "sourceId": "C-9", "defaultProduct": {"id": outsider.pk}}]},
    )
    assert body["data"][0]["error"]["code"] == 10017


def test_nested_errors_atomic_and_dry_run(api):
    config = ClusterConfigFactory()
    payload = {
        "clusters": [
            cluster_item(
                "C-1", config, products=[product_item("P-1"), {"source": "ERP", "sourceId": "X"}]
            ),
        ]
    }
    dry = post(api, "/v2/clusters/bulk/sourceId?dryRun=true", payload)
    assert dry["data"][0]["products"][1]["error"]["code"] == 10007  # create lacks names
    assert dry["data"][0]["products"][0]["action"] == "create"
    assert not Cluster.objects.exists() and not Product.objects.exists()
    atomic = post(api, "/v2/clusters/bulk/sourceId?atomic=true", payload, status=422)
    assert atomic["data"][0]["reason"] == "rolledBack"
    assert not Cluster.objects.exists() and not Product.objects.exists()
    plain = post(api, "/v2/clusters/bulk/sourceId", payload)
    assert plain["data"][0]["success"] and plain["data"][0]["products"][1]["success"] is False
    assert Product.objects.count() == 1


def test_nested_items_under_a_failed_cluster_fail(api):
    body = post(
        api,
        "/v2/clusters/bulk/sourceId",
        {
            "clusters": [
                {
                    "source": "ERP",
                    "sourceId": "C-1",
                    "names": names("x"),
                    "clusterConfig": {"id": 999999},
                    "products": [product_item("P-1")],
                }
            ]
        },
    )
    assert body["data"][0]["error"]["code"] == 21005
    assert body["data"][0]["products"][0]["error"]["code"] == 10017
    assert not Product.objects.exists()


def test_limits_413_and_nothing_written(api, envelope_error=envelope_error):
    config = ClusterConfigFactory()
    too_many = [product_item(f"P-{i}") for i in range(2001)]
    response = api.post(
        "/v2/clusters/bulk/sourceId", {"clusters": [cluster_item("C-1", config, products=too_many)]}
    )
    envelope_error(response, 413, 10013)
    assert not Cluster.objects.exists()
    response = api.post(
        "/v2/clusters/bulk/sourceId",
        {"clusters": [cluster_item(f"C-{i}", config) for i in range(1001)]},
    )
    envelope_error(response, 413, 10013)


def test_remove_clusters_keeps_products(api):
    cluster = ClusterFactory()
    [product] = members(cluster, 1)
    body = post(
        api,
        "/v2/clusters/bulk/id",
        {"clusters": [{"id": cluster.pk, "action": "remove"}, {"id": 999999, "action": "remove"}]},
    )
    assert [o["action"] for o in body["data"]] == ["remove", "error"]
    assert body["data"][1]["error"]["code"] == 20006
    assert not Cluster.objects.filter(pk=cluster.pk).exists()
    assert Product.objects.get(pk=product.pk).version == product.version + 1


def test_scopes(client_with_scopes):
    client = client_with_scopes("clusters:write")
    response = client.post("/v2/clusters/bulk/id", {"clusters": [{"id": 1}]})
    assert response.status_code == 403
    cluster = ClusterFactory()
    option = ClusterOptionFactory(cluster=cluster)
    client = client_with_scopes("bulk:write", "clusters:write")
    assert (
        client.post(
            f"/v2/clusteroptions/id/{option.pk}/products/bulk", {"products": [{"id": 1}]}
        ).status_code
        == 403
    )


def test_cluster_products_bulk(api):
    cluster = ClusterFactory()
    other = ClusterFactory()
    [moving] = members(other, 1)
    ProductSourceFactory(product=moving, source="ERP", source_id="M-1")
    outsider = ProductFactory()
    ProductSourceFactory(product=outsider, source="ERP", source_id="O-1")
    body = post(
        api,
        f"/v2/clusters/id/{cluster.pk}/products/bulk",
        {
            "products": [
                {"id": moving.pk},
                {"id": outsider.pk, "action": "remove"},
                {"id": 99999999},
                {"id": moving.pk},
            ]
        },
    )
    assert [o["action"] for o in body["data"]] == ["update", "error", "error", "error"]
    assert [o.get("error", {}).get("code") for o in body["data"]] == [None, 20010, 80006, 10020]
    assert ClusterProduct.objects.get(product=moving).cluster_id == cluster.pk
    body = post(
        api,
        f"/v2/clusters/id/{cluster.pk}/products/bulk",
        {"products": [{"id": moving.pk, "parent": {"id": CategoryFactory().pk}}]},
    )
    assert body["data"][0]["error"]["code"] == 10017
    ClusterSourceFactory(cluster=cluster, source="ERP", source_id="CL")
    body = post(
        api,
        "/v2/clusters/sourceId/CL/products/bulk?source=ERP",
        {"products": [product_item("N-1"), {"source": "ERP", "sourceId": "N-2"}]},
    )
    assert [o["action"] for o in body["data"]] == ["create", "error"]
    assert ClusterProduct.objects.filter(cluster=cluster).count() == 2
    response = api.post("/v2/clusters/id/999999/products/bulk", {"products": [{"id": 1}]})
    envelope_error(response, 404, 20007)
    response = api.post("/v2/clusters/sourceId/CL/products/bulk?source=", {"products": []})
    assert "source" in envelope_error(response, 400, 10007)["fields"]


def test_cluster_options_bulk(api):
    cluster = ClusterFactory()
    mine = ClusterOptionFactory(cluster=cluster)
    theirs = ClusterOptionFactory()
    body = post(
        api,
        f"/v2/clusters/id/{cluster.pk}/options/bulk",
        {"options": [{"id": mine.pk, "isRequired": True}, {"id": theirs.pk, "hidden": True}]},
    )
    assert [o["action"] for o in body["data"]] == ["update", "error"]
    assert body["data"][1]["error"]["code"] == 22006
    ClusterSourceFactory(cluster=cluster, source="ERP", source_id="CL")
    body = post(
        api,
        "/v2/clusters/sourceId/CL/options/bulk?source=ERP",
        {
            "options": [{"source": "ERP", "sourceId": "OP-1", "names": names("Wrap")}],
            "directives": {"skipCreate": True},
        },
    )
    assert body["data"][0]["action"] == "skip" and body["data"][0]["reason"] == "skipCreate"
    body = post(
        api,
        "/v2/clusters/sourceId/CL/options/bulk?source=ERP",
        {"options": [{"source": "ERP", "sourceId": "OP-1", "names": names("Wrap")}]},
    )
    assert body["data"][0]["action"] == "create"
    assert ClusterOption.objects.get(pk=body["data"][0]["id"]).cluster_id == cluster.pk
    response = api.post(
        f"/v2/clusters/id/{cluster.pk}/options/bulk",
        {"options": [{"id": mine.pk}] * 1001},
    )
    envelope_error(response, 413, 10013)


def test_option_products_bulk(api):
    option = ClusterOptionFactory()
    existing = ProductFactory()
    body = post(
        api,
        f"/v2/clusteroptions/id/{option.pk}/products/bulk",
        {"products": [{"id": existing.pk}, {"id": existing.pk, "version": 1}]},
    )
    assert [o["action"] for o in body["data"]] == ["update", "error"]
    assert list(
        OptionProduct.objects.filter(option=option).values_list("product_id", flat=True)
    ) == [existing.pk]
    again = post(
        api, f"/v2/clusteroptions/id/{option.pk}/products/bulk", {"products": [{"id": existing.pk}]}
    )
    assert again["data"][0]["action"] == "skip"


def _payload(n, start, config):
    return {
        "clusters": [
            {
                **cluster_item(f"C-{start + i}", config),
                "products": [product_item(f"P-{start + i}")],
                "options": [
                    {
                        "source": "ERP",
                        "sourceId": f"O-{start + i}",
                        "names": names("Option"),
                        "products": [product_item(f"OP-{start + i}")],
                    }
                ],
            }
            for i in range(n)
        ]
    }


def test_statement_count_does_not_grow_with_the_number_of_clusters():
    """1, 100 and 1000 clusters, each with a product and an option with a product: created, then
    sent again with changes (updates of every level), cost the same number of statements."""
    config = ClusterConfigFactory()
    counts = {}
    for n, start in ((1, 0), (100, 1000), (1000, 100000)):
        for phase in ("create", "update"):
            payload = _payload(n, start, config)
            if phase == "update":
                for cluster in payload["clusters"]:
                    cluster["hidden"] = True
                    cluster["products"][0]["priority"] = 5
                    cluster["options"][0]["isRequired"] = True
                    cluster["options"][0]["products"][0]["priority"] = 5
            with CaptureQueriesContext(connection) as queries:
                result = run_bulk(CLUSTERS, payload, lookup_key="sourceId")
            assert not result.any_failed
            assert {i.result for i in result.items} == {phase}
            counts[n, phase] = len(queries.captured_queries)
    for phase in ("create", "update"):
        assert counts[1, phase] == counts[100, phase] == counts[1000, phase], counts
    assert max(counts.values()) <= 32, counts  # PostgreSQL: 32 creating, 23 updating
    assert Cluster.objects.count() == 1101 and Product.objects.count() == 2202
    assert ClusterProduct.objects.count() == 1101 and OptionProduct.objects.count() == 1101
    assert Product.objects.filter(priority=5).count() == 2202


def test_directives_on_clusters_and_nested_items(api):
    config = ClusterConfigFactory()
    first, second = CategoryFactory(), CategoryFactory()
    cluster = ClusterFactory(cluster_config=config, parent=first, code="")
    cluster.name_nl = "Oud"
    cluster.save()
    ClusterSourceFactory(cluster=cluster, source="ERP", source_id="C-1")
    body = post(
        api,
        "/v2/clusters/bulk/sourceId",
        {
            "clusters": [
                {
                    "source": "ERP",
                    "sourceId": "C-1",
                    "parent": {"id": second.pk},
                    "names": [{"language": "EN", "value": "New"}],
                    "code": "SET",
                },
                cluster_item("C-NEW", config, products=[product_item("P-NEW")]),
            ],
            "directives": [
                {"operation": "skipMoveOnUpdate"},
                {"operation": "skipIfNotEmpty", "fields": ["code"]},
                {"operation": "mergeTranslationsOnUpdate"},
                {"operation": "skipCreate"},
            ],
        },
    )
    assert [o["action"] for o in body["data"]] == ["update", "skip"]
    assert body["data"][1]["reason"] == "skipCreate"
    assert body["data"][1]["products"][0]["action"] == "skip"
    assert body["data"][1]["products"][0]["reason"] == "skipCreate"
    cluster.refresh_from_db()
    assert cluster.parent_id == first.pk  # skipMoveOnUpdate
    assert cluster.code == "SET"  # empty before, so written
    assert cluster.name_en == "New" and cluster.name_nl is None  # replaced translations
    assert not Cluster.objects.filter(sources__source_id="C-NEW").exists()
    assert not Product.objects.exists()
    again = post(
        api,
        "/v2/clusters/bulk/sourceId",
        {
            "clusters": [{"source": "ERP", "sourceId": "C-1", "code": "OTHER"}],
            "directives": {"skipIfNotEmpty": ["code"]},
        },
    )
    assert again["data"][0]["action"] == "skip" and again["data"][0]["reason"] == "unchanged"


def test_atomic_with_only_a_nested_failure_rolls_back(api):
    config = ClusterConfigFactory()
    body = post(
        api,
        "/v2/clusters/bulk/sourceId?atomic=true",
        {"clusters": [cluster_item("C-1", config, options=[{"source": "ERP", "sourceId": "O"}])]},
        status=422,
    )
    assert body["summary"]["error"] == 0
    assert body["messages"][1] == "Atomic request: a nested item failed, so nothing was written."
    assert body["data"][0]["options"][0]["error"]["code"] == 10007
    assert body["data"][0]["id"] is None
    assert not Cluster.objects.exists()


def test_default_products_may_come_from_the_nested_items(api):
    config = ClusterConfigFactory()
    member = ProductFactory()
    ProductSourceFactory(product=member, source="ERP", source_id="M")
    choice = ProductFactory()
    ProductSourceFactory(product=choice, source="ERP", source_id="CH")
    stale = ProductFactory()
    ProductSourceFactory(product=stale, source="ERP", source_id="ST")
    body = post(
        api,
        "/v2/clusters/bulk/sourceId",
        {
            "clusters": [
                cluster_item(
                    "C-1",
                    config,
                    defaultProduct={"id": member.pk},
                    products=[{"source": "ERP", "sourceId": "M"}],
                    options=[
                        {
                            "source": "ERP",
                            "sourceId": "O-1",
                            "names": names("Wrap"),
                            "defaultProduct": {"id": choice.pk},
                            "products": [{"source": "ERP", "sourceId": "CH"}],
                        }
                    ],
                ),
                # the nested item naming the default fails (stale version): so does the cluster
                cluster_item(
                    "C-2",
                    config,
                    defaultProduct={"id": stale.pk},
                    products=[{"source": "ERP", "sourceId": "ST", "version": 99}],
                ),
            ]
        },
    )
    first, second = body["data"]
    assert first["action"] == "create", first
    cluster = Cluster.objects.get(pk=first["id"])
    assert cluster.default_product_id == member.pk
    assert first["options"][0]["action"] == "create", str(body)
    option = ClusterOption.objects.get(pk=first["options"][0]["id"])
    assert option.default_product_id == choice.pk
    assert second["error"]["code"] == 10017
    assert second["products"][0]["error"]["code"] == 10014
