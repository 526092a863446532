"""Tree checks for tests that change the category forest (besides ``tree_problems()``)."""

from __future__ import annotations

from collections import defaultdict

from taxonomy.models import Category
from taxonomy.selectors import tree_problems


def assert_tree_consistent() -> None:
    problems = tree_problems()
    assert problems == [], problems


def _positions() -> dict[int, tuple]:
    rows = Category.objects.values_list("id", "parent_id", "tree_id", "lft", "rght", "level")
    return {row[0]: row[1:] for row in rows}


def assert_mptt_agrees() -> None:
    """mptt's own ``rebuild()`` (children in (tree_id, lft) order) moves no category: the same
    parents, positions and levels, and the same trees (it may number them differently)."""
    before = _positions()
    Category.objects.rebuild()
    after = _positions()

    def shape(rows: dict[int, tuple]) -> tuple:
        trees: dict[int, set[int]] = defaultdict(set)
        for pk, row in rows.items():
            trees[row[1]].add(pk)
        positions = {pk: (row[0], row[2], row[3], row[4]) for pk, row in rows.items()}
        return positions, sorted(map(sorted, trees.values()))

    assert shape(before) == shape(after)


def outline() -> list[tuple[str, int]]:
    """(English name, level) in tree order: a readable picture of the forest."""
    return list(Category.objects.order_by("tree_id", "lft").values_list("name_en", "level"))
