"""Every structural write to the category tree, serialised by one tree lock."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction

from config.api import errors
from config.api.records import (
    RecordSpec,
    apply_sources,
    check_if_match,
    finish_localized,
    localized_input,
    merge_localized,
    save_record,
    snapshot,
)
from taxonomy.models import Category, CategorySource
from taxonomy.selectors import category_by_ref
from taxonomy.translation import LOCALIZED_FIELDS

TREE_LOCK_KEY = 0x43415447  # "CATG": one advisory lock for the whole category forest

CATEGORY = RecordSpec(
    label="Category",
    localized=LOCALIZED_FIELDS,
    source_model=CategorySource,
    source_owner_field="category",
    exists_error=errors.CategoryExists,
)
SCALAR_FIELDS = ("language", "hidden", "priority")


def lock_category_tree() -> None:
    """Take the tree lock for the rest of the current transaction (PostgreSQL; no-op on SQLite).

    mptt computes lft/rght in Python from values it read earlier; two concurrent writers corrupt
    the tree without this (spike §4: 18 duplicate positions). SQLite serialises writers itself.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TREE_LOCK_KEY])


def _apply(category: Category, data: dict[str, Any]) -> None:
    for name in SCALAR_FIELDS:
        if name in data:
            setattr(category, name, data[name])
    if "parent" in data:
        ref = data["parent"]
        parent = category_by_ref(ref) if ref is not None else None
        if (
            parent is not None
            and category.pk
            and (parent.pk == category.pk or parent.is_descendant_of(category))
        ):
            raise errors.CategoryCycle("A category cannot move under itself or a descendant.")
        category.parent = parent
    merge_localized(category, localized_input(data, CATEGORY))
    finish_localized(category, CATEGORY)


@transaction.atomic
def category_create(*, data: dict[str, Any]) -> Category:
    """Create a category (last child of its parent, or a new root) under the tree lock.

    Raises DefaultTranslationRequired, CategoryExists, ParentCategoryNotFound.
    """
    lock_category_tree()
    category = Category()
    _apply(category, data)
    save_record(category, None)
    apply_sources(category, CATEGORY, data)
    return category


@transaction.atomic
def category_update(
    *, category_id: int, data: dict[str, Any], if_match: str | None = None
) -> Category:
    """Partial update under the tree lock; a new ``parent`` moves it (as last child).

    Raises CategoryNotFound, PreconditionFailed, CategoryCycle, ParentCategoryNotFound,
    DefaultTranslationRequired, CategoryExists. A write that changes nothing keeps the version.
    """
    lock_category_tree()
    category = Category.objects.select_for_update().filter(pk=category_id).first()
    if category is None:
        raise errors.CategoryNotFound(f"Category with id [{category_id}] not found.")
    check_if_match(if_match, category)
    before = snapshot(category)
    _apply(category, data)
    changed = apply_sources(category, CATEGORY, data)
    save_record(category, before, extra_changed=changed)
    return category
