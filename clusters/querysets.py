"""Read vocabulary on clusters, shared by selectors, filter sets and the link kind."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from clusters.models import ClusterCategory


def in_categories(category_ids: QuerySet) -> Q:
    """Clusters whose primary or a secondary category is among ``category_ids``.

    ``category_ids`` is a ``values("pk")`` queryset, so a whole subtree stays one subquery.
    """
    secondary = ClusterCategory.objects.filter(category_id__in=category_ids).values("cluster_id")
    return Q(parent_id__in=category_ids) | Q(pk__in=secondary)
