"""``POST /v2/categories/search`` and the categories' part of ``GET /v2/search`` (SPEC §13).
Registered in ``TaxonomyConfig.ready()``.

MERGE NOTE: the categories branch brings the category representation
(``taxonomy.api.serializers.category_representation``/``category_schema``) and its output
selectors (``taxonomy.selectors.categories_for_output``/``attach_paths``). ``_for_output``,
``_represent`` and ``_schema`` below render the same §10 shape until then; on merge, replace them
with those (``output_queryset=categories_for_output``, rows through ``attach_paths`` then
``category_representation``, ``schema=category_schema``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from config.api.localized import localized_output
from config.api.pagination import COMMON_SORTS
from config.api.records import LOCALIZED_API_NAMES, bookkeeping_output
from config.api.search import SearchSurface
from config.api.validation import Int
from integrations.services import sources_output
from taxonomy.filtersets import CategoryFilterSet
from taxonomy.models import Category, CategorySource
from taxonomy.querysets import ancestors_condition


def _for_output() -> QuerySet:
    children = (
        Category.objects.filter(parent=OuterRef("pk"))
        .order_by()
        .values("parent")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        Category.objects.defer("search_text")
        .annotate(child_count=Coalesce(Subquery(children, output_field=IntegerField()), 0))
        .prefetch_related(Prefetch("sources", queryset=CategorySource.objects.order_by("pk")))
    )


def _represent(rows: list[Category], language: str | None) -> list[dict[str, Any]]:
    condition = Q(pk__in=[])
    for row in rows:
        if row.parent_id is not None:
            condition |= ancestors_condition(row)
    parent_of = dict(Category.objects.filter(condition).order_by().values_list("pk", "parent_id"))
    out = []
    for row in rows:
        path, node = [], row.parent_id
        while node is not None and len(path) <= len(parent_of):
            path.append(node)
            node = parent_of.get(node)
        data: dict[str, Any] = bookkeeping_output(row)
        data["language"] = row.language.upper()
        for api_name, base in LOCALIZED_API_NAMES.items():
            data[api_name] = localized_output(row, base, language)
        data.update(
            {
                "parent": {"id": row.parent_id} if row.parent_id else None,
                "hidden": row.hidden,
                "priority": row.priority,
                "sources": sources_output(row),
                "level": row.level,
                "path": path[::-1],
                "childCount": row.child_count,
            }
        )
        out.append(data)
    return out


def _schema() -> dict[str, Any]:
    localized = {"type": "array", "items": {"type": "object"}}
    return {
        "type": "object",
        "required": ["id", "version", "createdAt", "lastModifiedAt", "names", "path"],
        "properties": {
            "id": {"type": "integer"},
            "version": {"type": "integer"},
            "createdAt": {"type": "string"},
            "lastModifiedAt": {"type": "string"},
            "language": {"type": "string"},
            **{name: localized for name in LOCALIZED_API_NAMES},
            "parent": {
                "type": "object",
                "nullable": True,
                "properties": {"id": {"type": "integer"}},
            },
            "hidden": {"type": "boolean"},
            "priority": {"type": "integer"},
            "sources": {"type": "array", "items": {"type": "object"}},
            "level": {"type": "integer"},
            "path": {"type": "array", "items": {"type": "integer"}},
            "childCount": {"type": "integer"},
        },
    }


CATEGORY_SEARCH = SearchSurface(
    name="categories",
    hit_type="category",
    label="Category",
    model=Category,
    filterset=CategoryFilterSet,
    sorts=COMMON_SORTS,
    output_queryset=_for_output,
    represent=_represent,
    schema=_schema,
    field_overrides={
        "parent": Int(minimum=1, maximum=None, nullable=True, description="Id, or null: roots.")
    },
)
