"""Read use cases of the category tree."""

from __future__ import annotations

from django.db.models import Q

from config.api import errors
from taxonomy.models import Category

PARENT_REF_HELP = '{"id": n} or {"sourceId": s, "source": s}'


def category_by_ref(
    ref: dict, *, missing: type[errors.ApiError] = errors.ParentCategoryNotFound
) -> Category:
    """Resolve a category reference (``{"id"}`` or ``{"sourceId", "source"}``) or raise ``missing``."""
    if "id" in ref:
        condition, text = Q(pk=ref["id"]), f"id [{ref['id']}]"
    else:
        condition = Q(sources__source=ref["source"], sources__source_id=ref["sourceId"])
        text = f"sourceId [{ref['sourceId']}] and source [{ref['source']}]"
    category = Category.objects.filter(condition).first()
    if category is None:
        raise missing(f"Category with {text} not found.")
    return category


def subtree_condition(category: Category, prefix: str = "") -> Q:
    """Rows whose ``prefix`` category lies in ``category``'s subtree (itself included)."""
    return Q(
        **{
            f"{prefix}tree_id": category.tree_id,
            f"{prefix}lft__gte": category.lft,
            f"{prefix}rght__lte": category.rght,
        }
    )
