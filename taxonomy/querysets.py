"""Read vocabulary of the tree, shared by selectors and filter sets (no imports from either)."""

from __future__ import annotations

from django.db.models import BooleanField, Case, Q, QuerySet, Value, When

from taxonomy.models import Category


def subtree_condition(category: Category, prefix: str = "") -> Q:
    """Rows whose ``prefix`` category lies in ``category``'s subtree (itself included)."""
    return Q(
        **{
            f"{prefix}tree_id": category.tree_id,
            f"{prefix}lft__gte": category.lft,
            f"{prefix}rght__lte": category.rght,
        }
    )


def ancestors_condition(category: Category) -> Q:
    """The categories above ``category`` (itself excluded)."""
    return Q(tree_id=category.tree_id, lft__lt=category.lft, rght__gt=category.rght)


def is_in_subtree(node: Category, top: Category) -> bool:
    """Whether ``node`` is ``top`` or one of its descendants (both freshly read)."""
    return node.tree_id == top.tree_id and top.lft <= node.lft <= top.rght


def primary_in(category_ids: QuerySet) -> Case:
    """A boolean annotation for any record with a primary category (``parent``): whether it
    is among ``category_ids`` (a ``values("pk")`` queryset)."""
    return Case(
        When(parent_id__in=category_ids, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )
