"""Categories as the API answers them: representations, tree nodes and their OpenAPI schemas."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from config.api.outcomes import outcome_schema
from records.components import component
from records.localized import localized_plan, localized_row_output
from records.rules import (
    LOCALIZED_API_NAMES,
    bookkeeping_row_output,
    related_schema,
    representation_schema,
)
from records.sources import sources_output
from taxonomy.models import Category
from taxonomy.relationships import link_kinds
from taxonomy.schemas import category_fields
from taxonomy.selectors import category_row_fields


def category_output(row: Mapping[str, Any], *, language: str | None = None) -> dict[str, Any]:
    """A category from a row: ``selectors.category_row_fields()`` with ``child_count``,
    ``path_ids`` and ``sources`` (the tree's ``values()`` rows, exports, and instances through
    ``category_representation``)."""
    data: dict[str, Any] = bookkeeping_row_output(row)
    data["language"] = row["language"].upper()
    for api_name, columns in localized_plan(LOCALIZED_API_NAMES, language):
        data[api_name] = localized_row_output(row, columns)
    parent_id = row["parent_id"]
    data["parent"] = {"id": parent_id} if parent_id else None
    data["hidden"] = row["hidden"]
    data["priority"] = row["priority"]
    data["sources"] = row["sources"]
    data["level"] = row["level"]
    data["path"] = row["path_ids"]
    data["childCount"] = row["child_count"]
    return data


def category_representation(category: Category, *, language: str | None = None) -> dict[str, Any]:
    """An instance from the selectors (``child_count``, ``path_ids``, prefetched sources)."""
    row = {name: getattr(category, name) for name in category_row_fields()}
    row["child_count"] = category.child_count
    row["path_ids"] = category.path_ids
    row["sources"] = sources_output(category)
    return category_output(row, language=language)


def tree_representation(node: Mapping[str, Any], *, language: str | None = None) -> dict[str, Any]:
    """A row of ``selectors.category_tree`` with its ``children``, iteratively (deep trees never
    hit recursion limits)."""
    top = category_output(node, language=language)
    pending = [(node, top)]
    while pending:
        current, data = pending.pop()
        data["children"] = []
        for child in current["children"]:
            child_data = category_output(child, language=language)
            data["children"].append(child_data)
            pending.append((child, child_data))
    return top


@component("Category")
def category_schema() -> dict[str, Any]:
    """The OpenAPI schema of a category as read."""
    return representation_schema(category_fields(), properties={"parent": related_schema()})


@component("CategoryTreeNode")
def tree_node_schema() -> dict[str, Any]:
    """A category with its ``children``, nodes of the same component all the way down."""
    schema = category_schema.build()
    schema["properties"]["children"] = {"type": "array", "items": tree_node_schema()}
    schema["required"].append("children")
    return schema


def ancestors_schema() -> dict[str, Any]:
    return {"type": "array", "items": category_schema()}


@component("CategoryLinkOutcome")
def link_outcome_schema() -> dict[str, Any]:
    return outcome_schema(
        {"type": {"type": "string", "enum": [kind.item_type for kind in link_kinds()]}}
    )
