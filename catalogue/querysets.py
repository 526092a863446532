"""Read vocabulary on products, shared by selectors, filter sets and the link kind."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from catalogue.models import ProductCategory


def in_categories(category_ids: QuerySet) -> Q:
    """Products whose primary or a secondary category is among ``category_ids``.

    ``category_ids`` is a ``values("pk")`` queryset, so a whole subtree stays one subquery.
    """
    secondary = ProductCategory.objects.filter(category_id__in=category_ids).values("product_id")
    return Q(parent_id__in=category_ids) | Q(pk__in=secondary)
