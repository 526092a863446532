"""Products inside a cluster: the sub-resource, assign/unassign and the one-home rule."""

from __future__ import annotations

import pytest

from catalogue.models import Product
from clusters.models import Cluster, ClusterProduct
from tests.catalogue.factories import ProductFactory, ProductSourceFactory
from tests.clusters.factories import (
    ClusterFactory,
    ClusterOptionFactory,
    ClusterSourceFactory,
    OptionProductFactory,
    members,
)
from tests.conftest import envelope_error
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db

NEW_PRODUCT = {
    "names": [{"language": "EN", "value": "Oxford Shirt Blue M"}],
    "sku": "OX-BLUE-M",
    "source": "ERP",
    "sourceId": "P-1",
    "attributes": [{"name": "COLOR", "value": "blue"}, {"name": "SIZE", "value": "M"}],
}


@pytest.fixture
def cluster():
    cluster = ClusterFactory(code="OX")
    ClusterSourceFactory(cluster=cluster, source="ERP", source_id="CL-1")
    return cluster


def base(cluster) -> str:
    return f"/v2/clusters/id/{cluster.pk}/products"


def cluster_of(product_id: int) -> int | None:
    return (
        ClusterProduct.objects.filter(product_id=product_id)
        .values_list("cluster_id", flat=True)
        .first()
    )


# The sub-resource ---------------------------------------------------------------------------


def test_create_product_inside_the_cluster(api, cluster):
    response = api.post(f"/v2/clusters/code/{cluster.code}/products", NEW_PRODUCT)
    assert response.status_code == 201
    payload = response.json()
    data = payload["data"]
    assert payload["messages"] == ["Product created"]
    assert response["Location"].endswith(f"/v2/clusters/id/{cluster.pk}/products/{data['id']}")
    assert response["ETag"] == '"1"'
    assert data["cluster"] == {"id": cluster.pk} and data["parent"] is None
    assert data["sku"] == "OX-BLUE-M" and data["attributes"] == NEW_PRODUCT["attributes"]
    assert api.get(f"/v2/products/id/{data['id']}").json()["data"]["cluster"] == {"id": cluster.pk}


def test_create_inside_refuses_a_parent_and_reports_product_errors(api, cluster):
    category = CategoryFactory()
    response = api.post(base(cluster), {**NEW_PRODUCT, "parent": {"id": category.pk}})
    envelope_error(response, 422, 10017)
    envelope_error(api.post(base(cluster), {**NEW_PRODUCT, "eanCode": "1"}), 400, 10007)
    ProductSourceFactory(source="ERP", source_id="P-1")
    envelope_error(api.post(base(cluster), NEW_PRODUCT), 409, 80004)
    assert not ClusterProduct.objects.exists()
    assert Product.objects.count() == 1


def test_missing_parent_cluster_is_20007(api):
    envelope_error(api.get("/v2/clusters/code/NOPE/products"), 404, 20007)
    envelope_error(api.post("/v2/clusters/id/999/products", NEW_PRODUCT), 404, 20007)
    envelope_error(api.get("/v2/clusters/id/999/products/1"), 404, 20007)
    envelope_error(
        api.post("/v2/clusters/id/999/products/assign", {"products": [{"id": 1}]}), 404, 20007
    )


def test_list_holds_only_the_cluster_products_with_product_filters(api, cluster):
    first, second = members(cluster, 2)
    second.sku = "SPECIAL"
    second.save()
    members(ClusterFactory(), 2)
    ProductFactory()
    listed = api.get(base(cluster)).json()
    assert [p["id"] for p in listed["data"]] == [first.pk, second.pk]
    assert all(p["cluster"] == {"id": cluster.pk} for p in listed["data"])
    assert "pagination" in listed
    assert [p["id"] for p in api.get(base(cluster), {"sku": "SPECIAL"}).json()["data"]] == [
        second.pk
    ]
    assert [p["id"] for p in api.get(base(cluster), {"sort": "-id"}).json()["data"]] == [
        second.pk,
        first.pk,
    ]
    by_source = api.get(
        "/v2/clusters/sourceId/CL-1/products", {"source": "ERP", "withCount": "true"}
    ).json()
    assert by_source["pagination"]["total"] == 2
    envelope_error(api.get(base(cluster), {"color": "red"}), 400, 10007)


def test_get_patch_delete_a_product_of_the_cluster(api, cluster):
    product, other = members(cluster, 2)
    cluster.default_product = product
    cluster.save()
    path = f"{base(cluster)}/{product.pk}"
    got = api.get(path)
    assert got.status_code == 200 and got["ETag"] == '"1"'
    assert got.json()["data"]["id"] == product.pk

    patched = api.patch(path, {"sku": "NEW"}, headers={"If-Match": '"1"'})
    assert patched.status_code == 200
    assert patched.json()["messages"] == ["Product updated"]
    assert patched.json()["data"]["sku"] == "NEW" and patched.json()["data"]["version"] == 2
    envelope_error(api.patch(path, {"sku": "X"}, headers={"If-Match": '"1"'}), 412, 10009)
    envelope_error(api.patch(path, {"parent": {"id": CategoryFactory().pk}}), 422, 10017)

    response = api.delete(path)
    assert response.json() == {"data": {}, "messages": ["Product deleted"]}
    assert not Product.objects.filter(pk=product.pk).exists()
    cluster.refresh_from_db()
    assert cluster.default_product_id is None
    # its defaultProduct changed: a new version (SPEC §8) and an event, as an unassign gives it
    assert cluster.version == 2
    assert cluster_of(other.pk) == cluster.pk


def test_product_outside_the_cluster_is_20010(api, cluster):
    outsider = ProductFactory()
    in_other = members(ClusterFactory())[0]
    for product_id in (outsider.pk, in_other.pk, 99999):
        path = f"{base(cluster)}/{product_id}"
        envelope_error(api.get(path), 404, 20010)
        envelope_error(api.patch(path, {"sku": "x"}), 404, 20010)
        envelope_error(api.delete(path), 404, 20010)
    assert Product.objects.filter(pk=outsider.pk).exists()


# assign -------------------------------------------------------------------------------------


def test_assign_reports_one_outcome_per_item_in_order(api, cluster):
    by_id = ProductFactory()
    by_source = ProductSourceFactory(source="ERP", source_id="A-17").product
    by_sku = ProductFactory(sku="SKU-ONE")
    already = members(cluster, 1)[0]
    ProductFactory.create_batch(2, sku="TWIN")
    response = api.post(
        f"{base(cluster)}/assign",
        {
            "products": [
                {"id": by_id.pk},
                {"sourceId": "A-17", "source": "ERP"},
                {"sku": "SKU-ONE"},
                {"id": already.pk},
                {"id": 99999},
                {"sku": "TWIN"},
                {"id": by_id.pk},
            ]
        },
    )
    assert response.status_code == 200
    payload = response.json()
    assert payload["messages"] == ["3 assigned, 4 failed"]
    outcomes = payload["data"]
    assert outcomes[0] == {
        "index": 0,
        "type": "product",
        "lookupKey": "id",
        "key": by_id.pk,
        "id": by_id.pk,
        "action": "assign",
        "success": True,
    }
    assert outcomes[1]["lookupKey"] == "sourceId" and outcomes[1]["key"] == "A-17"
    assert outcomes[1]["id"] == by_source.pk and outcomes[1]["success"] is True
    assert outcomes[2]["lookupKey"] == "sku" and outcomes[2]["id"] == by_sku.pk
    failures = {o["index"]: o for o in outcomes if not o["success"]}
    assert {i: o["error"]["code"] for i, o in failures.items()} == {
        3: 20009,
        4: 80006,
        5: 80005,
        6: 10020,
    }
    for outcome in failures.values():
        assert outcome["action"] == "error"
        assert set(outcome["error"]) == {"status", "code", "type", "messages", "moreInfo"}
    assert failures[3]["id"] == already.pk and failures[4]["id"] is None
    assert all(cluster_of(p.pk) == cluster.pk for p in (by_id, by_source, by_sku, already))


def test_assign_clears_the_primary_category_and_bumps_the_product(api, cluster):
    category = CategoryFactory()
    product = ProductFactory(parent=category)
    api.post(f"{base(cluster)}/assign", {"products": [{"id": product.pk}]})
    data = api.get(f"/v2/products/id/{product.pk}").json()["data"]
    assert data["parent"] is None and data["cluster"] == {"id": cluster.pk}
    assert data["version"] == 2


def test_assign_moves_from_another_cluster_and_clears_its_stale_default(api, cluster):
    old = ClusterFactory()
    moving, staying = members(old, 2)
    old.default_product = moving
    old.save()
    keeps_default = ClusterFactory()
    kept = members(keeps_default, 1)[0]
    keeps_default.default_product = kept
    keeps_default.save()

    response = api.post(
        f"{base(cluster)}/assign", {"products": [{"id": moving.pk}, {"id": kept.pk}]}
    )
    assert [o["success"] for o in response.json()["data"]] == [True, True]
    assert cluster_of(moving.pk) == cluster.pk and cluster_of(staying.pk) == old.pk
    assert ClusterProduct.objects.filter(product=moving).count() == 1
    old_data = api.get(f"/v2/clusters/id/{old.pk}").json()["data"]
    assert old_data["defaultProduct"] is None and old_data["version"] == 2
    other = api.get(f"/v2/clusters/id/{keeps_default.pk}").json()["data"]
    assert other["defaultProduct"] is None  # kept moved away, so the default went too


def test_assign_body_rules(api, cluster):
    path = f"{base(cluster)}/assign"
    envelope_error(api.post(path, {"products": []}), 400, 10007)
    envelope_error(api.post(path, {}), 400, 10007)
    error = envelope_error(api.post(path, {"products": [{"ean": "1"}]}), 400, 10007)
    assert "products[0]" in error["fields"]
    error = envelope_error(api.post(path, {"products": [{"id": 1}] * 101}), 413, 10013)
    assert "100" in error["messages"][0]
    assert not ClusterProduct.objects.exists()


# unassign -----------------------------------------------------------------------------------


def test_unassign_to_a_category_makes_it_the_primary_home(api, cluster):
    first, second = members(cluster, 2)
    cluster.default_product = first
    cluster.save()
    category = CategoryFactory()
    category.sources.create(source="ERP", source_id="CAT")
    response = api.post(
        f"{base(cluster)}/unassign",
        {
            "products": [{"id": first.pk}, {"id": ProductFactory().pk}],
            "target": {"category": {"sourceId": "CAT", "source": "ERP"}},
        },
    )
    assert response.status_code == 200
    outcomes = response.json()["data"]
    assert response.json()["messages"] == ["1 unassigned, 1 failed"]
    assert outcomes[0]["action"] == "unassign" and outcomes[0]["success"] is True
    assert outcomes[1]["error"]["code"] == 20010
    data = api.get(f"/v2/products/id/{first.pk}").json()["data"]
    assert data["parent"] == {"id": category.pk} and data["cluster"] is None
    assert data["version"] == 2
    cluster_data = api.get(f"/v2/clusters/id/{cluster.pk}").json()["data"]
    assert cluster_data["defaultProduct"] is None and cluster_data["version"] == 2
    assert cluster_of(second.pk) == cluster.pk


def test_unassign_to_another_cluster_moves_it(api, cluster):
    product = members(cluster, 1)[0]
    target = ClusterFactory(code="TARGET")
    response = api.post(
        f"{base(cluster)}/unassign",
        {"products": [{"id": product.pk}], "target": {"cluster": {"code": "TARGET"}}},
    )
    assert response.json()["data"][0]["success"] is True
    assert cluster_of(product.pk) == target.pk
    data = api.get(f"/v2/products/id/{product.pk}").json()["data"]
    assert data["cluster"] == {"id": target.pk} and data["parent"] is None


@pytest.mark.parametrize(
    ("target", "status", "code"),
    [
        (None, 400, 10007),
        ({}, 400, 10007),
        ({"category": {"id": 1}, "cluster": {"id": 1}}, 400, 10007),
        ({"category": None}, 400, 10007),
        ({"category": {"id": 99999}}, 404, 30007),
        ({"cluster": {"id": 99999}}, 404, 20006),
        ({"cluster": {"sourceId": "X", "source": "ERP"}}, 404, 20006),
        ("self", 422, 10017),
    ],
)
def test_unassign_requires_a_valid_target(api, cluster, target, status, code):
    product = members(cluster, 1)[0]
    payload = {"products": [{"id": product.pk}]}
    if target == "self":
        payload["target"] = {"cluster": {"id": cluster.pk}}
    elif target is not None:
        payload["target"] = target
    envelope_error(api.post(f"{base(cluster)}/unassign", payload), status, code)
    assert cluster_of(product.pk) == cluster.pk


# The one-home rule from the product side ---------------------------------------------------


def test_product_in_a_cluster_cannot_get_a_parent_category(api, cluster):
    product = members(cluster, 1)[0]
    path = f"/v2/products/id/{product.pk}"
    error = envelope_error(api.patch(path, {"parent": {"id": CategoryFactory().pk}}), 422, 10017)
    assert "unassign" in error["messages"][0]
    assert api.patch(path, {"parent": None, "sku": "S"}).status_code == 200


def test_deleting_a_product_clears_defaults_that_pointed_at_it(api, cluster):
    product = members(cluster, 1)[0]
    cluster.default_product = product
    cluster.save()
    option = ClusterOptionFactory(cluster=ClusterFactory())
    OptionProductFactory(option=option, product=product)
    option.default_product = product
    option.save()
    assert api.delete(f"/v2/products/id/{product.pk}").status_code == 200
    cluster.refresh_from_db()
    option.refresh_from_db()
    # both representations changed: a new version each (SPEC §8), as an unassign gives them
    assert cluster.default_product_id is None and cluster.version == 2
    assert option.default_product_id is None and option.version == 2
    assert not option.product_links.exists()
    assert Cluster.objects.filter(pk=cluster.pk).exists()


def test_product_representation_and_list_filter_by_cluster(api, cluster):
    inside = members(cluster, 2)
    ProductFactory.create_batch(2)
    listed = api.get("/v2/products", {"cluster": cluster.pk}).json()["data"]
    assert [p["id"] for p in listed] == [p.pk for p in inside]
    assert all(p["cluster"] == {"id": cluster.pk} for p in listed)
    assert api.get("/v2/products", {"cluster": 99999}).json()["data"] == []
    envelope_error(api.get("/v2/products", {"cluster": "abc"}), 400, 10007)
