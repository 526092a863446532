"""Invariants of the category forest, for tests that change the tree."""

from __future__ import annotations

from collections import defaultdict

from taxonomy.models import Category


def tree_rows() -> dict[int, tuple]:
    rows = Category.objects.values_list("id", "parent_id", "tree_id", "lft", "rght", "level")
    return {row[0]: row[1:] for row in rows}


def assert_tree_consistent() -> None:
    """``parent`` is the truth; every nested-set column must agree with it exactly."""
    rows = tree_rows()
    children: dict[int | None, list[int]] = defaultdict(list)
    trees: dict[int, list[int]] = defaultdict(list)
    for pk, (parent, tree_id, *_rest) in rows.items():
        children[parent].append(pk)
        trees[tree_id].append(pk)
    for tree_id, members in trees.items():
        roots = [pk for pk in members if rows[pk][0] is None]
        assert len(roots) == 1, f"tree {tree_id} has roots {roots}"
        bounds = sorted(v for pk in members for v in rows[pk][2:4])
        assert bounds == list(range(1, 2 * len(members) + 1)), f"tree {tree_id}: {bounds}"

    def size(pk: int) -> int:
        return 1 + sum(size(child) for child in children[pk])

    for pk, (parent, tree_id, lft, rght, level) in rows.items():
        assert rght - lft == 2 * size(pk) - 1, pk
        if parent is None:
            assert level == 0, pk
        else:
            p_parent, p_tree, p_lft, p_rght, p_level = rows[parent]
            assert (p_tree, level) == (tree_id, p_level + 1), pk
            assert p_lft < lft < rght < p_rght, pk


def assert_mptt_agrees() -> None:
    """mptt's own ``rebuild()`` (children in (tree_id, lft) order) changes no position."""
    before = tree_rows()
    Category.objects.rebuild()
    after = tree_rows()

    def shape(rows: dict[int, tuple]) -> tuple:
        groups: dict[int, set[int]] = defaultdict(set)
        for pk, row in rows.items():
            groups[row[1]].add(pk)
        positions = {pk: (row[0], row[2], row[3], row[4]) for pk, row in rows.items()}
        return positions, sorted(map(sorted, groups.values()))

    assert shape(before) == shape(after)


def outline() -> list[tuple[str, int]]:
    """(English name, level) in tree order: a readable picture of the forest."""
    return list(Category.objects.order_by("tree_id", "lft").values_list("name_en", "level"))
