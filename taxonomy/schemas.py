"""Categories in JSON: the request body schemas and the representation (SPEC §10, §10.1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from config.api.outcomes import outcome_schema
from records.localized import localized_plan, localized_row_output
from records.rules import (
    ID_REF,
    LOCALIZED_API_NAMES,
    SOURCE_REF,
    SOURCES_RULES,
    bookkeeping_row_output,
    check_sources,
    common_fields,
    default_name_rule,
    localized_fields,
    source_fields,
)
from records.sources import sources_output
from records.validation import Choice, Errors, Field, Int, ListOf, Obj, OneOf, add_error
from taxonomy.models import Category
from taxonomy.relationships import MAX_LINK_ITEMS, link_kinds
from taxonomy.selectors import category_row_fields
from taxonomy.services import POSITIONS

CATEGORY_REF = OneOf(
    [ID_REF, SOURCE_REF],
    nullable=True,
    description="A category: {id} or {sourceId, source}; null for none (a root).",
)


def category_fields() -> dict[str, Field]:
    return {
        **common_fields(),
        **localized_fields(LOCALIZED_API_NAMES),
        "parent": CATEGORY_REF,
        "level": Int(minimum=0, read_only=True, description="Depth; a root is 0."),
        "path": ListOf(Int(), read_only=True, description="Ids from the root down to the parent."),
        "childCount": Int(minimum=0, read_only=True),
        **source_fields(),
    }


def _check_category(cleaned: dict, path: str, errs: Errors) -> None:
    check_sources(cleaned, path, errs)


CATEGORY_BODY = Obj(
    category_fields(),
    required=("names",),
    check=_check_category,
    rules=(*SOURCES_RULES, default_name_rule()),
)
CATEGORY_PATCH = Obj(category_fields(), check=_check_category, rules=SOURCES_RULES)
MOVE_BODY = Obj(
    {
        "target": CATEGORY_REF,
        "position": Choice(POSITIONS, description="Default last-child."),
    },
    required=("target",),
)


class ItemLookups(ListOf):
    """Raw item lookups: each item is validated on its own by the service, so that a malformed
    item is that item's error outcome; the count is limited per request (413), not per list."""

    def convert(self, value: Any, path: str, errors: Errors) -> Any:
        if not isinstance(value, list):
            return add_error(errors, path, "Expected an array of lookups.")
        return value


def link_body() -> Obj:
    """``{"products": [lookup…], "clusters": [lookup…]}`` for every link kind."""
    return Obj(
        {
            kind.key: ItemLookups(
                kind.lookup,
                max_items=MAX_LINK_ITEMS,
                description=f"{kind.label} lookups; at most {MAX_LINK_ITEMS} items in total.",
            )
            for kind in link_kinds()
        }
    )


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


def category_schema() -> dict[str, Any]:
    """The OpenAPI schema of a category as read."""
    schema = Obj(category_fields()).openapi(for_write=False)
    props = schema["properties"]
    for name in ("source", "sourceId"):
        props.pop(name)
    props["parent"] = {
        "type": "object",
        "nullable": True,
        "properties": {"id": {"type": "integer"}},
    }
    schema["required"] = ["id", "version", "createdAt", "lastModifiedAt", "names", "path"]
    return schema


def tree_node_schema() -> dict[str, Any]:
    schema = category_schema()
    schema["properties"]["children"] = {
        "type": "array",
        "items": {"type": "object", "description": "A node of the same shape."},
    }
    return schema


def ancestors_schema() -> dict[str, Any]:
    return {"type": "array", "items": category_schema()}


def link_outcome_schema() -> dict[str, Any]:
    return outcome_schema(
        {"type": {"type": "string", "enum": [kind.item_type for kind in link_kinds()]}}
    )
