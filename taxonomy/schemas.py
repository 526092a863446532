"""Categories in JSON requests: the body schemas a write accepts (SPEC §10, §10.1); the
representations are the API's, in ``taxonomy.api.representations``."""

from __future__ import annotations

from typing import Any

from records.rules import (
    ID_REF,
    LOCALIZED_API_NAMES,
    SOURCE_REF,
    SOURCES_RULES,
    check_sources,
    common_fields,
    default_name_rule,
    localized_fields,
    source_fields,
)
from records.validation import Choice, Errors, Field, Int, ListOf, Obj, OneOfShapes, add_error
from taxonomy.relationships import MAX_LINK_ITEMS, link_kinds
from taxonomy.services import POSITIONS

CATEGORY_REF = OneOfShapes(
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
    name="CategoryCreate",
)
CATEGORY_PATCH = Obj(
    category_fields(), check=_check_category, rules=SOURCES_RULES, name="CategoryPatch"
)
MOVE_BODY = Obj(
    {
        "target": CATEGORY_REF,
        "position": Choice(POSITIONS, description="Default last-child."),
    },
    required=("target",),
    name="CategoryMove",
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
        },
        rules=({"minProperties": 1},),  # at least one item (the service says so, 400)
        name="CategoryLinks",
    )
