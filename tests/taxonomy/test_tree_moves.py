from __future__ import annotations

import random
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from config.api import errors
from taxonomy import services
from taxonomy.models import Category
from taxonomy.selectors import category_tree, tree_problems
from tests.conftest import envelope_error
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def outline() -> list:
    """The forest as nested ``(name, [children])`` in tree order."""

    def walk(nodes):
        return [(n["name_en"], walk(n["children"])) for n in nodes]

    return walk(category_tree(root_id=None, depth=None))


def move(api, node, target, position):
    body = {"target": {"id": target.pk} if target else None, "position": position}
    return api.post(f"/v2/categories/id/{node.pk}/move", body)


@pytest.fixture
def nodes():
    """R1 (A (A1, A2), B), R2 (C)."""
    r1 = CategoryFactory(name_en="R1")
    a = CategoryFactory(name_en="A", parent=r1)
    a1 = CategoryFactory(name_en="A1", parent=a)
    a2 = CategoryFactory(name_en="A2", parent=a)
    b = CategoryFactory(name_en="B", parent=r1)
    r2 = CategoryFactory(name_en="R2")
    c = CategoryFactory(name_en="C", parent=r2)
    return {n.name_en: n for n in (r1, a, a1, a2, b, r2, c)}


def test_scripted_creates_moves_and_deletes_keep_the_invariants(api, nodes):
    n = nodes
    assert outline() == [
        ("R1", [("A", [("A1", []), ("A2", [])]), ("B", [])]),
        ("R2", [("C", [])]),
    ]
    steps = [
        (
            lambda: move(api, n["A2"], n["B"], "first-child"),
            [("R1", [("A", [("A1", [])]), ("B", [("A2", [])])]), ("R2", [("C", [])])],
        ),
        (
            lambda: move(api, n["A1"], n["B"], "last-child"),
            [("R1", [("A", []), ("B", [("A2", []), ("A1", [])])]), ("R2", [("C", [])])],
        ),
        (
            lambda: move(api, n["C"], n["A"], "left"),
            [("R1", [("C", []), ("A", []), ("B", [("A2", []), ("A1", [])])]), ("R2", [])],
        ),
        (
            lambda: move(api, n["A2"], n["A1"], "right"),
            [("R1", [("C", []), ("A", []), ("B", [("A1", []), ("A2", [])])]), ("R2", [])],
        ),
        (
            lambda: move(api, n["B"], n["R2"], "right"),  # next to a root: a new root
            [("R1", [("C", []), ("A", [])]), ("R2", []), ("B", [("A1", []), ("A2", [])])],
        ),
        (
            lambda: move(api, n["R2"], n["R1"], "left"),
            [("R2", []), ("R1", [("C", []), ("A", [])]), ("B", [("A1", []), ("A2", [])])],
        ),
        (
            lambda: move(api, n["A"], None, "last-child"),
            [("R2", []), ("R1", [("C", [])]), ("B", [("A1", []), ("A2", [])]), ("A", [])],
        ),
        (
            lambda: move(api, n["B"], None, "first-child"),
            [("B", [("A1", []), ("A2", [])]), ("R2", []), ("R1", [("C", [])]), ("A", [])],
        ),
        (
            lambda: api.post(
                "/v2/categories",
                {"names": [{"language": "EN", "value": "D"}], "parent": {"id": n["R2"].pk}},
            ),
            [("B", [("A1", []), ("A2", [])]), ("R2", [("D", [])]), ("R1", [("C", [])]), ("A", [])],
        ),
        (
            lambda: api.patch(f"/v2/categories/id/{n['R1'].pk}", {"parent": {"id": n["A"].pk}}),
            [("B", [("A1", []), ("A2", [])]), ("R2", [("D", [])]), ("A", [("R1", [("C", [])])])],
        ),
        (
            lambda: move(api, n["B"], n["C"], "first-child"),
            [("R2", [("D", [])]), ("A", [("R1", [("C", [("B", [("A1", []), ("A2", [])])])])])],
        ),
        (
            lambda: api.delete(f"/v2/categories/id/{n['A1'].pk}"),
            [("R2", [("D", [])]), ("A", [("R1", [("C", [("B", [("A2", [])])])])])],
        ),
        (
            lambda: api.patch(f"/v2/categories/id/{n['R1'].pk}", {"parent": None}),
            [("R2", [("D", [])]), ("A", []), ("R1", [("C", [("B", [("A2", [])])])])],
        ),
        (
            lambda: api.delete(f"/v2/categories/id/{n['A'].pk}"),
            [("R2", [("D", [])]), ("R1", [("C", [("B", [("A2", [])])])])],
        ),
    ]
    for number, (step, expected) in enumerate(steps):
        response = step()
        assert response.status_code in (200, 201), (number, response.content)
        assert outline() == expected, number
        assert tree_problems() == [], number


def test_move_answers_the_moved_category_with_new_version_and_path(api, nodes):
    response = move(api, nodes["A2"], nodes["B"], "last-child")
    assert response.status_code == 200
    body = response.json()
    assert body["messages"] == ["Category moved"]
    data = body["data"]
    assert data["parent"] == {"id": nodes["B"].pk}
    assert data["path"] == [nodes["R1"].pk, nodes["B"].pk] and data["level"] == 2
    assert data["version"] == 2 and response["ETag"] == '"2"'
    again = move(api, nodes["A2"], nodes["B"], "last-child").json()["data"]
    assert again["version"] == 2  # already there: nothing changed


def test_move_defaults_to_last_child_and_honours_if_match(api, nodes):
    path = f"/v2/categories/id/{nodes['C'].pk}/move"
    stale = api.post(path, {"target": {"id": nodes["A"].pk}}, headers={"If-Match": '"5"'})
    envelope_error(stale, 412, 10009)
    response = api.post(path, {"target": {"id": nodes["A"].pk}}, headers={"If-Match": '"1"'})
    assert response.status_code == 200
    assert outline()[0] == ("R1", [("A", [("A1", []), ("A2", []), ("C", [])]), ("B", [])])


@pytest.mark.parametrize("position", ["first-child", "last-child", "left", "right"])
@pytest.mark.parametrize("target", ["A", "A1", "A2"])
def test_move_into_own_subtree_is_a_cycle(api, nodes, target, position):
    error = envelope_error(move(api, nodes["A"], nodes[target], position), 422, 30009)
    assert str(nodes["A"].pk) in error["messages"][0]
    assert tree_problems() == []
    assert Category.objects.get(pk=nodes["A"].pk).parent_id == nodes["R1"].pk


def test_patch_parent_to_a_descendant_is_a_cycle(api, nodes):
    response = api.patch(f"/v2/categories/id/{nodes['R1'].pk}", {"parent": {"id": nodes["A1"].pk}})
    envelope_error(response, 422, 30009)
    assert tree_problems() == []


def test_patch_parent_to_the_same_parent_changes_nothing(api, nodes):
    response = api.patch(f"/v2/categories/id/{nodes['A1'].pk}", {"parent": {"id": nodes["A"].pk}})
    assert response.json()["data"]["version"] == 1
    assert outline()[0] == ("R1", [("A", [("A1", []), ("A2", [])]), ("B", [])])


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"target": {"id": 999999}}, 404, 30007),
        ({"target": {"source": "X", "sourceId": "1"}}, 404, 30007),
        ({"target": None, "position": "left"}, 400, 10007),
        ({"target": None, "position": "inside"}, 400, 10007),
        ({"position": "last-child"}, 400, 10007),
        ({"target": {"id": 1}, "extra": True}, 400, 10007),
    ],
)
def test_move_request_errors(api, nodes, body, status, code):
    envelope_error(api.post(f"/v2/categories/id/{nodes['A'].pk}/move", body), status, code)


def test_move_of_missing_category_is_404(api):
    envelope_error(api.post("/v2/categories/id/999999/move", {"target": None}), 404, 30006)


def test_only_root_stays_put_when_made_a_root(api):
    root = CategoryFactory(name_en="Only")
    response = api.post(f"/v2/categories/id/{root.pk}/move", {"target": None})
    assert response.status_code == 200 and response.json()["data"]["version"] == 1


def test_random_sequence_matches_a_model_of_the_forest():
    """Random creates, moves in every position, and deletes, checked against a plain model."""
    rng = random.Random(20261125)
    children: dict[int | None, list[int]] = {None: []}
    parent_of: dict[int, int | None] = {}

    def create(parent: int | None) -> None:
        ref = {"id": parent} if parent else None
        name = f"N{len(parent_of)}"
        category = services.category_create(
            data={"name": {"en": name}, "parent": ref, "language": "en"}
        )
        children[parent].append(category.pk)
        children[category.pk] = []
        parent_of[category.pk] = parent

    def subtree(node: int) -> set[int]:
        found, stack = set(), [node]
        while stack:
            current = stack.pop()
            found.add(current)
            stack.extend(children[current])
        return found

    def model(parent):
        return [(node, model(node)) for node in children[parent]]

    def actual(nodes):
        return [(n["id"], actual(n["children"])) for n in nodes]

    for _ in range(6):
        create(None)
    for _ in range(200):
        roll = rng.random()
        existing = list(parent_of)
        if roll < 0.35 or len(existing) < 5:
            create(rng.choice([None, *existing]))
        elif roll < 0.9:
            node = rng.choice(existing)
            position = rng.choice(services.POSITIONS)
            target = None if rng.random() < 0.2 else rng.choice(existing)
            if target is None and position in ("left", "right"):
                position = "last-child"
            if target is not None and target in subtree(node):
                with pytest.raises(errors.CategoryCycle):
                    services.category_move(
                        category_id=node, target={"id": target}, position=position
                    )
                continue
            services.category_move(
                category_id=node,
                target={"id": target} if target else None,
                position=position,
            )
            children[parent_of[node]].remove(node)
            if target is None:
                new_parent = None
                index = 0 if position == "first-child" else len(children[None])
            elif position in ("first-child", "last-child"):
                new_parent = target
                index = 0 if position == "first-child" else len(children[target])
            else:
                new_parent = parent_of[target]
                index = children[new_parent].index(target) + (position == "right")
            children[new_parent].insert(index, node)
            parent_of[node] = new_parent
        else:
            leaves = [n for n in existing if not children[n]]
            node = rng.choice(leaves)
            services.category_delete(category_id=node)
            children[parent_of.pop(node)].remove(node)
            del children[node]
        assert tree_problems() == []
        assert actual(category_tree(root_id=None, depth=None)) == model(None)


def test_check_category_tree_reports_and_rebuilds_keeping_order(nodes):
    out = StringIO()
    call_command("check_category_tree", stdout=out)
    assert "consistent" in out.getvalue()
    before = outline()
    # Corrupt the nested sets the way concurrent writers do: duplicate positions.
    Category.objects.filter(pk=nodes["B"].pk).update(lft=3, rght=4)
    Category.objects.filter(pk=nodes["C"].pk).update(level=5)
    assert tree_problems()
    err = StringIO()
    with pytest.raises(CommandError, match="problem"):
        call_command("check_category_tree", stdout=StringIO(), stderr=err)
    assert "duplicate" in err.getvalue()
    out = StringIO()
    call_command("check_category_tree", "--rebuild", stdout=out, stderr=StringIO())
    assert "Rebuilt" in out.getvalue()
    assert tree_problems() == []
    assert outline() == before


def test_rebuild_refuses_parent_cycles(nodes):
    Category.objects.filter(pk=nodes["R2"].pk).update(parent=nodes["C"].pk)
    with pytest.raises(CommandError, match="cycle"):
        call_command("check_category_tree", "--rebuild", stdout=StringIO(), stderr=StringIO())
