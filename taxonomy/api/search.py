"""``POST /v2/categories/search`` and the categories' part of ``GET /v2/search`` (SPEC §13).
Registered in ``TaxonomyConfig.ready()``; rows render exactly like the category list.
"""

from __future__ import annotations

from typing import Any

from config.api.search import SearchSurface
from records.filters import COMMON_SORTS, MAX_ROW_ID
from records.validation import Int
from taxonomy.api.representations import category_representation, category_schema
from taxonomy.filtersets import CategoryFilterSet
from taxonomy.models import Category
from taxonomy.search import refresh_category_search_text
from taxonomy.selectors import attach_paths, categories_for_output


def _represent(rows: list[Category], language: str | None) -> list[dict[str, Any]]:
    return [category_representation(c, language=language) for c in attach_paths(rows)]


CATEGORY_SEARCH = SearchSurface(
    name="categories",
    hit_type="category",
    label="Category",
    model=Category,
    filterset=CategoryFilterSet,
    sorts=COMMON_SORTS,
    output_queryset=categories_for_output,
    represent=_represent,
    schema=category_schema,
    field_overrides={
        "parent": Int(
            minimum=1, maximum=MAX_ROW_ID, nullable=True, description="Id, or null: roots."
        ),
    },
    refresh=refresh_category_search_text,
)
