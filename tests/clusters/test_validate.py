"""``GET /v2/clusters/{lk}/{lv}/validate``: every check failing and passing, and a realistic
scenario built through the API."""

from __future__ import annotations

import pytest

from catalogue.models import ProductAttribute
from clusters.models import Cluster
from tests.catalogue.factories import ProductFactory
from tests.clusters.factories import (
    ClusterConfigFactory,
    ClusterConfigSettingFactory,
    ClusterFactory,
    ClusterOptionFactory,
    OptionProductFactory,
    members,
)
from tests.conftest import envelope_error

pytestmark = pytest.mark.django_db


def with_attributes(product, **values):
    for position, (name, value) in enumerate(values.items()):
        ProductAttribute.objects.create(product=product, position=position, name=name, value=value)
    return product


@pytest.fixture
def ready():
    """A cluster that passes every check: two variants with distinct colours, a default and a
    required option with an available product."""
    config = ClusterConfigFactory()
    ClusterConfigSettingFactory(config=config, attribute_name="COLOR")
    cluster = ClusterFactory(cluster_config=config)
    red, blue = members(cluster, 2)
    with_attributes(red, COLOR="red")
    with_attributes(blue, COLOR="blue")
    cluster.default_product = red
    cluster.save()
    option = ClusterOptionFactory(cluster=cluster, is_required=True)
    OptionProductFactory(option=option, product=ProductFactory())
    return cluster


def report(api, cluster):
    response = api.get(f"/v2/clusters/id/{cluster.pk}/validate")
    assert response.status_code == 200, response.content
    assert response.json()["messages"] == []
    return response.json()["data"]


def codes(data) -> list[str]:
    return [p["code"] for p in data["problems"]]


def test_a_ready_cluster_is_valid(api, ready):
    assert report(api, ready) == {"valid": True, "problems": []}


def test_no_products(api):
    cluster = ClusterFactory()
    data = report(api, cluster)
    assert data["valid"] is False
    assert codes(data) == ["NO_PRODUCTS", "DEFAULT_PRODUCT_MISSING"]
    assert data["problems"][0] == {
        "code": "NO_PRODUCTS",
        "message": "The cluster has no products.",
        "productIds": [],
    }


def test_default_product_missing(api, ready):
    Cluster.objects.filter(pk=ready.pk).update(default_product=None)
    assert codes(report(api, ready)) == ["DEFAULT_PRODUCT_MISSING"]


def test_default_product_not_in_cluster(api, ready):
    # the API never lets this happen; data loaded around it can
    stray = ProductFactory()
    Cluster.objects.filter(pk=ready.pk).update(default_product=stray)
    data = report(api, ready)
    assert codes(data) == ["DEFAULT_PRODUCT_NOT_IN_CLUSTER"]
    assert data["problems"][0]["productIds"] == [stray.pk]


@pytest.mark.parametrize("empty", [None, "", []])
def test_missing_attribute_value(api, ready, empty):
    lacking = members(ready, 1)[0]
    if empty is not None:
        with_attributes(lacking, COLOR=empty)
    data = report(api, ready)
    assert codes(data) == ["MISSING_ATTRIBUTE_VALUE"]
    assert data["problems"][0]["productIds"] == [lacking.pk]
    assert "COLOR" in data["problems"][0]["message"]


def test_missing_attribute_value_is_one_problem_per_attribute(api, ready):
    ClusterConfigSettingFactory(config=ready.cluster_config, attribute_name="SIZE", priority=1)
    products = sorted(p.product_id for p in ready.memberships.all())
    data = report(api, ready)
    assert codes(data) == ["MISSING_ATTRIBUTE_VALUE"]
    assert data["problems"][0]["productIds"] == products
    assert "SIZE" in data["problems"][0]["message"]


def test_duplicate_attribute_combination(api, ready):
    twin = with_attributes(members(ready, 1)[0], COLOR="red")
    data = report(api, ready)
    assert codes(data) == ["DUPLICATE_ATTRIBUTE_COMBINATION"]
    assert data["problems"][0]["productIds"] == [ready.default_product_id, twin.pk]
    assert "COLOR=red" in data["problems"][0]["message"]


def test_values_of_other_attributes_do_not_count(api, ready):
    extra = with_attributes(members(ready, 1)[0], COLOR="green", FIT="slim")
    assert report(api, ready)["valid"] is True
    assert extra.attributes.count() == 2


@pytest.mark.parametrize(
    "unusable", [{"status": "N"}, {"status": "T"}, {"hidden": True}, None], ids=str
)
def test_required_option_without_usable_product(api, ready, unusable):
    option = ready.options.get()
    link = option.product_links.get()
    if unusable is None:
        link.delete()
        expected_ids = []
    else:
        for key, value in unusable.items():
            setattr(link.product, key, value)
        link.product.save()
        expected_ids = [link.product_id]
    data = report(api, ready)
    assert codes(data) == ["REQUIRED_OPTION_UNAVAILABLE"]
    assert data["problems"][0]["optionId"] == option.pk
    assert data["problems"][0]["productIds"] == expected_ids


def test_optional_options_need_no_products(api, ready):
    ClusterOptionFactory(cluster=ready, is_required=False)
    assert report(api, ready)["valid"] is True


def test_lookup_by_code_and_missing_cluster(api, ready):
    Cluster.objects.filter(pk=ready.pk).update(code="READY")
    assert api.get("/v2/clusters/code/READY/validate").json()["data"]["valid"] is True
    envelope_error(api.get("/v2/clusters/code/NOPE/validate"), 404, 20006)


def test_report_costs_constant_queries(api, ready, django_assert_max_num_queries):
    for index in range(30):
        with_attributes(members(ready, 1)[0], COLOR=f"c{index}")
    # token + cluster + members + settings + attribute values + required options + their links
    with django_assert_max_num_queries(7):
        assert report(api, ready)["valid"] is True


def test_realistic_scenario(api):
    """A shirt in two colours and three sizes, a required gift-wrap option with two products:
    valid; then a sixth variant is edited into a duplicate of another and the report says so."""
    config = api.post(
        "/v2/clusterconfigs",
        {
            "name": "apparel",
            "settings": [
                {"attributeName": "COLOR", "displayType": "color", "priority": 1},
                {"attributeName": "SIZE", "displayType": "dropdown", "priority": 2},
            ],
        },
    ).json()["data"]
    cluster = api.post(
        "/v2/clusters",
        {
            "names": [{"language": "EN", "value": "Oxford Shirt"}],
            "clusterConfig": {"name": config["name"]},
            "code": "OXFORD",
        },
    ).json()["data"]
    base = "/v2/clusters/code/OXFORD"
    variants = []
    for color in ("white", "blue"):
        for size in ("S", "M", "L"):
            response = api.post(
                f"{base}/products",
                {
                    "names": [{"language": "EN", "value": f"Oxford Shirt {color} {size}"}],
                    "sku": f"OX-{color[0].upper()}-{size}",
                    "attributes": [
                        {"name": "COLOR", "value": color},
                        {"name": "SIZE", "value": size},
                    ],
                },
            )
            assert response.status_code == 201, response.content
            variants.append(response.json()["data"])
    assert len(variants) == 6

    # Not ready yet: no default product, and a required option without products
    option = api.post(
        f"{base}/options",
        {"names": [{"language": "EN", "value": "Gift wrap"}], "isRequired": True},
    ).json()["data"]
    draft = api.get(f"{base}/validate").json()["data"]
    assert codes(draft) == ["DEFAULT_PRODUCT_MISSING", "REQUIRED_OPTION_UNAVAILABLE"]

    wraps = [
        api.post("/v2/products", {"names": [{"language": "EN", "value": name}], "sku": sku}).json()[
            "data"
        ]
        for name, sku in (("Gift paper", "WRAP-PAPER"), ("Gift box", "WRAP-BOX"))
    ]
    assigned = api.post(
        f"/v2/clusteroptions/id/{option['id']}/products/assign",
        {"products": [{"sku": "WRAP-PAPER"}, {"sku": "WRAP-BOX"}]},
    ).json()
    assert assigned["messages"] == ["2 assigned, 0 failed"]
    api.patch(f"{base}", {"defaultProduct": {"id": variants[0]["id"]}})
    api.patch(f"/v2/clusteroptions/id/{option['id']}", {"defaultProduct": {"id": wraps[0]["id"]}})

    assert api.get(f"{base}/validate").json()["data"] == {"valid": True, "problems": []}
    expanded = api.get(base, {"expands": "products,options"}).json()["data"]
    assert [p["id"] for p in expanded["products"]] == [v["id"] for v in variants]
    assert expanded["options"][0]["products"] == [w["id"] for w in wraps]
    assert expanded["options"][0]["defaultProduct"] == {"id": wraps[0]["id"]}

    # the last variant (blue L) is edited into a second blue M
    api.patch(
        f"{base}/products/{variants[5]['id']}",
        {"attributes": [{"name": "COLOR", "value": "blue"}, {"name": "SIZE", "value": "M"}]},
    )
    data = api.get(f"{base}/validate").json()["data"]
    assert data["valid"] is False
    assert data["problems"] == [
        {
            "code": "DUPLICATE_ATTRIBUTE_COMBINATION",
            "message": (
                f"Products [{variants[4]['id']}, {variants[5]['id']}] share the combination "
                "COLOR=blue, SIZE=M."
            ),
            "productIds": [variants[4]["id"], variants[5]["id"]],
        }
    ]
    assert cluster["id"] == expanded["id"]
