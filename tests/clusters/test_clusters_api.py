from __future__ import annotations

import pytest

from catalogue.models import Product
from clusters.models import Cluster, ClusterOption, ClusterProduct, OptionProduct
from tests.catalogue.factories import ProductFactory, ProductSourceFactory
from tests.clusters.factories import (
    ClusterConfigFactory,
    ClusterConfigSettingFactory,
    ClusterFactory,
    ClusterOptionFactory,
    ClusterSourceFactory,
    OptionProductFactory,
    members,
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
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def config():
    return ClusterConfigFactory(name="shirts")


def body(config, **overrides):
    return {
        "names": [{"language": "EN", "value": "Oxford Shirt"}, {"language": "NL", "value": "Hemd"}],
        "clusterConfig": {"id": config.pk},
        "code": "OX-1",
        "source": "ERP",
        "sourceId": "CL-1",
        **overrides,
    }


def seed_clusters(ctx, n: int) -> Cluster:
    """``n`` clusters, each with a source, two members (the first its default product), an option
    with a product; every product with a source. The last cluster holds ``n`` more members."""
    ClusterConfigSettingFactory(config=ctx.config)
    for _ in range(n):
        cluster = ClusterFactory(cluster_config=ctx.config)
        ClusterSourceFactory(cluster=cluster)
        products = members(cluster, 2)
        cluster.default_product = products[0]
        cluster.save()
        OptionProductFactory(option=ClusterOptionFactory(cluster=cluster))
    for product in [*members(cluster, n), *Product.objects.filter(sources=None)]:
        ProductSourceFactory(product=product)
    return cluster


EVERY_EXPANSION = {"expands": "products,options,clusterConfig,defaultProduct"}


def expanded(body) -> bool:
    rows = body["data"] if isinstance(body["data"], list) else [body["data"]]
    return all(
        row["products"] and row["options"] and row["defaultProduct"]["sources"] for row in rows
    )


CLUSTER = Resource(
    noun="Cluster",
    collection="/v2/clusters",
    scope="clusters",
    not_found=20006,
    context=lambda: Context(config=ClusterConfigFactory(name="shirts")),
    create=lambda ctx: body(ctx.config),
    created=lambda ctx: {
        "language": "EN",
        "code": "OX-1",
        "clusterConfig": {"id": ctx.config.pk, "name": "shirts"},
        "names": localized(EN="Oxford Shirt", NL="Hemd"),
        "slugs": localized(EN="oxford-shirt", NL="hemd"),
        "sources": [{"source": "ERP", "sourceId": "CL-1"}],
        **{"parent": None, "defaultProduct": None, "hidden": False, "priority": 0},
    },
    update={"hidden": True, "priority": 2},
    updated={"hidden": True, "priority": 2},
    lookups=(Lookup("sourceId", "CL-1", {"source": "ERP"}), Lookup("code", "OX-1")),
    seed=seed_clusters,
    translation="NL",
    translated={"descriptions": localized(NL="Katoen")},
    sorts=("name", "-name"),
    costs=(
        # token + cluster (config joined) + sources
        Cost("detail", "/v2/clusters/id/{row.pk}", 3),
        Cost("list", "/v2/clusters", 3, {"pageSize": "100"}),
        # + memberships, products, their sources and attributes; options, their sources and
        # products; config settings; default products with their sources and attributes
        Cost("detail-expanded", "/v2/clusters/id/{row.pk}", 14, EVERY_EXPANSION, expanded),
        Cost("list-expanded", "/v2/clusters", 14, {**EVERY_EXPANSION, "pageSize": "100"}, expanded),
        # the products inside: token + cluster + products (membership, sources, attributes)
        Cost("products", "/v2/clusters/id/{row.pk}/products", 3, {"pageSize": "100"}, many_sourced),
        Cost("product", "/v2/clusters/id/{row.pk}/products/{row.default_product_id}", 5),
        # the product list keeps its cost with the membership joined
        Cost(
            "product-list",
            "/v2/products",
            2,
            {"pageSize": "100"},
            check=lambda body: any(p["cluster"] for p in body["data"]),
        ),
    ),
    bulk=BulkCost(
        "/v2/clusters/bulk/sourceId",
        "clusters",
        lambda i, ctx: {
            **{"source": "ERP", "sourceId": f"B{i}", "names": localized(EN=f"Cluster {i}")},
            "clusterConfig": {"name": ctx.config.name},
        },
        statements=14,  # PostgreSQL (+ the events' COPY, the creates' ids); SQLite runs 11
    ),
)


TestClusterResource = resource_tests(CLUSTER)


def create(api, config, **overrides):
    return CLUSTER.post(api, Context(config=config), **overrides)


def test_config_by_name_and_missing_config(api, config):
    data = create(api, config, clusterConfig={"name": "shirts"})
    assert data["clusterConfig"]["id"] == config.pk
    error = envelope_error(
        api.post("/v2/clusters", body(config, code="X", sourceId="2", clusterConfig={"id": 999})),
        404,
        21005,
    )
    assert error["messages"] == ["Cluster config with id [999] not found."]
    envelope_error(
        api.post(
            "/v2/clusters", body(config, code="Y", sourceId="3", clusterConfig={"name": "nope"})
        ),
        404,
        21005,
    )


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({"clusterConfig": None}, "clusterConfig"),
        ({"clusterConfig": {"code": "x"}}, "clusterConfig"),
        ({"code": ""}, "code"),
        ({"code": "x" * 65}, "code"),
        ({"names": [{"language": "XX", "value": "a"}]}, "names[0].language"),
        ({"defaultProduct": {"sku": "1"}}, "defaultProduct.sku"),
        ({"parent": {"slug": "x"}}, "parent"),
        ({"sources": [{"source": "ERP", "sourceId": "1"}]}, "sources"),
        ({"products": [1]}, "products"),
        ({"id": 3}, "id"),
    ],
)
def test_validation_errors_name_the_field(api, config, overrides, path):
    error = envelope_error(api.post("/v2/clusters", body(config, **overrides)), 400, 10007)
    assert path in error["fields"], error["fields"]
    assert not Cluster.objects.exists()


def test_config_and_names_are_required(api, config):
    error = envelope_error(api.post("/v2/clusters", {"code": "A"}), 400, 10007)
    assert {"names", "clusterConfig"} <= set(error["fields"])
    response = api.post(
        "/v2/clusters",
        {"names": [{"language": "NL", "value": "Hemd"}], "clusterConfig": {"id": config.pk}},
    )
    envelope_error(response, 422, 10019)


def test_code_and_source_pair_are_unique_but_codes_are_optional(api, config):
    create(api, config)
    error = envelope_error(api.post("/v2/clusters", body(config, sourceId="other")), 409, 20004)
    assert error["messages"] == ["Cluster with code [OX-1] already exists."]
    envelope_error(api.post("/v2/clusters", body(config, code="OX-2")), 409, 20004)
    first = create(api, config, code=None, source="PIM", sourceId="a")
    second = create(api, config, code=None, source="PIM", sourceId="b")
    assert first["code"] is None and second["code"] is None


def test_default_product_on_create_is_refused(api, config):
    product = ProductFactory()
    response = api.post("/v2/clusters", body(config, defaultProduct={"id": product.pk}))
    envelope_error(response, 422, 10017)


def test_lookup_errors(api, config):
    create(api, config)
    error = envelope_error(api.get("/v2/clusters/code/NOPE"), 404, 20006)
    assert error["messages"] == ["Cluster with code [NOPE] not found."]
    envelope_error(api.get("/v2/clusters/slug/oxford-shirt"), 400, 10006)
    envelope_error(api.get("/v2/clusters/id/abc"), 404, 20006)


def test_patch_merges_translations_bumps_version_and_honours_if_match(api, config):
    created = create(api, config)
    path = f"/v2/clusters/id/{created['id']}"
    envelope_error(api.patch(path, {"hidden": True}, headers={"If-Match": '"4"'}), 412, 10009)
    response = api.patch(
        path,
        {"names": [{"language": "DE", "value": "Hemd DE"}, {"language": "NL", "value": None}]},
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert response.json()["messages"] == ["Cluster updated"]
    assert data["names"] == [
        {"language": "EN", "value": "Oxford Shirt"},
        {"language": "DE", "value": "Hemd DE"},
    ]
    assert data["version"] == 2 and response["ETag"] == '"2"'
    assert data["code"] == "OX-1"
    unchanged = api.patch(path, {"code": "OX-1", "hidden": False}).json()["data"]
    assert unchanged["version"] == 2
    cleared = api.patch(path, {"code": None}).json()["data"]
    assert cleared["code"] is None and cleared["version"] == 3
    envelope_error(api.patch(path, {"names": [{"language": "EN", "value": None}]}), 422, 10019)


def test_patch_can_move_the_cluster_to_another_config(api, config):
    created = create(api, config)
    other = ClusterConfigFactory(name="other")
    data = api.patch(f"/v2/clusters/id/{created['id']}", {"clusterConfig": {"name": "other"}})
    assert data.json()["data"]["clusterConfig"] == {"id": other.pk, "name": "other"}


def test_parent_category_by_id_or_source_and_missing(api, config):
    category = CategoryFactory()
    category.sources.create(source="ERP", source_id="CAT-1")
    data = create(api, config, parent={"sourceId": "CAT-1", "source": "ERP"})
    assert data["parent"] == {"id": category.pk}
    path = f"/v2/clusters/id/{data['id']}"
    envelope_error(api.patch(path, {"parent": {"id": 999}}), 404, 30007)
    assert api.patch(path, {"parent": None}).json()["data"]["parent"] is None


def test_default_product_must_belong_to_the_cluster(api, config):
    cluster = ClusterFactory(cluster_config=config)
    inside, _ = members(cluster)
    outsider = ProductFactory()
    in_other = members(ClusterFactory())[0]
    path = f"/v2/clusters/id/{cluster.pk}"
    for product in (outsider, in_other):
        error = envelope_error(api.patch(path, {"defaultProduct": {"id": product.pk}}), 422, 10017)
        assert "not one of the cluster's products" in error["messages"][0]
    envelope_error(api.patch(path, {"defaultProduct": {"id": 99999}}), 422, 10017)
    data = api.patch(path, {"defaultProduct": {"id": inside.pk}}).json()["data"]
    assert data["defaultProduct"] == {"id": inside.pk}
    assert api.patch(path, {"defaultProduct": None}).json()["data"]["defaultProduct"] is None


def test_expansions(api, config):
    ClusterConfigSettingFactory(config=config, attribute_name="COLOR", display_type="color")
    cluster = ClusterFactory(cluster_config=config)
    first, second = members(cluster)
    cluster.default_product = first
    cluster.save()
    option = ClusterOptionFactory(cluster=cluster, is_required=True)
    wrap_b, wrap_a = ProductFactory.create_batch(2)
    OptionProductFactory(option=option, product=wrap_a, position=1)
    OptionProductFactory(option=option, product=wrap_b, position=2)
    path = f"/v2/clusters/id/{cluster.pk}"

    plain = api.get(path).json()["data"]
    assert "products" not in plain and "options" not in plain
    assert plain["defaultProduct"] == {"id": first.pk}

    data = api.get(path, {"expands": "products,options,clusterConfig,defaultProduct"}).json()[
        "data"
    ]
    assert [p["id"] for p in data["products"]] == [first.pk, second.pk]
    assert data["products"][0]["cluster"] == {"id": cluster.pk}
    assert [o["id"] for o in data["options"]] == [option.pk]
    assert data["options"][0]["products"] == [wrap_a.pk, wrap_b.pk]
    assert data["clusterConfig"]["name"] == "shirts"
    assert data["clusterConfig"]["settings"][0]["attributeName"] == "COLOR"
    assert data["defaultProduct"]["id"] == first.pk
    assert data["defaultProduct"]["names"] == [{"language": "EN", "value": first.name_en}]

    error = envelope_error(api.get(path, {"expands": "variants"}), 400, 10007)
    assert "expands" in error["fields"]


def test_language_param_narrows_localized_output(api, config):
    created = create(api, config)
    data = api.get(f"/v2/clusters/id/{created['id']}", {"language": "nl"}).json()["data"]
    assert data["names"] == [{"language": "NL", "value": "Hemd"}]


def test_delete_removes_options_and_leaves_products_without_a_home(api, config):
    cluster = ClusterFactory(cluster_config=config)
    products = members(cluster, 3)
    cluster.default_product = products[0]
    cluster.save()
    option = ClusterOptionFactory(cluster=cluster)
    wrap = ProductFactory()
    OptionProductFactory(option=option, product=wrap)
    versions = {p.pk: p.version for p in products}

    response = api.delete(f"/v2/clusters/id/{cluster.pk}", headers={"If-Match": '"1"'})
    assert response.status_code == 200
    assert response.json() == {"data": {}, "messages": ["Cluster deleted"]}
    assert not Cluster.objects.exists() and not ClusterOption.objects.exists()
    assert not ClusterProduct.objects.exists() and not OptionProduct.objects.exists()
    for product in products:
        data = api.get(f"/v2/products/id/{product.pk}").json()["data"]
        assert data["cluster"] is None and data["parent"] is None
        assert data["version"] == versions[product.pk] + 1
    assert Product.objects.filter(pk=wrap.pk).exists()
    envelope_error(api.get(f"/v2/clusters/id/{cluster.pk}"), 404, 20006)


def test_list_filters(api, config):
    leaf = CategoryFactory()
    child = CategoryFactory(parent=leaf)
    other_config = ClusterConfigFactory()
    a = ClusterFactory(cluster_config=config, code="A-1", parent=leaf, name_en="Alpha")
    b = ClusterFactory(cluster_config=config, code="B-1", parent=child, hidden=True)
    c = ClusterFactory(cluster_config=other_config, code="")
    ClusterSourceFactory(cluster=c, source="PIM", source_id="p-1")

    def ids(**params):
        response = api.get("/v2/clusters", params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["data"]]

    assert ids() == [a.pk, b.pk, c.pk]
    assert ids(code="B-1") == [b.pk]
    assert ids(clusterConfig=config.pk) == [a.pk, b.pk]
    assert ids(category=leaf.pk) == [a.pk]
    assert ids(category=leaf.pk, includeDescendants="true") == [a.pk, b.pk]
    assert ids(hidden="true") == [b.pk]
    assert ids(q="a-1") == [a.pk]
    assert ids(q="alph") == [a.pk]
    assert ids(source="PIM") == [c.pk]
    assert ids(ids=f"{a.pk},{c.pk}") == [a.pk, c.pk]
    assert ids(sort="-code") == [b.pk, a.pk, c.pk]
    envelope_error(api.get("/v2/clusters", {"clusterConfig": "x"}), 400, 10007)
    envelope_error(api.get("/v2/clusters", {"eanCode": "x"}), 400, 10007)
    envelope_error(api.get("/v2/clusters", {"sort": "sku"}), 400, 10007)
