"""Products and clusters as members of categories (SPEC §10.1): the setup their tests share.

``tests/taxonomy/test_relationships_api.py`` (products) and ``tests/clusters/test_category_links.py``
(clusters) test the same relationship routes for two kinds of member; each declares its
:class:`MemberKind` and builds the same shelf and stock from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model

from tests.conftest import ApiClient
from tests.taxonomy.factories import CategoryFactory


@dataclass(frozen=True)
class MemberKind:
    name: str  # "products": the route segment and the item type
    key: str  # the field the tests name members by ("sku", "code")
    prefix: str  # "P": members are P-SHOES, P-BOOTS, …
    make: Callable[..., Model]  # the factory
    link_model: type[Model]  # the secondary link table
    member_field: str  # its column naming the member ("product", "cluster")

    def link(self, member: Model, category: Model) -> None:
        self.link_model.objects.create(**{self.member_field: member, "category": category})

    def linked_ids(self, category: Model) -> set[int]:
        links = self.link_model.objects.filter(category=category)
        return set(links.values_list(f"{self.member_field}_id", flat=True))

    def listed(self, response) -> list[tuple[str, bool]]:
        """``(key, primary)`` of each member a relationship list answers."""
        assert response.status_code == 200, response.content
        return [(row[self.key], row["primary"]) for row in response.json()["data"]]


def build_shelf() -> tuple[Model, Model, Model, Model]:
    """Root > Shoes > Boots, and Other: ``(root, shoes, boots, other)``."""
    root = CategoryFactory(name_en="Root")
    shoes = CategoryFactory(name_en="Shoes", parent=root)
    boots = CategoryFactory(name_en="Boots", parent=shoes)
    other = CategoryFactory(name_en="Other")
    return root, shoes, boots, other


def stock(kind: MemberKind, shelf: tuple) -> dict[str, Any]:
    """Members in primary (``parent``) and secondary (link) categories of ``shelf``:
    shoes (primary Shoes, secondary Other), boots (Boots), second (Other, secondary Shoes),
    deep (no primary, secondary Boots), elsewhere (Other)."""
    root, shoes, boots, other = shelf

    def make(name: str, parent: Model | None, **fields: Any) -> Model:
        return kind.make(parent=parent, **{kind.key: f"{kind.prefix}-{name.upper()}"}, **fields)

    members = {
        "shoes": make("shoes", shoes, priority=1),
        "boots": make("boots", boots, priority=3),
        "second": make("second", other, priority=2),
        "deep": make("deep", None),
        "elsewhere": make("elsewhere", other),
    }
    kind.link(members["second"], shoes)
    kind.link(members["deep"], boots)
    kind.link(members["shoes"], other)
    return {"categories": shelf, **members}


def add(api: ApiClient, category: Model, body: dict):
    return api.post(f"/v2/categories/id/{category.pk}/add-products-clusters", body)


def remove(api: ApiClient, category: Model, body: dict):
    return api.post(f"/v2/categories/id/{category.pk}/remove-products-clusters", body)


def check_members_with_primary_flags(api: ApiClient, kind: MemberKind, stocked: dict) -> str:
    """What both kinds answer on ``/v2/categories/{id}/{kind}``; returns the Shoes path."""
    root, shoes, boots, other = stocked["categories"]
    p = kind.prefix
    path = f"/v2/categories/id/{shoes.pk}/{kind.name}"
    assert kind.listed(api.get(path)) == [(f"{p}-SHOES", True), (f"{p}-SECOND", False)]
    subtree = api.get(path, {"includeDescendants": "true"})
    assert kind.listed(subtree) == [
        (f"{p}-SHOES", True),
        (f"{p}-BOOTS", True),
        (f"{p}-SECOND", False),
        (f"{p}-DEEP", False),
    ]
    root_path = f"/v2/categories/id/{root.pk}/{kind.name}"
    assert kind.listed(api.get(root_path)) == []
    assert len(kind.listed(api.get(root_path, {"includeDescendants": "true"}))) == 4
    assert kind.listed(api.get(f"/v2/categories/id/{other.pk}/{kind.name}")) == [
        (f"{p}-SHOES", False),
        (f"{p}-SECOND", True),
        (f"{p}-ELSEWHERE", True),
    ]
    first = api.get(path, {"includeDescendants": "true", "sort": "-priority", "pageSize": 2})
    assert kind.listed(first) == [(f"{p}-BOOTS", True), (f"{p}-SECOND", False)]
    second = api.get(first.json()["pagination"]["next"])
    assert kind.listed(second) == [(f"{p}-SHOES", True), (f"{p}-DEEP", False)]
    filtered = api.get(path, {"includeDescendants": "true", kind.key: f"{p}-DEEP"})
    assert kind.listed(filtered) == [(f"{p}-DEEP", False)]
    assert api.get(path, {"withCount": "true"}).json()["pagination"]["total"] == 2
    return path


#: ``(category, includeDescendants, the stocked members ?category= finds)``
CATEGORY_FILTER_CASES = [
    ("shoes", False, {"shoes", "second"}),
    ("shoes", True, {"shoes", "boots", "second", "deep"}),
    ("boots", False, {"boots", "deep"}),
    ("root", True, {"shoes", "boots", "second", "deep"}),
    ("root", False, set()),
    ("other", False, {"shoes", "second", "elsewhere"}),
]


def found_by_category_filter(
    api: ApiClient, kind: MemberKind, stocked: dict, category: str, descendants: bool
) -> set[str]:
    """The stocked members ``/v2/{kind}?category=`` lists (primary and secondary links)."""
    root, shoes, boots, other = stocked["categories"]
    ids = {"root": root, "shoes": shoes, "boots": boots, "other": other}
    params = {"category": ids[category].pk, "pageSize": 100}
    if descendants:
        params["includeDescendants"] = "true"
    data = api.get(f"/v2/{kind.name}", params).json()["data"]
    by_id = {stocked[name].pk: name for name in ("shoes", "boots", "second", "deep", "elsewhere")}
    found = [by_id[row["id"]] for row in data]
    assert len(found) == len(set(found)), found
    return set(found)
