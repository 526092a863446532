"""The service's one-statement move against django-mptt's own ``move_node`` (the numbering the
rest of the code, the admin and mptt's helpers rely on): random forests, every position, moves
within a tree, across trees, of roots, to the root level; every node's parent, tree_id, lft,
rght and level must come out as mptt leaves them."""

from __future__ import annotations

import random

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from mptt.exceptions import InvalidMove

from config.api import errors
from taxonomy import services
from taxonomy.models import Category
from taxonomy.selectors import tree_problems
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db


class Rollback(Exception):
    pass


def positions() -> dict[int, tuple]:
    rows = Category.objects.values_list("pk", "parent_id", "tree_id", "lft", "rght", "level")
    return {pk: tuple(rest) for pk, *rest in rows}


def mptt_move(node_id: int, target_id: int | None, position: str) -> None:
    """The move as the service made it with mptt (no target: next to the first/last root)."""
    node = Category.objects.get(pk=node_id)
    if target_id is None:
        others = Category.objects.root_nodes().exclude(pk=node_id).order_by("tree_id")
        anchor = others.first() if position == "first-child" else others.last()
        if anchor is None:
            return
        target, position = anchor, "left" if position == "first-child" else "right"
    else:
        target = Category.objects.get(pk=target_id)
    Category.objects.move_node(node, target, position)


def mptt_result(node_id: int, target_id: int | None, position: str) -> dict[int, tuple]:
    """Every node after mptt's move, which is then rolled back."""
    try:
        with transaction.atomic():
            mptt_move(node_id, target_id, position)
            after = positions()
            raise Rollback
    except Rollback:
        return after


def random_forest(rng: random.Random, size: int) -> list[int]:
    """``size`` categories in a few trees, with gaps in the tree ids (deleted roots)."""
    nodes: list[Category] = []
    for number in range(size + 3):
        parent = rng.choice(nodes) if nodes and rng.random() < 0.8 else None
        nodes.append(CategoryFactory(parent=parent, name_en=f"N{number}"))
    for root in [n for n in nodes if n.parent_id is None][1:4]:
        if not Category.objects.filter(parent=root).exists():
            Category.objects.get(pk=root.pk).delete()
            nodes.remove(root)
    return [n.pk for n in nodes]


def descendants_or_self(node_id: int) -> set[int]:
    node = Category.objects.get(pk=node_id)
    return set(
        Category.objects.filter(
            tree_id=node.tree_id, lft__gte=node.lft, rght__lte=node.rght
        ).values_list("pk", flat=True)
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_moves_number_the_forest_exactly_like_mptt(seed):
    rng = random.Random(seed)
    ids = random_forest(rng, 30)
    assert tree_problems() == []
    kinds = set()
    for step in range(150):
        node_id = rng.choice(ids)
        roll = rng.random()
        if roll < 0.15:
            target_id = None
        elif roll < 0.45:  # the parent or a sibling: moves that may leave the node where it is
            parent_id = Category.objects.get(pk=node_id).parent_id
            near = Category.objects.filter(parent_id=parent_id).values_list("pk", flat=True)
            target_id = rng.choice([*([parent_id] if parent_id else []), *near])
        else:
            target_id = rng.choice(ids)
        position = rng.choice(services.POSITIONS)
        if target_id is None and position in ("left", "right"):
            position = rng.choice(["first-child", "last-child"])
        if target_id is not None and target_id in descendants_or_self(node_id):
            with pytest.raises(InvalidMove), transaction.atomic():
                mptt_move(node_id, target_id, position)
            with pytest.raises(errors.CategoryCycle):
                services.category_move(
                    category_id=node_id, target={"id": target_id}, position=position
                )
            continue
        before = positions()
        version = Category.objects.get(pk=node_id).version
        expected = mptt_result(node_id, target_id, position)
        moved = services.category_move(
            category_id=node_id,
            target={"id": target_id} if target_id else None,
            position=position,
        )
        context = (seed, step, node_id, target_id, position, before[node_id])
        assert positions() == expected, context
        assert (moved.parent_id, moved.tree_id, moved.lft, moved.rght, moved.level) == expected[
            node_id
        ], context
        changed = expected != before
        assert moved.version == version + changed, context
        assert Category.objects.get(pk=node_id).version == moved.version, context
        target = before.get(target_id)
        kinds.add(
            (
                "root" if before[node_id][0] is None else "child",
                "none" if target is None else "root" if target[0] is None else "child",
                "same tree" if target and target[1] == before[node_id][1] else "other tree",
                position,
                changed,
            )
        )
    assert tree_problems() == []
    # the random walk covered every kind of move (both node kinds, each position)
    assert {(kind[0], kind[3]) for kind in kinds} >= {
        (node, position) for node in ("root", "child") for position in services.POSITIONS
    }
    assert {kind[1] for kind in kinds} == {"none", "root", "child"}
    assert {kind[2] for kind in kinds} == {"same tree", "other tree"}
    assert any(not kind[4] for kind in kinds)  # and moves that leave the node where it was


@pytest.mark.parametrize(
    ("node", "target", "position"),
    [
        ("A", "P", "first-child"),
        ("C", "P", "last-child"),
        ("B", "C", "left"),
        ("B", "A", "right"),
        ("P", "Q", "left"),
        ("Q", "P", "right"),
        ("P", None, "first-child"),
        ("R", None, "last-child"),
    ],
)
def test_a_move_to_where_the_category_already_is_changes_nothing(node, target, position):
    """Roots P (A (A1), B, C), Q, R."""
    nodes = {name: CategoryFactory(name_en=name) for name in ("P", "Q", "R")}
    for name, parent in (("A", "P"), ("A1", "A"), ("B", "P"), ("C", "P")):
        nodes[name] = CategoryFactory(name_en=name, parent=nodes[parent])
    before = positions()
    assert mptt_result(nodes[node].pk, target and nodes[target].pk, position) == before
    moved = services.category_move(
        category_id=nodes[node].pk,
        target={"id": nodes[target].pk} if target else None,
        position=position,
    )
    assert positions() == before
    assert moved.version == 1


def test_patch_parent_moves_like_mptt_and_bumps_the_version_once(api):
    rng = random.Random(7)
    ids = random_forest(rng, 12)
    for _ in range(20):
        node_id, parent_id = rng.sample(ids, 2)
        if parent_id in descendants_or_self(node_id):
            continue
        version = Category.objects.get(pk=node_id).version
        before = positions()
        changed = before[node_id][0] != parent_id  # the same parent: the category stays put
        expected = mptt_result(node_id, parent_id, "last-child") if changed else before
        response = api.patch(f"/v2/categories/id/{node_id}", {"parent": {"id": parent_id}})
        assert response.status_code == 200, response.content
        assert positions() == expected
        assert response.json()["data"]["version"] == version + changed


def test_a_move_request_runs_one_update_and_a_fixed_number_of_statements(api):
    root = CategoryFactory(name_en="Root")
    branch = CategoryFactory(name_en="Branch", parent=root)
    leaf = CategoryFactory(name_en="Leaf", parent=branch)
    for _ in range(3):
        CategoryFactory(parent=leaf)
    other = CategoryFactory(name_en="Other", parent=root)
    statements = []
    for target in (other, branch, other):
        with CaptureQueriesContext(connection) as queries:
            response = api.post(f"/v2/categories/id/{leaf.pk}/move", {"target": {"id": target.pk}})
        assert response.status_code == 200
        statements.append([q["sql"] for q in queries.captured_queries])
    for sqls in statements:
        # the token, the category of the URL, (tree lock), the locked category, the target, the
        # UPDATE, and the answer: category, sources, path; plus two savepoint pairs: the
        # request's transaction and the service's block inside it (the test runs in a transaction);
        # plus the change event: the category's sources before and after, and its INSERT
        lock = connection.vendor == "postgresql"
        assert len(sqls) == 12 + 3 + lock, sqls
        assert sum(sql.lstrip().upper().startswith("UPDATE") for sql in sqls) == 1, sqls
    assert tree_problems() == []
