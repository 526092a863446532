from __future__ import annotations

import pytest

from clusters.models import ClusterConfig, ClusterConfigSetting
from tests.clusters.factories import (
    ClusterConfigFactory,
    ClusterConfigSettingFactory,
    ClusterFactory,
)
from tests.conftest import envelope_error
from tests.resources import Cost, Lookup, Resource, resource_tests

pytestmark = pytest.mark.django_db

SHIRT = {
    "name": "shirt_variants",
    "settings": [
        {"attributeName": "COLOR", "displayType": "color", "priority": 1},
        {"attributeName": "SIZE", "displayType": "dropdown", "priority": 2},
    ],
}


def seed_configs(ctx, n: int) -> ClusterConfig:
    """``n`` configs with three settings each."""
    for _ in range(n):
        config = ClusterConfigFactory()
        ClusterConfigSettingFactory.create_batch(3, config=config)
    return config


def three_settings(body) -> bool:
    """Every config holds its three settings (or the page is those three settings)."""
    data = body["data"]
    if isinstance(data, dict):
        return len(data["settings"]) == 3
    if "settings" in data[0]:
        return all(len(config["settings"]) == 3 for config in data)
    return len(data) == 3


CONFIG = Resource(
    noun="Cluster config",
    collection="/v2/clusterconfigs",
    scope="cluster-configs",
    not_found=21005,
    create=lambda ctx: SHIRT,
    # settings in priority order, each with its id
    created=lambda ctx: {"name": "shirt_variants", "settings": SHIRT["settings"]},
    update={"settings": [{"attributeName": "FIT", "displayType": "radio", "priority": 1}]},
    updated={"settings": [{"attributeName": "FIT", "displayType": "radio", "priority": 1}]},
    lookups=(Lookup("name", "shirt_variants"),),
    seed=seed_configs,
    costs=(
        # token + config + settings
        Cost("detail", "/v2/clusterconfigs/id/{row.pk}", 3, check=three_settings),
        Cost("list", "/v2/clusterconfigs", 3, {"pageSize": "100"}, check=three_settings),
        # token + config + settings page
        Cost("settings", "/v2/clusterconfigs/id/{row.pk}/settings", 3, check=three_settings),
    ),
)


TestClusterConfigResource = resource_tests(CONFIG)


def create(api, **overrides):
    return CONFIG.post(api, CONFIG.context(), **overrides)


def test_display_type_defaults_to_dropdown_and_settings_are_optional(api):
    data = create(api, settings=[{"attributeName": "FIT"}])
    assert data["settings"][0]["displayType"] == "dropdown"
    assert data["settings"][0]["priority"] == 0
    assert create(api, name="bare", settings=[])["settings"] == []
    assert api.post("/v2/clusterconfigs", {"name": "bare2"}).json()["data"]["settings"] == []


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"name": "a"}, "name"),
        ({"name": "x" * 36}, "name"),
        ({"name": "shirt-sizes"}, "name"),
        ({"name": "shirt sizes"}, "name"),
        ({"settings": [{"attributeName": "color"}]}, "settings[0].attributeName"),
        (
            {"settings": [{"attributeName": "COLOR", "displayType": "swatch"}]},
            "settings[0].displayType",
        ),
        ({"settings": [{"displayType": "radio"}]}, "settings[0].attributeName"),
        (
            {"settings": [{"attributeName": "COLOR"}, {"attributeName": "COLOR"}]},
            "settings[1].attributeName",
        ),
        ({"settings": [{"attributeName": "C", "id": 4}]}, "settings[0].id"),
        ({"version": 3}, "version"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_validation_errors_name_the_field(api, body, path):
    error = envelope_error(api.post("/v2/clusterconfigs", {"name": "ok_name", **body}), 400, 10007)
    assert path in error["fields"], error["fields"]
    assert not ClusterConfig.objects.exists()


def test_name_is_required_and_unique(api):
    error = envelope_error(api.post("/v2/clusterconfigs", {"settings": []}), 400, 10007)
    assert "name" in error["fields"]
    create(api)
    error = envelope_error(api.post("/v2/clusterconfigs", SHIRT), 409, 21004)
    assert error["messages"] == ["Cluster config with name [shirt_variants] already exists."]


def test_name_cannot_change(api):
    created = create(api)
    path = f"/v2/clusterconfigs/id/{created['id']}"
    error = envelope_error(api.patch(path, {"name": "renamed"}), 422, 10017)
    assert "cannot change" in error["messages"][0]
    same = api.patch(path, {"name": "shirt_variants"})
    assert same.status_code == 200
    assert same.json()["data"]["version"] == 1
    assert same.json()["messages"] == ["Cluster config updated"]


def test_patch_settings_replaces_the_list_and_keeps_ids_of_kept_attributes(api):
    created = create(api)
    assert all(isinstance(s["id"], int) for s in created["settings"])
    color_id = created["settings"][0]["id"]
    path = f"/v2/clusterconfigs/id/{created['id']}"
    response = api.patch(
        path,
        {
            "settings": [
                {"attributeName": "COLOR", "displayType": "image", "priority": 5},
                {"attributeName": "LENGTH", "displayType": "radio"},
            ]
        },
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["version"] == 2
    assert response["ETag"] == '"2"'
    assert [(s["attributeName"], s["displayType"]) for s in data["settings"]] == [
        ("LENGTH", "radio"),  # priority 0 sorts first
        ("COLOR", "image"),
    ]
    assert next(s for s in data["settings"] if s["attributeName"] == "COLOR")["id"] == color_id
    assert not ClusterConfigSetting.objects.filter(attribute_name="SIZE").exists()


def test_delete_returns_empty_data_and_is_refused_while_in_use(api):
    created = create(api)
    path = f"/v2/clusterconfigs/id/{created['id']}"
    clusters = ClusterFactory.create_batch(2, cluster_config_id=created["id"])
    error = envelope_error(api.delete(path), 409, 21008)
    assert "2 cluster(s)" in error["messages"][0]
    assert api.get(path).status_code == 200
    for cluster in clusters:
        cluster.delete()
    response = api.delete(path)
    assert response.json() == {"data": {}, "messages": ["Cluster config deleted"]}
    assert not ClusterConfigSetting.objects.exists()
    envelope_error(api.get(path), 404, 21005)


def test_list_filters_sorts_and_pages(api):
    for name in ("bravo", "alpha", "charlie"):
        config = ClusterConfigFactory(name=name)
    ClusterConfigSettingFactory(config=config, attribute_name="COLOR")
    body = api.get("/v2/clusterconfigs", {"sort": "name"}).json()
    assert [c["name"] for c in body["data"]] == ["alpha", "bravo", "charlie"]
    assert body["pagination"]["nextCursor"] is None
    assert [c["name"] for c in api.get("/v2/clusterconfigs", {"name": "alpha"}).json()["data"]] == [
        "alpha"
    ]
    assert [c["name"] for c in api.get("/v2/clusterconfigs", {"q": "HAR"}).json()["data"]] == [
        "charlie"
    ]
    found = api.get("/v2/clusterconfigs", {"attributeName": "COLOR"}).json()["data"]
    assert [c["name"] for c in found] == ["charlie"]
    first = api.get("/v2/clusterconfigs", {"pageSize": 2, "sort": "-name", "withCount": "true"})
    page = first.json()
    assert [c["name"] for c in page["data"]] == ["charlie", "bravo"]
    assert page["pagination"]["total"] == 3
    second = api.get(page["pagination"]["next"]).json()
    assert [c["name"] for c in second["data"]] == ["alpha"]
    envelope_error(api.get("/v2/clusterconfigs", {"hidden": "true"}), 400, 10007)
    envelope_error(api.get("/v2/clusterconfigs", {"sort": "priority"}), 400, 10007)


def test_settings_subresource_crud(api):
    created = create(api)
    base = f"/v2/clusterconfigs/name/{created['name']}/settings"
    listed = api.get(base).json()
    assert [s["attributeName"] for s in listed["data"]] == ["COLOR", "SIZE"]
    assert "pagination" in listed

    response = api.post(base, {"attributeName": "MATERIAL", "displayType": "radio"})
    assert response.status_code == 201
    setting = response.json()["data"]
    assert response.json()["messages"] == ["Cluster config setting created"]
    assert response["Location"].endswith(
        f"/v2/clusterconfigs/id/{created['id']}/settings/{setting['id']}"
    )
    assert setting == {
        "id": setting["id"],
        "attributeName": "MATERIAL",
        "displayType": "radio",
        "priority": 0,
    }
    config_path = f"/v2/clusterconfigs/id/{created['id']}"
    assert api.get(config_path).json()["data"]["version"] == 2  # a setting change is a change

    envelope_error(api.post(base, {"attributeName": "COLOR"}), 409, 21006)
    envelope_error(api.post(base, {"displayType": "radio"}), 400, 10007)

    detail = f"{base}/{setting['id']}"
    assert api.get(detail).json()["data"] == setting
    patched = api.patch(detail, {"priority": 7, "displayType": "image"})
    assert patched.status_code == 200
    assert patched.json()["messages"] == ["Cluster config setting updated"]
    assert patched.json()["data"]["priority"] == 7
    assert patched.json()["data"]["displayType"] == "image"
    envelope_error(api.patch(detail, {"attributeName": "SIZE"}), 409, 21006)
    assert api.get(config_path).json()["data"]["version"] == 3
    unchanged = api.patch(detail, {"priority": 7})
    assert unchanged.status_code == 200
    assert api.get(config_path).json()["data"]["version"] == 3

    response = api.delete(detail)
    assert response.json() == {"data": {}, "messages": ["Cluster config setting deleted"]}
    envelope_error(api.get(detail), 404, 21007)
    envelope_error(api.patch(detail, {"priority": 1}), 404, 21007)
    envelope_error(api.delete(detail), 404, 21007)
    assert api.get(config_path).json()["data"]["version"] == 4


def test_setting_of_another_config_is_not_found(api):
    created = create(api)
    other = ClusterConfigSettingFactory()
    envelope_error(
        api.get(f"/v2/clusterconfigs/id/{created['id']}/settings/{other.pk}"), 404, 21007
    )
    envelope_error(api.get(f"/v2/clusterconfigs/id/999/settings/{other.pk}"), 404, 21005)


def test_settings_list_filters(api):
    created = create(api)
    base = f"/v2/clusterconfigs/id/{created['id']}/settings"
    assert [s["attributeName"] for s in api.get(base, {"displayType": "color"}).json()["data"]] == [
        "COLOR"
    ]
    assert [s["attributeName"] for s in api.get(base, {"sort": "-name"}).json()["data"]] == [
        "SIZE",
        "COLOR",
    ]
    envelope_error(api.get(base, {"displayType": "swatch"}), 400, 10007)
