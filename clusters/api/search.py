"""``POST /v2/clusters/search`` and the clusters' part of ``GET /v2/search`` (SPEC §13).
Registered in ``ClustersConfig.ready()``; rows render exactly like the cluster list (without
expansions).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from clusters.api.representations import cluster_representation, cluster_schema
from clusters.filtersets import ClusterFilterSet
from clusters.models import Cluster
from clusters.search import CODE_COLUMNS, refresh_cluster_search_text
from clusters.selectors import CLUSTER_SORTS, clusters_for_output
from config.api.search import SearchSurface
from records.validation import Bool, Str


def _output_queryset() -> QuerySet:
    return clusters_for_output().defer("search_text")


def _represent(rows: list[Cluster], language: str | None) -> list[dict[str, Any]]:
    return [cluster_representation(cluster, language=language) for cluster in rows]


CLUSTER_SEARCH = SearchSurface(
    name="clusters",
    hit_type="cluster",
    label="Cluster",
    model=Cluster,
    filterset=ClusterFilterSet,
    sorts=CLUSTER_SORTS,
    output_queryset=_output_queryset,
    represent=_represent,
    schema=cluster_schema,
    code_columns=CODE_COLUMNS,
    extra_fields={"includeDescendants": Bool(description="With category: the whole subtree.")},
    extra_params=("includeDescendants",),
    field_overrides={
        "code": Str(min_length=1, max_length=64, description="Exact cluster code."),
    },
    refresh=refresh_cluster_search_text,
)
