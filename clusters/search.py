"""Cluster search: the search document every cluster write path keeps, and the ``cluster`` and
``clusterOption`` resolve types. The generic machinery is in ``records.search``; the API
registration in ``clusters.api.search``.
"""

from __future__ import annotations

from clusters.models import Cluster, ClusterOption, ClusterOptionSource, ClusterSource
from records.search.resolve import Resolver, field_key, id_key, source_key
from records.search.text import SearchText

#: the codes whose exact match ranks a cluster first
CODE_COLUMNS = ("code", "sku")
CLUSTER_TEXT = SearchText(Cluster, ClusterSource, "cluster", CODE_COLUMNS)
cluster_search_text = CLUSTER_TEXT.document
cluster_source_ids = CLUSTER_TEXT.source_ids
refresh_cluster_search_text = CLUSTER_TEXT.refresh


CLUSTER_RESOLVER = Resolver(
    "cluster",
    (
        id_key(Cluster),
        source_key(ClusterSource, "cluster"),
        field_key(Cluster, "code", "code"),
        field_key(Cluster, "sku", "sku"),
    ),
)
OPTION_RESOLVER = Resolver(
    "clusterOption",
    (id_key(ClusterOption), source_key(ClusterOptionSource, "option")),
)
