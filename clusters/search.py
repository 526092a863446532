"""Cluster search: the search document every cluster write path keeps, and the ``cluster`` and
``clusterOption`` resolve types. The generic machinery is in ``config.api.search``; the API
registration in ``clusters.api.search``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings

from clusters.models import Cluster, ClusterOption, ClusterOptionSource, ClusterSource
from config.api.search import Resolver, field_key, id_key, search_document, set_column, source_key

_TEXT_BASES = ("name", "short_description", "description")

#: the code whose exact match ranks a cluster first
CODE_COLUMNS = ("code",)


def cluster_search_text(cluster: Any, source_ids: Iterable[str]) -> str:
    """The ``search_text`` of a cluster: names (default language first), code, source ids,
    short descriptions and descriptions in every language.

    ``cluster`` may be a historical model in a migration; only plain attributes are read.
    """
    languages = [
        cluster.language,
        *(code for code in settings.CATALOGUE_LANGUAGES if code != cluster.language),
    ]
    names = [getattr(cluster, f"name_{code}", None) for code in languages]
    texts = [
        getattr(cluster, f"{base}_{code}", None) for base in _TEXT_BASES[1:] for code in languages
    ]
    return search_document([*names, cluster.code or None, *source_ids, *texts])


def cluster_source_ids(cluster_id: int) -> list[str]:
    return list(
        ClusterSource.objects.filter(cluster_id=cluster_id)
        .order_by("pk")
        .values_list("source_id", flat=True)
    )


def refresh_cluster_search_text(ids: Iterable[int], *, batch_size: int = 1000) -> int:
    """Recompute ``search_text`` of the given clusters set-based (bulk writes, rebuilds):
    three statements per ``batch_size`` clusters. Returns how many rows were rewritten."""
    ids = list(ids)
    columns = ["id", "language", "code"] + [
        f"{base}_{code}" for base in _TEXT_BASES for code in settings.CATALOGUE_LANGUAGES
    ]
    rewritten = 0
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        sources: dict[int, list[str]] = {}
        for owner, source_id in (
            ClusterSource.objects.filter(cluster_id__in=chunk)
            .order_by("pk")
            .values_list("cluster_id", "source_id")
        ):
            sources.setdefault(owner, []).append(source_id)
        documents = {
            cluster.pk: cluster_search_text(cluster, sources.get(cluster.pk, []))
            for cluster in Cluster.objects.filter(pk__in=chunk).only(*columns)
        }
        set_column(Cluster, "search_text", documents)
        rewritten += len(documents)
    return rewritten


CLUSTER_RESOLVER = Resolver(
    "cluster",
    (
        id_key(Cluster),
        source_key(ClusterSource, "cluster"),
        field_key(Cluster, "code", "code"),
    ),
)
OPTION_RESOLVER = Resolver(
    "clusterOption",
    (id_key(ClusterOption), source_key(ClusterOptionSource, "option")),
)
