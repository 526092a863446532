"""The categories of import_catalogue and export_catalogue: the bulk resource that imports them and
the export in the API's own representation (found by ``records.bulk.entities()``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from records.bulk import Entity, exportable, most_links, register, sorted_pairs
from records.bulk_records import first_source_pairs, plain
from taxonomy.api.representations import category_output
from taxonomy.bulk import CATEGORIES
from taxonomy.models import Category, CategorySource
from taxonomy.schemas import CATEGORY_PATCH
from taxonomy.selectors import category_row_fields

EXPORT_CHUNK = 500


def export_categories() -> Iterator[dict[str, Any]]:
    """Every category in the write shape, parents before children (tree order), a chunk at a
    time, rendered by the API's ``category_output`` from ``values()`` rows; ``parent`` is the
    parent's first source pair when it has one."""
    last = (0, 0)
    while True:
        rows = list(
            plain(Category)
            .filter(tree_id__gte=last[0])
            .exclude(tree_id=last[0], lft__lte=last[1])
            .order_by("tree_id", "lft")
            .values(*category_row_fields(), "tree_id", "lft")[:EXPORT_CHUNK]
        )
        if not rows:
            return
        ids = [row["id"] for row in rows]
        sources: dict[int, list[dict[str, str]]] = defaultdict(list)
        links = plain(CategorySource).filter(category_id__oneof=ids).order_by("pk")
        for owner, source, source_id in links.values_list("category_id", "source", "source_id"):
            sources[owner].append({"source": source, "sourceId": source_id})
        parents = first_source_pairs(
            CategorySource, "category", {row["parent_id"] for row in rows if row["parent_id"]}
        )
        for row in rows:
            row.update(sources=sources[row["id"]], path_ids=[], child_count=0)
            data = exportable(category_output(row), CATEGORY_PATCH)
            data["sources"] = sorted_pairs(data["sources"])
            if row["parent_id"] in parents:
                data["parent"] = parents[row["parent_id"]]
            yield data
        last = (rows[-1]["tree_id"], rows[-1]["lft"])


register(
    Entity(
        "categories",
        CATEGORIES,
        export=export_categories,
        max_sources=lambda: most_links(CategorySource, "category_id"),
    )
)
