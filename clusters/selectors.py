"""Read use cases for cluster configs, clusters, their products and options."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from django.db.models import Prefetch, QuerySet

from catalogue.models import Product
from catalogue.selectors import product_list, products_for_output
from clusters.filtersets import (
    ClusterConfigFilterSet,
    ClusterConfigSettingFilterSet,
    ClusterFilterSet,
    ClusterOptionFilterSet,
)
from clusters.models import (
    Cluster,
    ClusterCategory,
    ClusterConfig,
    ClusterConfigSetting,
    ClusterOption,
    ClusterOptionSource,
    ClusterProduct,
    ClusterSource,
    OptionProduct,
)
from config.api import errors
from records.filters import COMMON_SORTS, filter_queryset
from records.lookups import LookupSpec, by_field, by_id, by_source
from records.rules import describe_ref
from records.sources import pairs_condition
from taxonomy.relationships import Found

CLUSTER_LOOKUP = LookupSpec(
    label="Cluster",
    collection="clusters",
    keys={
        "id": by_id,
        "sourceId": by_source(),
        "code": by_field("code", "code"),
        "sku": by_field("sku", "sku"),
    },
    not_found=errors.ClusterNotFound,
    multiple=errors.ClusterMultipleFound,
)
OPTION_LOOKUP = LookupSpec(
    label="Cluster option",
    collection="clusteroptions",
    keys={"id": by_id, "sourceId": by_source()},
    not_found=errors.ClusterOptionNotFound,
    multiple=errors.ClusterOptionMultipleFound,
)
CONFIG_LOOKUP = LookupSpec(
    label="Cluster config",
    collection="clusterconfigs",
    keys={"id": by_id, "name": by_field("name", "name")},
    not_found=errors.ClusterConfigNotFound,
    # names are unique: a name lookup never matches twice
    multiple=errors.ClusterConfigNotFound,
)

CLUSTER_SORTS = {**COMMON_SORTS, "code": "code"}
OPTION_SORTS = dict(COMMON_SORTS)
CONFIG_SORTS = {
    "id": "id",
    "createdAt": "created_at",
    "lastModifiedAt": "last_modified_at",
    "name": "name",
}
SETTING_SORTS = {"id": "id", "priority": "priority", "name": "attribute_name"}
# Selectable products keep the option's order; ``id`` sorts by product id.
OPTION_PRODUCT_SORTS = {"position": "position", "id": "product_id"}

CLUSTER_EXPANDS = ("products", "options", "clusterConfig", "defaultProduct", "categories")
OPTION_EXPANDS = ("products",)


# Cluster configs ----------------------------------------------------------------------------


def configs_for_output() -> QuerySet:
    return ClusterConfig.objects.prefetch_related(
        Prefetch("settings", queryset=ClusterConfigSetting.objects.order_by("priority", "pk"))
    )


def config_list(params: Mapping[str, str]) -> QuerySet:
    return filter_queryset(ClusterConfigFilterSet, params, configs_for_output())


def config_get(key: str, value: str, *, with_settings: bool = True) -> ClusterConfig:
    """The config at ``{lookupKey}/{lookupValue}``; ``with_settings`` prefetches its settings
    for the representation (sub-resource routes do not need them)."""
    queryset = configs_for_output() if with_settings else ClusterConfig.objects.all()
    return CONFIG_LOOKUP.get(queryset, key, value, {})


def config_by_id(pk: int) -> ClusterConfig:
    """The config with id ``pk``, ready to render (a write's reply)."""
    return config_get("id", str(pk))


def config_setting_list(config: ClusterConfig, params: Mapping[str, str]) -> QuerySet:
    return filter_queryset(
        ClusterConfigSettingFilterSet,
        params,
        ClusterConfigSetting.objects.filter(config=config),
    )


def config_setting_get(config: ClusterConfig, setting_id: int) -> ClusterConfigSetting:
    setting = ClusterConfigSetting.objects.filter(config=config, pk=setting_id).first()
    if setting is None:
        raise errors.ClusterConfigSettingNotFound(
            f"Cluster config [{config.name}] has no setting with id [{setting_id}]."
        )
    return setting


# Clusters -----------------------------------------------------------------------------------


def options_for_output(expands: Collection[str] = ()) -> QuerySet:
    prefetches = [Prefetch("sources", queryset=ClusterOptionSource.objects.order_by("pk"))]
    if "products" in expands:
        prefetches.append(
            Prefetch("product_links", queryset=OptionProduct.objects.order_by("position", "pk"))
        )
    return ClusterOption.objects.prefetch_related(*prefetches)


def clusters_for_output(expands: Collection[str] = ()) -> QuerySet:
    """Clusters with what their representation (and the asked expansions) reads, in a constant
    number of queries whatever the page size."""
    prefetches: list = [Prefetch("sources", queryset=ClusterSource.objects.order_by("pk"))]
    if "products" in expands:
        members = ClusterProduct.objects.order_by("product_id").prefetch_related(
            Prefetch("product", queryset=products_for_output())
        )
        prefetches.append(Prefetch("memberships", queryset=members))
    if "options" in expands:
        # expanded options list their selectable products
        prefetches.append(
            Prefetch(
                "options", queryset=options_for_output(("products",)).order_by("priority", "pk")
            )
        )
    if "clusterConfig" in expands:
        prefetches.append(
            Prefetch(
                "cluster_config__settings",
                queryset=ClusterConfigSetting.objects.order_by("priority", "pk"),
            )
        )
    if "defaultProduct" in expands:
        prefetches.append(Prefetch("default_product", queryset=products_for_output()))
    if "categories" in expands:
        prefetches.append(
            Prefetch("category_links", queryset=ClusterCategory.objects.order_by("category_id"))
        )
    return Cluster.objects.select_related("cluster_config").prefetch_related(*prefetches)


def cluster_list(params: Mapping[str, str], *, expands: Collection[str] = ()) -> QuerySet:
    return filter_queryset(
        ClusterFilterSet,
        params,
        clusters_for_output(expands),
        extra_params=("includeDescendants",),
    )


def cluster_get(
    key: str, value: str, params: Mapping[str, str], *, expands: Collection[str] = ()
) -> Cluster:
    """The cluster at ``{lookupKey}/{lookupValue}``, ready to render."""
    return CLUSTER_LOOKUP.get(clusters_for_output(expands), key, value, params)


def cluster_by_id(pk: int, *, expands: Collection[str] = ()) -> Cluster:
    """The cluster with id ``pk``, ready to render (a write's reply)."""
    return cluster_get("id", str(pk), {}, expands=expands)


def cluster_find(
    key: str, value: str, params: Mapping[str, str], *, parent: bool = False
) -> Cluster:
    """The bare cluster row at ``{lookupKey}/{lookupValue}`` (for writes and sub-resources);
    with ``parent`` (the cluster in the URL of a sub-resource) a miss is ParentClusterNotFound
    (20007)."""
    not_found = errors.ParentClusterNotFound if parent else None
    return CLUSTER_LOOKUP.get(Cluster.objects.all(), key, value, params, not_found=not_found)


def resolve_clusters(refs: Sequence[dict[str, Any]]) -> list[Found | errors.ApiError]:
    """One result per cluster reference of a request body, in order: the cluster (its id and
    primary category) or ClusterNotFound (20006).

    A reference is ``{"id"}``, ``{"sourceId", "source"}`` or ``{"code"}`` (validated before);
    codes and source pairs are unique, so nothing is ambiguous. At most three queries.
    """
    ids = {ref["id"] for ref in refs if "id" in ref}
    pairs = [(ref["source"], ref["sourceId"]) for ref in refs if "sourceId" in ref]
    codes = {ref["code"] for ref in refs if "code" in ref}
    by_id: dict[int, Found] = {}
    if ids:
        rows = Cluster.objects.filter(pk__in=ids).values_list("pk", "parent_id")
        by_id = {pk: Found(pk, parent) for pk, parent in rows}
    by_pair: dict[tuple[str, str], Found] = {}
    if pairs:
        rows = ClusterSource.objects.filter(pairs_condition(pairs)).values_list(
            "source", "source_id", "cluster_id", "cluster__parent_id"
        )
        by_pair = {(s, sid): Found(pk, parent) for s, sid, pk, parent in rows}
    by_code: dict[str, Found] = {}
    if codes:
        rows = Cluster.objects.filter(code__in=codes).values_list("code", "pk", "parent_id")
        by_code = {code: Found(pk, parent) for code, pk, parent in rows}

    results: list[Found | errors.ApiError] = []
    for ref in refs:
        if "id" in ref:
            hit = by_id.get(ref["id"])
        elif "sourceId" in ref:
            hit = by_pair.get((ref["source"], ref["sourceId"]))
        else:
            hit = by_code.get(ref["code"])
        results.append(
            hit or errors.ClusterNotFound(f"Cluster with {describe_ref(ref)} not found.")
        )
    return results


def cluster_by_ref(ref: dict[str, Any]) -> Found:
    """One cluster reference (an unassign target …); raises ClusterNotFound (20006)."""
    found = resolve_clusters([ref])[0]
    if isinstance(found, errors.ApiError):
        raise found
    return found


# Products of a cluster ----------------------------------------------------------------------


def cluster_product_list(cluster: Cluster, params: Mapping[str, str]) -> QuerySet:
    """The cluster's products, with every product list filter (SPEC §13)."""
    return product_list(params).filter(cluster_membership__cluster=cluster)


def cluster_product_get(cluster: Cluster, product_id: int) -> Product:
    product = products_for_output().filter(pk=product_id, cluster_membership__cluster=cluster)
    found = product.first()
    if found is None:
        raise errors.ClusterProductNotFound(
            f"Product with id [{product_id}] is not in cluster [{cluster.pk}]."
        )
    return found


# Options ------------------------------------------------------------------------------------


def option_list(
    cluster: Cluster, params: Mapping[str, str], *, expands: Collection[str] = ()
) -> QuerySet:
    return filter_queryset(
        ClusterOptionFilterSet, params, options_for_output(expands).filter(cluster=cluster)
    )


def option_get(
    key: str, value: str, params: Mapping[str, str], *, expands: Collection[str] = ()
) -> ClusterOption:
    return OPTION_LOOKUP.get(options_for_output(expands), key, value, params)


def option_by_id(pk: int, *, expands: Collection[str] = ()) -> ClusterOption:
    """The option with id ``pk``, ready to render (a write's reply)."""
    return option_get("id", str(pk), {}, expands=expands)


def option_find(key: str, value: str, params: Mapping[str, str]) -> ClusterOption:
    """The bare option row (for writes and sub-resources)."""
    return OPTION_LOOKUP.get(ClusterOption.objects.all(), key, value, params)


def option_in_cluster(
    cluster: Cluster, option_id: int, *, expands: Collection[str] = ()
) -> ClusterOption:
    option = options_for_output(expands).filter(cluster=cluster, pk=option_id).first()
    if option is None:
        raise errors.ClusterOptionNotFound(
            f"Cluster option with id [{option_id}] not found in cluster [{cluster.pk}]."
        )
    return option


def option_product_list(option: ClusterOption, params: Mapping[str, str]) -> QuerySet:
    """The option's selectable product links in order, each with its product ready to render;
    the product list filters apply to the products."""
    products = product_list(params).values("pk")
    return OptionProduct.objects.filter(option=option, product__in=products).prefetch_related(
        Prefetch("product", queryset=products_for_output())
    )
