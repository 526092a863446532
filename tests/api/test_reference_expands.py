"""``expands=translation`` and ``expands=sources`` (SPEC §22): accepted wherever ``expands`` is,
and change nothing, since reads always carry every language and the sources."""

from __future__ import annotations

import pytest

from config.api.openapi import build_schema
from tests.catalogue.factories import ProductFactory, ProductSourceFactory
from tests.clusters.factories import ClusterFactory, ClusterOptionFactory, ClusterSourceFactory
from tests.conftest import envelope_error
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def _routes_with_expands() -> list[str]:
    paths = build_schema()["paths"]
    return sorted(
        path
        for path, item in paths.items()
        if any(p["name"] == "expands" for p in item.get("get", {}).get("parameters", []))
    )


@pytest.fixture
def records():
    category = CategoryFactory()
    product = ProductFactory(parent=category, name_nl="Fiets", description_en="A bike")
    ProductSourceFactory(product=product, source="ERP", source_id="A-17")
    cluster = ClusterFactory(parent=category, name_de="Fahrrad")
    ClusterSourceFactory(cluster=cluster, source="ERP", source_id="C-17")
    option = ClusterOptionFactory(cluster=cluster)
    return {
        "products": product.pk,
        "clusters": cluster.pk,
        "clusteroptions": option.pk,
        "categories": category.pk,
        "option_id": option.pk,
    }


def _path(route: str, ids: dict[str, int]) -> str:
    collection = route.split("/")[2]
    path = route.replace("{lookup_key}", "id").replace("{lookup_value}", str(ids[collection]))
    return path.replace("{option_id}", str(ids["option_id"]))


@pytest.mark.parametrize("route", _routes_with_expands())
@pytest.mark.parametrize("expands", ["translation", "sources", "translation,sources"])
def test_reference_expands_are_accepted_and_change_nothing(api, records, route, expands):
    path = _path(route, records)
    plain = api.get(path)
    assert plain.status_code == 200, plain.content
    expanded = api.get(path, {"expands": expands})
    assert expanded.status_code == 200, expanded.content
    assert expanded.json() == plain.json()
    data = plain.json()["data"]
    rows = data if isinstance(data, list) else [data]
    assert rows and all("sources" in row for row in rows)


def test_every_read_with_expands_is_covered():
    assert {
        "/v2/products",
        "/v2/products/{lookup_key}/{lookup_value}",
        "/v2/clusters/{lookup_key}/{lookup_value}",
        "/v2/clusteroptions/{lookup_key}/{lookup_value}",
        "/v2/categories/{lookup_key}/{lookup_value}/products",
    } <= set(_routes_with_expands())


def test_reference_expands_mix_with_real_ones(api, records):
    path = f"/v2/products/id/{records['products']}"
    body = api.get(path, {"expands": "translation,categories,sources"}).json()["data"]
    assert body["categories"] == []
    assert {n["language"] for n in body["names"]} == {"EN", "NL"}
    assert body["sources"] == [{"source": "ERP", "sourceId": "A-17"}]
    narrowed = api.get(path, {"expands": "translation", "language": "nl"}).json()["data"]
    assert narrowed["names"] == [{"language": "NL", "value": "Fiets"}]
    cluster = api.get(
        f"/v2/clusters/id/{records['clusters']}", {"expands": "sources,options"}
    ).json()["data"]
    assert len(cluster["options"]) == 1


def test_unknown_expansion_still_refused_naming_the_reference_ones(api, records):
    error = envelope_error(
        api.get(f"/v2/products/id/{records['products']}", {"expands": "translations"}), 400, 10007
    )
    assert "translation" in error["fields"]["expands"][0]
