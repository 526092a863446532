"""Clusters as items of categories (SPEC §10.1): the ``clusters`` link kind.

Registered from ``ClustersConfig.ready()``; taxonomy's relationship endpoints and category
delete reach clusters only through this adapter. A cluster's primary category is its
``parent``, its secondary categories are ``ClusterCategory`` rows.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from django.db.models import Q

from clusters.models import Cluster, ClusterCategory
from clusters.schemas import CLUSTER_REF
from clusters.selectors import resolve_clusters
from config.api import errors
from taxonomy.relationships import Found


class ClusterLinks:
    key = "clusters"
    item_type = "cluster"
    label = "Cluster"
    not_found = errors.ClusterNotFound
    lookup = CLUSTER_REF

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


CLUSTER_LINKS = ClusterLinks()
