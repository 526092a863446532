"""``POST …/{lk}/{lv}/attributes`` and ``DELETE …/attributes/{name}`` of products and clusters
(SPEC §22): upsert by name keeping the others, delete by name, the entity's write scope, a
version bump and ``If-Match`` like PATCH."""

from __future__ import annotations

import pytest

from catalogue.models import ProductAttribute
from tests.catalogue.factories import ProductFactory, ProductSourceFactory
from tests.clusters.factories import ClusterFactory
from tests.conftest import envelope_error

pytestmark = pytest.mark.django_db

KINDS = {
    "products": ("products:write", "products:read", 80007),
    "clusters": ("clusters:write", "clusters:read", 20011),
}


def _record(kind: str, attributes: list[tuple[str, object]] = ()):
    if kind == "products":
        product = ProductFactory(sku="SKU-A")
        ProductSourceFactory(product=product, source="ERP", source_id="R-1")
        for position, (name, value) in enumerate(attributes):
            ProductAttribute.objects.create(
                product=product, position=position, name=name, value=value
            )
        return product
    cluster = ClusterFactory(
        sku="SKU-A", attributes=[{"name": n, "value": v} for n, v in attributes] or None
    )
    cluster.sources.create(source="ERP", source_id="R-1")
    return cluster


@pytest.mark.parametrize("kind", KINDS)
def test_upsert_sets_values_by_name_and_keeps_the_others(api, kind):
    record = _record(kind, [("COLOR", "red"), ("SIZE", "M"), ("FIT", "slim")])
    path = f"/v2/{kind}/id/{record.pk}/attributes"
    response = api.post(
        path,
        {"attributes": [{"name": "SIZE", "value": "L"}, {"name": "WEIGHT", "value": 1.5}]},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["messages"] == ["Attributes updated"]
    assert body["data"]["attributes"] == [
        {"name": "COLOR", "value": "red"},
        {"name": "SIZE", "value": "L"},
        {"name": "FIT", "value": "slim"},
        {"name": "WEIGHT", "value": 1.5},
    ]
    assert body["data"]["version"] == 2 and response["ETag"] == '"2"'
    read = api.get(f"/v2/{kind}/id/{record.pk}").json()["data"]
    assert read["attributes"] == body["data"]["attributes"]

    same = api.post(path, {"attributes": [{"name": "SIZE", "value": "L"}]}).json()["data"]
    assert same["version"] == 2  # nothing changed, nothing written (§8)
    retyped = api.post(path, {"attributes": [{"name": "WEIGHT", "value": "1.5"}]}).json()
    assert retyped["data"]["version"] == 3  # 1.5 → "1.5" is a change
    listed = api.post(path, {"attributes": [{"name": "TAGS", "value": ["a", "b"]}]}).json()
    assert listed["data"]["attributes"][-1] == {"name": "TAGS", "value": ["a", "b"]}


@pytest.mark.parametrize("kind", KINDS)
def test_delete_removes_one_name_and_a_missing_one_is_404(api, kind):
    record = _record(kind, [("COLOR", "red"), ("SIZE", "M")])
    response = api.delete(f"/v2/{kind}/id/{record.pk}/attributes/COLOR")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["messages"] == ["Attribute deleted"]
    assert body["data"]["attributes"] == [{"name": "SIZE", "value": "M"}]
    assert body["data"]["version"] == 2
    code = KINDS[kind][2]
    error = envelope_error(api.delete(f"/v2/{kind}/id/{record.pk}/attributes/COLOR"), 404, code)
    assert "COLOR" in error["messages"][0]
    envelope_error(api.delete(f"/v2/{kind}/id/{record.pk}/attributes/size"), 404, code)
    api.delete(f"/v2/{kind}/id/{record.pk}/attributes/SIZE")
    assert api.get(f"/v2/{kind}/id/{record.pk}").json()["data"]["attributes"] == []


@pytest.mark.parametrize("kind", KINDS)
def test_routes_take_every_lookup_key(api, kind):
    record = _record(kind)
    for key, value, query in (("sourceId", "R-1", "?source=ERP"), ("sku", "SKU-A", "")):
        response = api.post(
            f"/v2/{kind}/{key}/{value}/attributes{query}",
            {"attributes": [{"name": f"BY_{key.upper()}", "value": True}]},
        )
        assert response.status_code == 200, response.content
        assert response.json()["data"]["id"] == record.pk
    response = api.delete(f"/v2/{kind}/sku/SKU-A/attributes/BY_SKU")
    assert response.json()["data"]["attributes"] == [{"name": "BY_SOURCEID", "value": True}]
    not_found = 80006 if kind == "products" else 20006
    envelope_error(
        api.post(f"/v2/{kind}/sku/NOPE/attributes", {"attributes": [{"name": "A", "value": 1}]}),
        404,
        not_found,
    )


@pytest.mark.parametrize("kind", KINDS)
def test_if_match_is_honoured_like_patch(api, kind):
    record = _record(kind, [("COLOR", "red")])
    path = f"/v2/{kind}/id/{record.pk}/attributes"
    upsert = {"attributes": [{"name": "COLOR", "value": "blue"}]}
    envelope_error(api.post(path, upsert, headers={"If-Match": '"7"'}), 412, 10009)
    envelope_error(api.delete(f"{path}/COLOR", headers={"If-Match": '"7"'}), 412, 10009)
    assert api.get(f"/v2/{kind}/id/{record.pk}").json()["data"]["attributes"] == [
        {"name": "COLOR", "value": "red"}
    ]
    assert api.post(path, upsert, headers={"If-Match": '"1"'}).status_code == 200
    assert api.delete(f"{path}/COLOR", headers={"If-Match": '"2"'}).status_code == 200


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "payload, field",
    [
        ({"attributes": [{"name": "color", "value": "red"}]}, "attributes[0].name"),
        (
            {"attributes": [{"name": "A", "value": 1}, {"name": "A", "value": 2}]},
            "attributes[1].name",
        ),
        ({"attributes": []}, "attributes"),
        ({"attributes": [{"name": "A"}]}, "attributes[0].value"),
        ({"attributes": [{"name": "A", "value": {"x": 1}}]}, "attributes[0].value"),
        ({}, "attributes"),
        ({"attributes": [{"name": "A", "value": 1}], "names": []}, "names"),
    ],
)
def test_bad_bodies_are_10007_on_the_field(api, kind, payload, field):
    record = _record(kind)
    error = envelope_error(api.post(f"/v2/{kind}/id/{record.pk}/attributes", payload), 400, 10007)
    assert field in error["fields"], error["fields"]


@pytest.mark.parametrize("kind", KINDS)
def test_more_than_500_attributes_in_all_is_refused(api, kind):
    record = _record(kind, [(f"A{i}", i) for i in range(499)])
    path = f"/v2/{kind}/id/{record.pk}/attributes"
    two = {"attributes": [{"name": "NEW_1", "value": 1}, {"name": "NEW_2", "value": 2}]}
    error = envelope_error(api.post(path, two), 422, 10017)
    assert "500" in error["messages"][0]
    assert api.post(path, {"attributes": [{"name": "NEW_1", "value": 1}]}).status_code == 200


@pytest.mark.parametrize("kind", KINDS)
def test_the_entity_write_scope_is_needed(client_with_scopes, kind):
    write, read, _ = KINDS[kind]
    record = _record(kind, [("COLOR", "red")])
    path = f"/v2/{kind}/id/{record.pk}/attributes"
    upsert = {"attributes": [{"name": "COLOR", "value": "blue"}]}
    other = "clusters:write" if kind == "products" else "products:write"
    for scopes in ((read,), (other,)):
        client = client_with_scopes(*scopes)
        error = envelope_error(client.post(path, upsert), 403, 10002)
        assert write in error["messages"][0]
        envelope_error(client.delete(f"{path}/COLOR"), 403, 10002)
    client = client_with_scopes(write)
    assert client.post(path, upsert).status_code == 200
    assert client.delete(f"{path}/COLOR").status_code == 200


def test_cluster_attributes_are_written_whole_by_create_and_patch(api):
    config = ClusterFactory().cluster_config
    created = api.post(
        "/v2/clusters",
        {
            "names": [{"language": "EN", "value": "Shirt"}],
            "clusterConfig": {"id": config.pk},
            "attributes": [{"name": "BRAND", "value": "Acme"}, {"name": "YEAR", "value": 2026}],
        },
    )
    assert created.status_code == 201, created.content
    data = created.json()["data"]
    assert data["attributes"] == [
        {"name": "BRAND", "value": "Acme"},
        {"name": "YEAR", "value": 2026},
    ]
    path = f"/v2/clusters/id/{data['id']}"
    patched = api.patch(path, {"attributes": [{"name": "YEAR", "value": 2027}]}).json()["data"]
    assert patched["attributes"] == [{"name": "YEAR", "value": 2027}]  # PATCH replaces the list
    assert patched["version"] == 2
    assert api.patch(path, {"attributes": []}).json()["data"]["attributes"] == []
    error = envelope_error(
        api.patch(path, {"attributes": [{"name": "A", "value": 1}, {"name": "A", "value": 1}]}),
        400,
        10007,
    )
    assert "attributes[1].name" in error["fields"]
