from __future__ import annotations

import pytest

from catalogue.models import Product
from clusters.models import ClusterOption, ClusterProduct, OptionProduct
from tests.catalogue.factories import ProductFactory, ProductSourceFactory
from tests.clusters.factories import (
    ClusterFactory,
    ClusterOptionFactory,
    OptionProductFactory,
)
from tests.conftest import envelope_error
from tests.resources import (
    BulkCost,
    Context,
    Cost,
    Lookup,
    Resource,
    localized,
    many_sourced,
    resource_tests,
)

pytestmark = pytest.mark.django_db

GIFT_WRAP = {
    "names": [{"language": "EN", "value": "Gift wrap"}, {"language": "DE", "value": "Geschenk"}],
    "descriptions": [{"language": "EN", "value": "Wrapped by hand"}],
    "shortDescriptions": [{"language": "EN", "value": "Wrapped"}],
    "isRequired": True,
    "priority": 3,
    "source": "ERP",
    "sourceId": "OPT-1",
}


@pytest.fixture
def cluster():
    return ClusterFactory(code="OX")


def seed_options(ctx, n: int) -> ClusterOption:
    """``n`` options of the context's cluster with two products each; the last one holds ``n``
    more; every product with a source."""
    for _ in range(n):
        option = ClusterOptionFactory(cluster=ctx.cluster)
        OptionProductFactory.create_batch(2, option=option)
    OptionProductFactory.create_batch(n, option=option)
    for product in Product.objects.filter(sources=None):
        ProductSourceFactory(product=product)
    return option


OPTION = Resource(
    noun="Cluster option",
    # created inside a cluster (by code: any cluster lookup key works), read at top level
    collection="/v2/clusters/code/{cluster.code}/options",
    detail="/v2/clusteroptions",
    scope="cluster-options",
    not_found=22006,
    context=lambda: Context(cluster=ClusterFactory(code="OX")),
    create=lambda ctx: GIFT_WRAP,
    created=lambda ctx: {
        "cluster": {"id": ctx.cluster.pk},
        **{k: GIFT_WRAP[k] for k in ("names", "descriptions", "shortDescriptions", "priority")},
        **{"isRequired": True, "hidden": False, "defaultProduct": None},
        "sources": [{"source": "ERP", "sourceId": "OPT-1"}],
    },
    absent=("products", "slugs"),
    update={"priority": 9, "isRequired": False},
    updated={"priority": 9, "isRequired": False},
    lookups=(Lookup("sourceId", "OPT-1", {"source": "ERP"}),),
    seed=seed_options,
    translation="DE",
    costs=(
        # token + option + sources
        Cost("detail", "/v2/clusteroptions/id/{row.pk}", 3),
        # token + cluster + options + sources (+ product links)
        Cost("list", "/v2/clusters/id/{cluster.pk}/options", 4, {"pageSize": "100"}),
        Cost(
            "list-expanded",
            "/v2/clusters/id/{cluster.pk}/options",
            5,
            {"pageSize": "100", "expands": "products"},
            check=lambda body: all(o["products"] for o in body["data"]),
        ),
        # token + option + links + products (membership joined) + sources + attributes
        Cost("products", "/v2/clusteroptions/id/{row.pk}/products", 6, {}, many_sourced),
    ),
    bulk=BulkCost(
        "/v2/clusters/code/{cluster.code}/options/bulk",
        "options",
        lambda i, ctx: {"source": "ERP", "sourceId": f"O{i}", "names": localized(EN=f"O {i}")},
        statements=12,  # PostgreSQL (the change events: one INSERT); SQLite runs 10
    ),
)


TestClusterOptionResource = resource_tests(OPTION)


def create(api, cluster, **overrides):
    return OPTION.post(api, Context(cluster=cluster), **overrides)


def test_defaults_and_validation(api, cluster):
    plain = api.post(
        f"/v2/clusters/id/{cluster.pk}/options", {"names": [{"language": "EN", "value": "Laces"}]}
    ).json()["data"]
    assert plain["isRequired"] is False and plain["sources"] == []
    for bad, path in [
        ({"isRequired": "yes"}, "isRequired"),
        ({"slugs": [{"language": "EN", "value": "x"}]}, "slugs"),
        ({"cluster": {"id": 1}}, "cluster"),
        ({"products": [1]}, "products"),
    ]:
        error = envelope_error(
            api.post(f"/v2/clusters/id/{cluster.pk}/options", {**GIFT_WRAP, **bad}), 400, 10007
        )
        assert path in error["fields"]
    envelope_error(
        api.post(
            f"/v2/clusters/id/{cluster.pk}/options", {"names": [{"language": "NL", "value": "x"}]}
        ),
        422,
        10019,
    )
    envelope_error(api.post("/v2/clusters/id/999/options", GIFT_WRAP), 404, 20007)


def test_source_pair_is_unique_among_options(api, cluster):
    create(api, cluster)
    error = envelope_error(api.post(f"/v2/clusters/id/{cluster.pk}/options", GIFT_WRAP), 409, 22004)
    assert error["messages"] == [
        "Cluster option with sourceId [OPT-1] and source [ERP] already exists."
    ]


def test_default_product_on_create_is_refused(api, cluster):
    product = ProductFactory()
    response = api.post(
        f"/v2/clusters/id/{cluster.pk}/options", {**GIFT_WRAP, "defaultProduct": {"id": product.pk}}
    )
    envelope_error(response, 422, 10017)


def test_nested_list_holds_only_the_cluster_options(api, cluster):
    first = ClusterOptionFactory(cluster=cluster, is_required=True)
    second = ClusterOptionFactory(cluster=cluster, hidden=True)
    ClusterOptionFactory()
    listed = api.get(f"/v2/clusters/id/{cluster.pk}/options").json()
    assert [o["id"] for o in listed["data"]] == [first.pk, second.pk]
    assert "pagination" in listed
    base = f"/v2/clusters/id/{cluster.pk}/options"
    assert [o["id"] for o in api.get(base, {"isRequired": "true"}).json()["data"]] == [first.pk]
    assert [o["id"] for o in api.get(base, {"hidden": "true"}).json()["data"]] == [second.pk]
    assert [o["id"] for o in api.get(base, {"sort": "-id"}).json()["data"]] == [second.pk, first.pk]
    envelope_error(api.get(base, {"isRequired": "maybe"}), 400, 10007)
    envelope_error(api.get("/v2/clusters/id/999/options"), 404, 20007)


def test_nested_detail_get_patch_delete(api, cluster):
    created = create(api, cluster)
    path = f"/v2/clusters/id/{cluster.pk}/options/{created['id']}"
    assert api.get(path).json()["data"] == created
    response = api.patch(path, {"hidden": True}, headers={"If-Match": '"1"'})
    assert response.status_code == 200
    assert response.json()["messages"] == ["Cluster option updated"]
    assert response.json()["data"]["hidden"] is True and response.json()["data"]["version"] == 2
    envelope_error(api.patch(path, {"hidden": False}, headers={"If-Match": '"1"'}), 412, 10009)
    other = ClusterOptionFactory()
    envelope_error(api.get(f"/v2/clusters/id/{cluster.pk}/options/{other.pk}"), 404, 22006)
    envelope_error(api.delete(f"/v2/clusters/id/{cluster.pk}/options/{other.pk}"), 404, 22006)
    response = api.delete(path)
    assert response.json() == {"data": {}, "messages": ["Cluster option deleted"]}
    assert not ClusterOption.objects.filter(pk=created["id"]).exists()
    assert ClusterOption.objects.filter(pk=other.pk).exists()


def test_patch_merges_translations_and_keeps_version_when_unchanged(api, cluster):
    created = create(api, cluster)
    path = f"/v2/clusteroptions/id/{created['id']}"
    same = api.patch(path, {"isRequired": True, "priority": 3}).json()["data"]
    assert same["version"] == 1
    data = api.patch(path, {"names": [{"language": "DE", "value": None}]}).json()["data"]
    assert data["names"] == [{"language": "EN", "value": "Gift wrap"}] and data["version"] == 2
    envelope_error(api.patch(path, {"names": [{"language": "EN", "value": None}]}), 422, 10019)


def test_option_products_assign_in_order_and_list(api, cluster):
    option = ClusterOptionFactory(cluster=cluster)
    paper, box, ribbon = ProductFactory.create_batch(3)
    ProductSourceFactory(product=box, source="ERP", source_id="BOX")
    path = f"/v2/clusteroptions/id/{option.pk}/products"
    response = api.post(
        f"{path}/assign",
        {"products": [{"id": ribbon.pk}, {"sourceId": "BOX", "source": "ERP"}, {"sku": paper.sku}]},
    )
    assert response.status_code == 200
    assert response.json()["messages"] == ["3 assigned, 0 failed"]
    assert [o["id"] for o in response.json()["data"]] == [ribbon.pk, box.pk, paper.pk]
    assert response.json()["data"][1] == {
        "index": 1,
        "type": "product",
        "lookupKey": "sourceId",
        "key": "BOX",
        "id": box.pk,
        "action": "assign",
        "success": True,
    }
    listed = api.get(path).json()
    assert [p["id"] for p in listed["data"]] == [ribbon.pk, box.pk, paper.pk]
    assert "pagination" in listed
    assert [p["id"] for p in api.get(path, {"sort": "-position"}).json()["data"]] == [
        paper.pk,
        box.pk,
        ribbon.pk,
    ]
    assert [p["id"] for p in api.get(path, {"sort": "id"}).json()["data"]] == [
        paper.pk,
        box.pk,
        ribbon.pk,
    ]
    assert [p["id"] for p in api.get(path, {"sku": box.sku}).json()["data"]] == [box.pk]
    paged = api.get(path, {"pageSize": 2}).json()
    rest = api.get(paged["pagination"]["next"]).json()
    assert [p["id"] for p in paged["data"] + rest["data"]] == [ribbon.pk, box.pk, paper.pk]
    envelope_error(api.get(path, {"sort": "name"}), 400, 10007)

    expanded = api.get(f"/v2/clusteroptions/id/{option.pk}", {"expands": "products"}).json()
    assert expanded["data"]["products"] == [ribbon.pk, box.pk, paper.pk]
    later = ProductFactory()
    api.post(f"{path}/assign", {"products": [{"id": later.pk}]})
    assert api.get(f"/v2/clusteroptions/id/{option.pk}", {"expands": "products"}).json()["data"][
        "products"
    ] == [ribbon.pk, box.pk, paper.pk, later.pk]


def test_option_products_assign_and_unassign_item_errors(api, cluster):
    option = ClusterOptionFactory(cluster=cluster)
    present = ProductFactory()
    OptionProductFactory(option=option, product=present)
    absent = ProductFactory()
    path = f"/v2/clusteroptions/id/{option.pk}/products"
    outcomes = api.post(
        f"{path}/assign", {"products": [{"id": present.pk}, {"id": 99999}, {"id": absent.pk}]}
    ).json()["data"]
    assert [o.get("error", {}).get("code") for o in outcomes] == [22007, 80006, None]
    outcomes = api.post(
        f"{path}/unassign",
        {"products": [{"id": present.pk}, {"id": present.pk}, {"sku": "NOPE"}]},
    ).json()
    assert outcomes["messages"] == ["1 unassigned, 2 failed"]
    assert [o.get("error", {}).get("code") for o in outcomes["data"]] == [None, 10020, 80006]
    assert outcomes["data"][0]["action"] == "unassign"
    outcomes = api.post(f"{path}/unassign", {"products": [{"id": present.pk}]}).json()["data"]
    assert outcomes[0]["error"]["code"] == 22008
    assert Product.objects.filter(pk=present.pk).exists()  # products are never deleted
    assert list(OptionProduct.objects.values_list("product_id", flat=True)) == [absent.pk]
    envelope_error(api.post(f"{path}/assign", {"products": [{"id": 1}] * 101}), 413, 10013)
    envelope_error(api.post(f"{path}/assign", {"products": []}), 400, 10007)
    envelope_error(
        api.post("/v2/clusteroptions/id/999/products/assign", {"products": [{"id": 1}]}), 404, 22006
    )


def test_option_products_may_be_in_any_cluster_and_stay_where_they_are(api, cluster):
    option = ClusterOptionFactory(cluster=cluster)
    elsewhere = ClusterFactory()
    product = ProductFactory()
    ClusterProduct.objects.create(cluster=elsewhere, product=product)
    outcome = api.post(
        f"/v2/clusteroptions/id/{option.pk}/products/assign", {"products": [{"id": product.pk}]}
    ).json()["data"][0]
    assert outcome["success"] is True
    assert api.get(f"/v2/products/id/{product.pk}").json()["data"]["cluster"] == {
        "id": elsewhere.pk
    }


def test_default_product_must_be_one_of_the_option_products(api, cluster):
    option = ClusterOptionFactory(cluster=cluster)
    selectable, outsider = ProductFactory.create_batch(2)
    OptionProductFactory(option=option, product=selectable)
    path = f"/v2/clusteroptions/id/{option.pk}"
    error = envelope_error(api.patch(path, {"defaultProduct": {"id": outsider.pk}}), 422, 10017)
    assert "not one of the option's products" in error["messages"][0]
    data = api.patch(path, {"defaultProduct": {"id": selectable.pk}}).json()["data"]
    assert data["defaultProduct"] == {"id": selectable.pk} and data["version"] == 2
    api.post(f"{path}/products/unassign", {"products": [{"id": selectable.pk}]})
    data = api.get(path).json()["data"]
    assert data["defaultProduct"] is None and data["version"] == 3
