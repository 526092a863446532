"""The cluster ``sku`` (SPEC §22): optional, not unique, a lookup key, a bulk key, a filter."""

from __future__ import annotations

import io

import orjson
import pytest
from django.core.management import call_command

from clusters.models import Cluster
from tests.admin.conftest import changeform_data
from tests.catalogue.factories import ProductSourceFactory
from tests.clusters.factories import ClusterConfigFactory, ClusterFactory, members
from tests.conftest import envelope_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def config():
    return ClusterConfigFactory(name="shirts")


def _body(config, **fields):
    return {
        "names": [{"language": "EN", "value": "Oxford Shirt"}],
        "clusterConfig": {"name": config.name},
        **fields,
    }


def test_sku_is_written_read_changed_and_cleared(api, config):
    created = api.post("/v2/clusters", _body(config, sku="OXF-100"))
    assert created.status_code == 201, created.content
    data = created.json()["data"]
    assert data["sku"] == "OXF-100"
    path = f"/v2/clusters/id/{data['id']}"
    assert api.get(path).json()["data"]["sku"] == "OXF-100"
    changed = api.patch(path, {"sku": "OXF-200"}).json()["data"]
    assert (changed["sku"], changed["version"]) == ("OXF-200", 2)
    assert api.patch(path, {"priority": 1}).json()["data"]["sku"] == "OXF-200"  # kept
    assert api.patch(path, {"sku": None}).json()["data"]["sku"] is None
    assert Cluster.objects.get(pk=data["id"]).sku == ""
    plain = api.post("/v2/clusters", _body(config)).json()["data"]
    assert plain["sku"] is None


@pytest.mark.parametrize("sku", ["", "x" * 129, 12])
def test_bad_sku_is_10007_on_its_field(api, config, sku):
    error = envelope_error(api.post("/v2/clusters", _body(config, sku=sku)), 400, 10007)
    assert "sku" in error["fields"]


def test_sku_is_not_unique_and_a_lookup_key(api, config):
    one = ClusterFactory(cluster_config=config, sku="SHARED")
    ClusterFactory(cluster_config=config, sku="SHARED")
    alone = ClusterFactory(cluster_config=config, sku="ALONE")

    response = api.get("/v2/clusters/sku/ALONE")
    assert response.status_code == 200, response.content
    assert response.json()["data"]["id"] == alone.pk
    assert response["ETag"] == '"1"'
    error = envelope_error(api.get("/v2/clusters/sku/SHARED"), 400, 20005)
    assert "SHARED" in error["messages"][0]
    envelope_error(api.get("/v2/clusters/sku/NONE"), 404, 20006)
    # the key serves every route under the cluster
    patched = api.patch("/v2/clusters/sku/ALONE", {"priority": 5})
    assert patched.json()["data"]["priority"] == 5
    members(alone, 2)
    assert len(api.get("/v2/clusters/sku/ALONE/products").json()["data"]) == 2
    ids = [row["id"] for row in api.get("/v2/clusters", {"sku": "SHARED"}).json()["data"]]
    assert ids[0] == one.pk and len(ids) == 2
    assert [r["id"] for r in api.get("/v2/clusters", {"q": "alone"}).json()["data"]] == [alone.pk]


def test_sku_as_bulk_key_upserts_and_refuses_ambiguity(api, config):
    existing = ClusterFactory(cluster_config=config, sku="ONE")
    ClusterFactory.create_batch(2, cluster_config=config, sku="TWO")
    product = ProductSourceFactory(source="ERP", source_id="P-1").product
    names = [{"language": "EN", "value": "Fresh"}]
    response = api.post(
        "/v2/clusters/bulk/sku",
        {
            "clusters": [
                {"sku": "ONE", "priority": 7, "products": [{"source": "ERP", "sourceId": "P-1"}]},
                {"sku": "NEW", "names": names, "clusterConfig": {"id": config.pk}},
                {"sku": "TWO", "priority": 1},
                {"priority": 1},
            ]
        },
    )
    assert response.status_code == 200, response.content
    outcomes = response.json()["data"]
    assert [o["action"] for o in outcomes] == ["update", "create", "error", "error"]
    assert [o["lookupKey"] for o in outcomes[:3]] == ["sku"] * 3
    assert outcomes[0]["key"] == "ONE" and outcomes[0]["id"] == existing.pk
    assert outcomes[0]["products"][0]["id"] == product.pk  # nested items keep sourceId
    assert outcomes[2]["error"]["code"] == 20005
    assert outcomes[3]["error"]["code"] == 10016
    existing.refresh_from_db()
    assert existing.priority == 7
    assert Cluster.objects.get(sku="NEW").name_en == "Fresh"


def test_sku_round_trips_through_export_and_import(config):
    ClusterFactory(cluster_config=config, sku="EXP-1", code="C-EXP")
    out = io.StringIO()
    call_command("export_catalogue", entity="clusters", format="ndjson", stdout=out)
    record = orjson.loads(out.getvalue().splitlines()[0])
    assert record["sku"] == "EXP-1"
    csv_out = io.StringIO()
    call_command("export_catalogue", entity="clusters", format="csv", stdout=csv_out)
    assert "sku" in csv_out.getvalue().splitlines()[0].split(",")


def test_back_office_edits_and_searches_the_sku(admin_client, config):
    cluster = ClusterFactory(cluster_config=config, sku="")
    ClusterFactory(cluster_config=config)
    url = f"/admin/clusters/cluster/{cluster.pk}/change/"
    data = changeform_data(admin_client.get(url), sku="ADM-9")
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    cluster.refresh_from_db()
    assert (cluster.sku, cluster.version) == ("ADM-9", 2)
    found = admin_client.get("/admin/clusters/cluster/", {"q": "adm-9"})
    assert [row.pk for row in found.context["cl"].result_list] == [cluster.pk]
