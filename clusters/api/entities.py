"""The clusters of import_catalogue and export_catalogue: the bulk resource that imports them and
the export in the API's own representation (found by ``records.bulk.entities()``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from catalogue.models import ProductSource
from clusters.api.representations import cluster_representation, option_representation
from clusters.bulk import CLUSTER_ITEM, CLUSTERS, OPTION_ITEM
from clusters.models import Cluster, ClusterOption, ClusterProduct, ClusterSource, OptionProduct
from records.bulk import Entity, exportable, most_links, register, sorted_pairs
from records.bulk_records import first_source_pairs
from taxonomy.models import CategorySource

EXPORT_CHUNK = 500


def export_clusters() -> Iterator[dict[str, Any]]:
    """Every cluster in the write shape, by id, a chunk at a time (constant memory).

    ``clusterConfig`` by name and ``parent`` by the category's first source pair (when it has
    one), so the file means the same after an import elsewhere. Members and options are nested:
    products as references (their first source pair: import the products first), options with
    their source pairs (the first one also flat, as the nested item's key) and selectable
    products. ``defaultProduct`` (an id) is not exported, and
    products without a source pair cannot be referenced: a database-independent file cannot
    carry them.
    """
    last = 0
    while True:
        clusters = list(
            Cluster.objects.filter(pk__gt=last)
            .order_by("pk")
            .select_related("cluster_config")
            .prefetch_related("sources")[:EXPORT_CHUNK]
        )
        if not clusters:
            return
        ids = [c.pk for c in clusters]
        parents = first_source_pairs(
            CategorySource, "category", {c.parent_id for c in clusters if c.parent_id}
        )
        member_rows = list(
            ClusterProduct.objects.filter(cluster_id__in=ids)
            .order_by("product_id")
            .values_list("cluster_id", "product_id")
        )
        options = list(
            ClusterOption.objects.filter(cluster_id__in=ids)
            .order_by("pk")
            .prefetch_related("sources")
        )
        selectable = list(
            OptionProduct.objects.filter(option__cluster_id__in=ids)
            .order_by("option_id", "position")
            .values_list("option_id", "product_id")
        )
        refs = first_source_pairs(
            ProductSource, "product", {p for _, p in member_rows} | {p for _, p in selectable}
        )
        members: dict[int, list[dict]] = defaultdict(list)
        for cluster_id, product_id in member_rows:
            if product_id in refs:
                members[cluster_id].append(refs[product_id])
        chosen: dict[int, list[dict]] = defaultdict(list)
        for option_id, product_id in selectable:
            if product_id in refs:
                chosen[option_id].append(refs[product_id])
        by_cluster: dict[int, list[dict]] = defaultdict(list)
        for option in options:
            data = exportable(option_representation(option), OPTION_ITEM)
            data.pop("defaultProduct", None)
            data["sources"] = sorted_pairs(data["sources"])
            if data["sources"]:  # nested items carry the key: the first pair
                data.update(data["sources"][0])
            if chosen[option.pk]:
                data["products"] = chosen[option.pk]
            by_cluster[option.cluster_id].append(data)
        for cluster in clusters:
            data = exportable(cluster_representation(cluster), CLUSTER_ITEM)
            data["clusterConfig"] = {"name": cluster.cluster_config.name}
            data["sources"] = sorted_pairs(data["sources"])
            data.pop("defaultProduct", None)
            if cluster.parent_id in parents:
                data["parent"] = parents[cluster.parent_id]
            if members[cluster.pk]:
                data["products"] = members[cluster.pk]
            if by_cluster[cluster.pk]:
                data["options"] = by_cluster[cluster.pk]
            yield data
        last = ids[-1]


register(
    Entity(
        "clusters",
        CLUSTERS,
        export=export_clusters,
        max_sources=lambda: most_links(ClusterSource, "cluster_id"),
    )
)
