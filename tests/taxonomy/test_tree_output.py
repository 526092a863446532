"""The tree renders ``values()`` rows and the list/detail render instances: both must give exactly
the bytes the instance representation gave before the tree stopped building instances."""

from __future__ import annotations

import random

import orjson
import pytest
from django.conf import settings

from records.rules import LOCALIZED_API_NAMES, timestamp
from taxonomy.models import Category
from tests.taxonomy.factories import CategoryFactory, CategorySourceFactory

pytestmark = pytest.mark.django_db


def reference(category: Category, language: str | None = None) -> dict:
    """The representation as the instance path wrote it (attribute by attribute), as an oracle."""
    languages = [language] if language else settings.CATALOGUE_LANGUAGES
    data = {
        "id": category.pk,
        "version": category.version,
        "createdAt": timestamp(category.created_at),
        "lastModifiedAt": timestamp(category.last_modified_at),
        "language": category.language.upper(),
    }
    for api_name, base in LOCALIZED_API_NAMES.items():
        data[api_name] = [
            {"language": code.upper(), "value": value}
            for code in languages
            if (value := getattr(category, f"{base}_{code}")) not in (None, "")
        ]
    path, node = [], category.parent
    while node is not None:
        path.insert(0, node.pk)
        node = node.parent
    data.update(
        {
            "parent": {"id": category.parent_id} if category.parent_id else None,
            "hidden": category.hidden,
            "priority": category.priority,
            "sources": [
                {"source": link.source, "sourceId": link.source_id}
                for link in category.sources.order_by("pk")
            ],
            "level": category.level,
            "path": path,
            "childCount": Category.objects.filter(parent=category).count(),
        }
    )
    return data


@pytest.fixture
def varied_forest() -> list[Category]:
    """Three roots and 60 nodes up to depth 5: per node a random language, some translations
    (empty strings too, which are not output), hidden/priority and 0–3 source links."""
    rng = random.Random(8)
    nodes: list[Category] = []
    for number in range(60):
        candidates = [n for n in nodes if n.level < 5]
        parent = rng.choice(candidates) if number >= 3 and rng.random() < 0.9 else None
        values = {}
        for base in LOCALIZED_API_NAMES.values():
            for code in settings.CATALOGUE_LANGUAGES:
                roll = rng.random()
                if roll < 0.3:  # each kind's value as a write could store it (the hook checks)
                    values[f"{base}_{code}"] = {
                        "slug": f"slug-{code}-{number}",
                        "metadata_canonical_url": f"https://example.com/{code}/{number}/✓",
                    }.get(base, f"{base} {code} {number} ✓")
                elif roll < 0.4 and base != "slug":  # slugs are unique
                    values[f"{base}_{code}"] = ""
        values.pop("slug_en", None)  # the factory's unique slug
        category = CategoryFactory(
            parent=parent,
            language=rng.choice(settings.CATALOGUE_LANGUAGES),
            hidden=rng.random() < 0.3,
            priority=rng.randint(-5, 5),
            **values,
        )
        for source in rng.sample(["PIM", "ERP", "WEB"], rng.randint(0, 3)):
            CategorySourceFactory(category=category, source=source)
        category.refresh_from_db()
        nodes.append(category)
    return nodes


def flatten(nodes: list[dict]):
    for node in nodes:
        yield {key: value for key, value in node.items() if key != "children"}
        yield from flatten(node["children"])


@pytest.mark.parametrize(
    "params",
    [{}, {"language": "nl"}, {"depth": "1"}, {"depth": "0", "language": "de"}, {"root": "mid"}],
)
def test_tree_nodes_are_byte_identical_to_the_instance_representation(api, varied_forest, params):
    if params.get("root") == "mid":
        params = {"root": str(next(n.pk for n in varied_forest if n.level == 1))}
    response = api.get("/v2/categories/tree", params)
    assert response.status_code == 200
    nodes = list(flatten(response.json()["data"]))
    expected = Category.objects.order_by("tree_id", "lft")
    if "root" in params:
        root = Category.objects.get(pk=params["root"])
        expected = expected.filter(tree_id=root.tree_id, lft__gte=root.lft, rght__lte=root.rght)
    if "depth" in params:
        expected = expected.filter(level__lte=int(params["depth"]))
    assert [node["id"] for node in nodes] == [c.pk for c in expected]
    assert len(nodes) > 1
    for node in nodes:
        category = Category.objects.get(pk=node["id"])
        assert orjson.dumps(node) == orjson.dumps(reference(category, params.get("language")))


def test_detail_and_list_are_byte_identical_to_the_instance_representation(api, varied_forest):
    for category in varied_forest[::7]:
        data = api.get(f"/v2/categories/id/{category.pk}").json()["data"]
        assert orjson.dumps(data) == orjson.dumps(reference(category))
    listed = api.get("/v2/categories", {"pageSize": "100", "language": "fr"}).json()["data"]
    assert len(listed) == len(varied_forest)
    for data in listed:
        category = Category.objects.get(pk=data["id"])
        assert orjson.dumps(data) == orjson.dumps(reference(category, "fr"))
