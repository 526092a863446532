"""Clusters as items of categories (SPEC §10.1): the ``clusters`` link kind.

Registered from ``ClustersConfig.ready()``; taxonomy's relationship endpoints and category
delete reach clusters only through this adapter. A cluster's primary category is its
``parent``, its secondary categories are ``ClusterCategory`` rows.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from django.db.models import Q, QuerySet

from clusters.api.representations import cluster_representation, cluster_schema
from clusters.api.views import CLUSTER_EXPANDS_PARAM, CLUSTER_FILTERS
from clusters.models import Cluster, ClusterCategory
from clusters.querysets import in_categories
from clusters.schemas import CLUSTER_REF
from clusters.selectors import CLUSTER_EXPANDS, CLUSTER_SORTS, cluster_list, resolve_clusters
from config.api import errors
from records.filters import parse_expands, parse_language_param
from taxonomy.querysets import primary_in
from taxonomy.relationships import Found


class ClusterLinks:
    key = "clusters"
    item_type = "cluster"
    label = "Cluster"
    not_found = errors.ClusterNotFound
    lookup = CLUSTER_REF
    sorts = CLUSTER_SORTS
    query = (*CLUSTER_FILTERS, CLUSTER_EXPANDS_PARAM)

    def resolve(self, lookups: Sequence[dict]) -> list[Found | errors.ApiError]:
        """At most three queries: ids, source pairs, codes."""
        return resolve_clusters(lookups)

    def secondary_ids(self, category_id: int, item_ids: Collection[int]) -> set[int]:
        links = ClusterCategory.objects.filter(category_id=category_id, cluster_id__in=item_ids)
        return set(links.values_list("cluster_id", flat=True))

    def link(self, category_id: int, item_ids: Collection[int]) -> None:
        # A concurrent request may have added the same link: the link exists either way.
        ClusterCategory.objects.bulk_create(
            [ClusterCategory(category_id=category_id, cluster_id=pk) for pk in sorted(item_ids)],
            ignore_conflicts=True,
        )

    def unlink(self, category_id: int, item_ids: Collection[int]) -> None:
        ClusterCategory.objects.filter(category_id=category_id, cluster_id__in=item_ids).delete()

    def count_linked(self, category_id: int) -> int:
        secondary = ClusterCategory.objects.filter(category_id=category_id).values("cluster_id")
        return Cluster.objects.filter(Q(parent_id=category_id) | Q(pk__in=secondary)).count()

    def linked(self, category_ids: QuerySet, params: Mapping[str, str]) -> QuerySet:
        expands = parse_expands(params, CLUSTER_EXPANDS)
        return (
            cluster_list(params, expands=expands)
            .filter(in_categories(category_ids))
            .annotate(is_primary=primary_in(category_ids))
        )

    def represent(self, item: Cluster, params: Mapping[str, str]) -> dict[str, Any]:
        return cluster_representation(
            item,
            language=parse_language_param(params),
            expands=parse_expands(params, CLUSTER_EXPANDS),
        )

    def schema(self) -> dict[str, Any]:
        return cluster_schema()


CLUSTER_LINKS = ClusterLinks()
