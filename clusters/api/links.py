"""Clusters as the API lists them under a category (SPEC §10.1); the ``clusters`` link kind
itself is ``clusters.relationships``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

from clusters.api.representations import cluster_representation, cluster_schema
from clusters.api.views import CLUSTER_EXPANDS_PARAM, CLUSTER_FILTERS
from clusters.models import Cluster
from clusters.querysets import in_categories
from clusters.selectors import CLUSTER_EXPANDS, CLUSTER_SORTS, cluster_list
from records.filters import parse_expands, parse_language_param
from taxonomy.querysets import primary_in


class ClusterItems:
    key = "clusters"
    sorts = CLUSTER_SORTS
    query = (*CLUSTER_FILTERS, CLUSTER_EXPANDS_PARAM)

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
        return cluster_schema.build()


CLUSTER_ITEMS = ClusterItems()
