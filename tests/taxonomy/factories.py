from __future__ import annotations

import factory

from taxonomy.models import Category, CategorySource
from tests.factory_types import ModelFactory


class CategoryFactory(ModelFactory[Category]):
    class Meta:
        model = Category

    name_en = factory.Sequence(lambda n: f"Category {n}")
    slug_en = factory.Sequence(lambda n: f"category-{n}")
    sort_name = factory.LazyAttribute(lambda c: c.name_en.lower())
    parent = None


class CategorySourceFactory(ModelFactory[CategorySource]):
    class Meta:
        model = CategorySource

    category = factory.SubFactory(CategoryFactory)
    source = "ERP"
    source_id = factory.Sequence(lambda n: f"C-{n}")


def build_tree(size: int, *, fanout: int, max_level: int) -> list[Category]:
    """``size`` categories in one tree, breadth first (``fanout`` children each, levels
    0..``max_level``), written set-based with their nested-set positions computed here."""
    children: dict[int, list[int]] = {0: []}
    parent_of: dict[int, int | None] = {0: None}
    levels = {0: 0}
    queue, next_id = [0], 1
    while next_id < size and queue:
        parent = queue.pop(0)
        if levels[parent] == max_level:
            continue
        for _ in range(min(fanout, size - next_id)):
            children[parent].append(next_id)
            children[next_id] = []
            parent_of[next_id] = parent
            levels[next_id] = levels[parent] + 1
            queue.append(next_id)
            next_id += 1
    positions: dict[int, tuple[int, int]] = {}
    counter = 0
    stack = [(0, False)]
    while stack:
        node, closing = stack.pop()
        counter += 1
        if closing:
            positions[node] = (positions[node][0], counter)
            continue
        positions[node] = (counter, 0)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(children[node]))
    tree_id = (
        Category.objects.order_by("-tree_id").values_list("tree_id", flat=True).first() or 0
    ) + 1
    rows = {}
    with Category.objects.disable_mptt_updates():
        for node in sorted(levels, key=levels.get):
            lft, rght = positions[node]
            parent = parent_of[node]
            rows[node] = Category(
                name_en=f"Node {tree_id}-{node}",
                slug_en=f"node-{tree_id}-{node}",
                sort_name=f"node {tree_id}-{node}",
                parent=rows[parent] if parent is not None else None,
                tree_id=tree_id,
                lft=lft,
                rght=rght,
                level=levels[node],
            )
        for level in sorted(set(levels.values())):
            Category.objects.bulk_create([rows[n] for n in rows if levels[n] == level])
    return list(rows.values())
