from __future__ import annotations

import django_filters
from django import forms
from django.db.models import QuerySet

from config.api.errors import SchemaValidationException
from records.filters import MAX_ROW_ID, IdFilter, RecordFilterSet
from taxonomy.models import Category, CategorySource
from taxonomy.querysets import subtree_condition

#: the deepest ``level`` and tree ``depth`` asked for (the column is a 32-bit integer; any depth
#: past the tree's own is the whole tree)
MAX_DEPTH = 2**31 - 1


class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class CategoryFilterSet(RecordFilterSet):
    """Category list filters (SPEC §13): the common ones plus ``parent``, ``level``, ``root``."""

    parent = django_filters.CharFilter(method="filter_parent")
    level = IntegerFilter(field_name="level", min_value=0, max_value=MAX_DEPTH)
    root = IdFilter(method="filter_root")

    source_model = CategorySource
    source_owner = "category"

    class Meta:
        model = Category
        fields: list[str] = []

    def filter_parent(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """``parent=<id>``: direct children of that category; ``parent=null``: the roots."""
        if value == "null":
            return queryset.filter(parent__isnull=True)
        if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_ROW_ID:
            raise SchemaValidationException(
                fields={"parent": ["Must be a category id or null (for the roots)."]}
            )
        return queryset.filter(parent_id=int(value))

    def filter_root(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        """``root=<id>``: that category and everything below it (none when it does not exist)."""
        top = Category.objects.filter(pk=value).only("tree_id", "lft", "rght").first()
        if top is None:
            return queryset.none()
        return queryset.filter(subtree_condition(top))
