"""Every single-record API write appends its change event (SPEC §19), read back over HTTP from
``GET /v2/changes`` with a real token; one test per write path, named after it."""

from __future__ import annotations

import pytest

from changes.models import ChangeEvent
from config.api.scopes import ALL_SCOPES
from tests.catalogue.factories import ProductFactory
from tests.changes.helpers import cursor, events, only
from tests.clusters.factories import (
    ClusterConfigFactory,
    ClusterConfigSettingFactory,
    ClusterFactory,
    ClusterOptionFactory,
    ClusterProductFactory,
    OptionProductFactory,
)
from tests.taxonomy.factories import CategoryFactory

# transactional: on PostgreSQL the feed shows only committed transactions (SPEC §19)
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(client_with_scopes):
    return client_with_scopes(*ALL_SCOPES)


def ok(response, status=200):
    assert response.status_code == status, response.content
    return response.json()["data"]


def test_product_create(api):
    data = ok(
        api.post(
            "/v2/products",
            {
                "names": [{"language": "EN", "value": "Shirt"}],
                "sku": "S1",
                "source": "ERP",
                "sourceId": "A-1",
            },
            headers={"X-Request-ID": "req-1"},
        ),
        201,
    )
    event = only(api)
    assert event["entity"] == "product" and event["action"] == "created"
    assert event["recordId"] == data["id"] and event["version"] == 1
    assert event["keys"] == {"sources": [{"source": "ERP", "sourceId": "A-1"}], "sku": "S1"}
    assert event["changes"]["sku"] == {"before": None, "after": "S1"}
    assert event["changes"]["names"]["after"] == [{"language": "EN", "value": "Shirt"}]
    assert event["actor"] == {"kind": "client", "id": api.client_id}
    assert event["requestId"] == "req-1" and event["jobId"] is None


def test_product_update(api):
    product = ProductFactory(sku="A-17")
    start = cursor(api)
    ok(api.patch(f"/v2/products/id/{product.pk}", {"sku": "A17", "hidden": True}))
    event = only(api, after=start)
    assert event["action"] == "updated" and event["version"] == 2
    assert sorted(event["changedFields"]) == ["hidden", "sku"]
    assert event["changes"]["sku"] == {"before": "A-17", "after": "A17"}


def test_product_update_that_changes_nothing_appends_nothing(api):
    product = ProductFactory(sku="A-17")
    ok(api.patch(f"/v2/products/id/{product.pk}", {"sku": "A-17"}))
    assert events(api) == []


def test_a_failed_write_appends_nothing(api):
    product = ProductFactory()
    response = api.patch(f"/v2/products/id/{product.pk}", {"sku": "X"}, headers={"If-Match": '"9"'})
    assert response.status_code == 412
    assert not ChangeEvent.objects.exists()


def test_product_attributes_upsert(api):
    product = ProductFactory()
    ok(
        api.post(
            f"/v2/products/id/{product.pk}/attributes",
            {"attributes": [{"name": "COLOR", "value": "red"}]},
        )
    )
    event = only(api)
    assert event["changes"]["attributes"] == {
        "before": [],
        "after": [{"name": "COLOR", "value": "red"}],
    }


def test_product_delete_leaves_a_tombstone_with_the_last_keys(api):
    product = ProductFactory(sku="S9")
    product.sources.create(source="ERP", source_id="Z-9")
    ok(api.delete(f"/v2/products/id/{product.pk}"))
    event = only(api)
    assert event["action"] == "deleted" and event["recordId"] == product.pk
    assert event["keys"] == {"sources": [{"source": "ERP", "sourceId": "Z-9"}], "sku": "S9"}


def test_product_translation_removal(api):
    product = ProductFactory(name_nl="Hemd")
    ok(api.delete(f"/v2/products/id/{product.pk}/translation/nl"))
    event = only(api)
    assert event["changedFields"] == ["names"]
    assert {"language": "NL", "value": "Hemd"} in event["changes"]["names"]["before"]


def test_category_create_update_delete(api):
    data = ok(api.post("/v2/categories", {"names": [{"language": "EN", "value": "Shoes"}]}), 201)
    ok(api.patch(f"/v2/categories/id/{data['id']}", {"priority": 5}))
    ok(api.delete(f"/v2/categories/id/{data['id']}"))
    assert [(e["entity"], e["action"]) for e in events(api)] == [
        ("category", "created"),
        ("category", "updated"),
        ("category", "deleted"),
    ]


def test_category_move(api):
    root, other = CategoryFactory(), CategoryFactory()
    leaf = CategoryFactory(parent=root)
    ok(api.post(f"/v2/categories/id/{leaf.pk}/move", {"target": {"id": other.pk}}))
    event = only(api)
    assert event["action"] == "moved" and event["recordId"] == leaf.pk
    assert event["changes"]["parent"] == {"before": {"id": root.pk}, "after": {"id": other.pk}}
    assert event["changes"]["position"]["after"] == {
        "position": "last-child",
        "target": {"id": other.pk},
    }


def test_category_reorder_among_siblings_is_a_move(api):
    root = CategoryFactory()
    first, second = CategoryFactory(parent=root), CategoryFactory(parent=root)
    ok(
        api.post(
            f"/v2/categories/id/{second.pk}/move", {"target": {"id": first.pk}, "position": "left"}
        )
    )
    event = only(api)
    assert (event["action"], event["recordId"], event["changedFields"]) == (
        "moved",
        second.pk,
        ["position"],
    )


def test_category_patch_parent_is_a_move(api):
    root, other = CategoryFactory(), CategoryFactory()
    leaf = CategoryFactory(parent=root)
    ok(api.patch(f"/v2/categories/id/{leaf.pk}", {"parent": {"id": other.pk}}))
    assert only(api)["action"] == "moved"


def test_category_translation_removal(api):
    category = CategoryFactory(name_nl="Schoenen")
    ok(api.delete(f"/v2/categories/id/{category.pk}/translation/nl"))
    assert only(api)["changedFields"] == ["names"]


def test_link_product_to_category(api):
    category, product = CategoryFactory(), ProductFactory(sku="L1")
    ok(
        api.post(
            f"/v2/categories/id/{category.pk}/add-products-clusters",
            {"products": [{"id": product.pk}]},
        )
    )
    event = only(api)
    assert (event["entity"], event["action"], event["recordId"]) == (
        "product",
        "linked",
        product.pk,
    )
    assert event["changes"] == {"categories": {"before": None, "after": {"id": category.pk}}}
    assert event["keys"]["sku"] == "L1"
    start = cursor(api)
    ok(
        api.post(
            f"/v2/categories/id/{category.pk}/remove-products-clusters",
            {"products": [{"id": product.pk}]},
        )
    )
    assert only(api, after=start)["action"] == "unlinked"


def test_link_cluster_to_category(api):
    category, cluster = CategoryFactory(), ClusterFactory()
    ok(
        api.post(
            f"/v2/categories/id/{category.pk}/add-products-clusters",
            {"clusters": [{"id": cluster.pk}]},
        )
    )
    event = only(api)
    assert (event["entity"], event["action"]) == ("cluster", "linked")


def test_cluster_config_create_update_settings_delete(api):
    data = ok(
        api.post(
            "/v2/clusterconfigs",
            {"name": "shirts", "settings": [{"attributeName": "SIZE", "displayType": "dropdown"}]},
        ),
        201,
    )
    base = f"/v2/clusterconfigs/id/{data['id']}"
    ok(api.patch(base, {"settings": [{"attributeName": "COLOR", "displayType": "color"}]}))
    setting = ok(
        api.post(f"{base}/settings", {"attributeName": "FIT", "displayType": "radio"}), 201
    )
    ok(api.patch(f"{base}/settings/{setting['id']}", {"priority": 3}))
    ok(api.delete(f"{base}/settings/{setting['id']}"))
    ok(api.delete(base))
    found = events(api)
    assert [e["action"] for e in found] == [
        "created",
        "updated",
        "updated",
        "updated",
        "updated",
        "deleted",
    ]
    assert {e["entity"] for e in found} == {"clusterConfig"}
    assert found[0]["keys"] == {"name": "shirts"}
    assert found[1]["changedFields"] == ["settings"]


def test_cluster_create_update_translation_delete(api):
    config = ClusterConfigFactory()
    data = ok(
        api.post(
            "/v2/clusters",
            {
                "names": [{"language": "EN", "value": "Tee"}, {"language": "NL", "value": "T"}],
                "clusterConfig": {"id": config.pk},
                "code": "C1",
            },
        ),
        201,
    )
    base = f"/v2/clusters/id/{data['id']}"
    ok(api.patch(base, {"code": "C2"}))
    ok(api.delete(f"{base}/translation/nl"))
    ok(api.delete(base))
    found = events(api)
    assert [e["action"] for e in found] == ["created", "updated", "updated", "deleted"]
    assert found[1]["changes"]["code"] == {"before": "C1", "after": "C2"}
    assert found[-1]["keys"] == {"sources": [], "code": "C2"}


def test_cluster_delete_moves_its_products_out_and_deletes_its_options(api):
    cluster = ClusterFactory()
    member = ClusterProductFactory(cluster=cluster).product
    option = ClusterOptionFactory(cluster=cluster)
    ok(api.delete(f"/v2/clusters/id/{cluster.pk}"))
    found = {(e["entity"], e["recordId"]): e for e in events(api)}
    assert found[("cluster", cluster.pk)]["action"] == "deleted"
    assert found[("clusterOption", option.pk)]["action"] == "deleted"
    moved = found[("product", member.pk)]
    assert moved["action"] == "moved"
    assert moved["changes"]["cluster"] == {"before": {"id": cluster.pk}, "after": None}


def test_cluster_products_assign_and_unassign(api):
    cluster, category = ClusterFactory(), CategoryFactory()
    product = ProductFactory(parent=category)
    ok(
        api.post(
            f"/v2/clusters/id/{cluster.pk}/products/assign", {"products": [{"id": product.pk}]}
        )
    )
    event = only(api)
    assert (event["entity"], event["action"], event["recordId"]) == ("product", "moved", product.pk)
    assert event["changes"]["cluster"] == {"before": None, "after": {"id": cluster.pk}}
    assert event["changes"]["parent"] == {"before": {"id": category.pk}, "after": None}
    start = cursor(api)
    ok(
        api.post(
            f"/v2/clusters/id/{cluster.pk}/products/unassign",
            {"products": [{"id": product.pk}], "target": {"category": {"id": category.pk}}},
        )
    )
    event = only(api, after=start)
    assert event["changes"]["cluster"] == {"before": {"id": cluster.pk}, "after": None}
    assert event["changes"]["parent"] == {"before": None, "after": {"id": category.pk}}


def test_cluster_product_create(api):
    cluster = ClusterFactory()
    data = ok(
        api.post(
            f"/v2/clusters/id/{cluster.pk}/products", {"names": [{"language": "EN", "value": "S"}]}
        ),
        201,
    )
    event = only(api)
    assert (event["entity"], event["action"], event["recordId"]) == (
        "product",
        "created",
        data["id"],
    )


def test_option_create_update_products_translation_delete(api):
    cluster = ClusterFactory()
    product = ProductFactory()
    data = ok(
        api.post(
            f"/v2/clusters/id/{cluster.pk}/options",
            {"names": [{"language": "EN", "value": "Wrap"}, {"language": "NL", "value": "Inpak"}]},
        ),
        201,
    )
    base = f"/v2/clusteroptions/id/{data['id']}"
    ok(api.patch(base, {"isRequired": True}))
    ok(api.post(f"{base}/products/assign", {"products": [{"id": product.pk}]}))
    ok(api.post(f"{base}/products/unassign", {"products": [{"id": product.pk}]}))
    ok(api.delete(f"{base}/translation/nl"))
    ok(api.delete(base))
    found = events(api)
    assert {e["entity"] for e in found} == {"clusterOption"}
    assert [e["action"] for e in found] == [
        "created",
        "updated",
        "updated",
        "updated",
        "updated",
        "deleted",
    ]
    assert found[2]["changes"]["products"] == {"before": [], "after": [{"id": product.pk}]}


def test_config_setting_factory_state_is_described(api):
    config = ClusterConfigFactory(name="cfg")
    ClusterConfigSettingFactory(config=config, attribute_name="SIZE")
    ok(api.delete(f"/v2/clusterconfigs/id/{config.pk}"))
    event = only(api)
    assert [s["attributeName"] for s in event["changes"]["settings"]["before"]] == ["SIZE"]


def test_product_delete_clears_the_default_of_its_cluster(api):
    """The delete's SET_NULL is a change of the cluster: a new version and its event."""
    from tests.clusters.factories import ClusterFactory, members

    cluster = ClusterFactory()
    [product] = members(cluster, 1)
    cluster.default_product = product
    cluster.save()
    version = cluster.version
    start = cursor(api)
    assert api.delete(f"/v2/products/id/{product.pk}").status_code == 200
    found = {e["entity"]: e for e in events(api, after=start)}
    assert found["product"]["action"] == "deleted"
    assert found["cluster"]["changes"]["defaultProduct"] == {
        "before": {"id": product.pk},
        "after": None,
    }
    cluster.refresh_from_db()
    assert cluster.version == version + 1 == found["cluster"]["version"]


def test_product_delete_changes_the_options_that_held_it(api):
    """An option holding the product loses it from its products (and as its default): one event
    with both changes."""
    option = ClusterOptionFactory()
    product, other = ProductFactory(), ProductFactory()
    OptionProductFactory(option=option, product=other, position=1)
    OptionProductFactory(option=option, product=product, position=2)
    option.default_product = product
    option.save()
    start = cursor(api)
    assert api.delete(f"/v2/products/id/{product.pk}").status_code == 200
    found = {e["entity"]: e for e in events(api, after=start)}
    assert set(found) == {"product", "clusterOption"}
    assert found["clusterOption"]["changes"] == {
        "defaultProduct": {"before": {"id": product.pk}, "after": None},
        "products": {"before": [{"id": other.pk}, {"id": product.pk}], "after": [{"id": other.pk}]},
    }


def test_rebuild_category_tree_appends_nothing(api):
    """The repair renumbers the nested sets only (parent and sibling order are kept): no
    record's representation changes, so no event (a write that changes nothing)."""
    from taxonomy.models import Category
    from taxonomy.services import rebuild_category_tree

    root = CategoryFactory()
    CategoryFactory(parent=root)
    start = cursor(api)
    Category.objects.filter(pk=root.pk).update(rght=999)  # a broken numbering to repair
    assert rebuild_category_tree() > 0
    assert events(api, after=start) == []
