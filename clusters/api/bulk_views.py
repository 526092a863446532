"""Cluster bulk routes (SPEC §14): ``/v2/clusters/bulk/{lookupKey}`` and the sub-resource bulks
``/v2/clusters/{lk}/{lv}/products/bulk``, ``…/options/bulk``, ``/v2/clusteroptions/{lk}/{lv}/products/bulk``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from clusters import selectors
from clusters.api.views import (
    CLUSTER_PATHS,
    OPTION_LOOKUP_ERRORS,
    OPTION_PATHS,
    PARENT_LOOKUP_ERRORS,
    SOURCE_PARAM,
)
from clusters.bulk import (
    CLUSTERS,
    LINKED_PRODUCTS,
    OPTIONS,
    cluster_bulk,
    cluster_options_bulk,
    cluster_products_bulk,
    nested_key,
    option_products_bulk,
)
from config.api.bulk_views import BULK_QUERY, BulkView, bulk_operation, bulk_or_job, key_schemas
from config.api.permissions import has_scope
from config.api.routing import ApiView
from records.filters import check_query_params

CLUSTERS_BULK = ("bulk:write", "clusters:write")
OPTIONS_BULK = ("bulk:write", "cluster-options:write")


class ClusterBulkView(BulkView):
    tag = "Clusters"
    resource = CLUSTERS
    route = "clusters"
    path_schemas = key_schemas(CLUSTERS)
    operations = {
        "POST": bulk_operation(
            CLUSTERS,
            CLUSTERS_BULK,
            "Create, update or remove up to 1000 clusters with nested products and options "
            "(a nested product from outside the cluster needs products:write too)",
        )
    }

    def resource_for(self, request):
        return cluster_bulk(products_write=has_scope(request, "products:write"))


def _sub_operation(resource, scopes, summary, lookup_errors):
    operation = bulk_operation(resource, scopes, summary)
    return replace(
        operation,
        query=(*SOURCE_PARAM, *BULK_QUERY),
        errors=(*operation.errors, *lookup_errors),
    )


class _SubBulkView(ApiView):
    route: ClassVar[str]  # for jobs (``jobs.resources``)

    def post(self, request, lookup_key, lookup_value):
        params = request.query_params
        check_query_params(params, [*(q.name for q in BULK_QUERY), "source"])
        resource = self.resource_for(request, lookup_key, lookup_value)
        return bulk_or_job(
            request,
            resource,
            lookup_key=nested_key(lookup_key).name,
            route=self.route,
            owner=resource.owner.id,
        )


class ClusterProductBulkView(_SubBulkView):
    tag = "Clusters"
    route = "cluster-products"
    path_schemas = CLUSTER_PATHS
    operations = {
        "POST": _sub_operation(
            LINKED_PRODUCTS,
            CLUSTERS_BULK,
            "Upsert up to 2000 products inside the cluster (keyed like the URL; a product from "
            "outside the cluster needs products:write too)",
            PARENT_LOOKUP_ERRORS,
        )
    }

    def resource_for(self, request, lookup_key, lookup_value):
        cluster = selectors.cluster_find(
            lookup_key, lookup_value, request.query_params, parent=True
        )
        return cluster_products_bulk(cluster, products_write=has_scope(request, "products:write"))


class ClusterOptionBulkView(_SubBulkView):
    tag = "Clusters"
    route = "cluster-options"
    path_schemas = CLUSTER_PATHS
    operations = {
        "POST": _sub_operation(
            OPTIONS,
            OPTIONS_BULK,
            "Upsert up to 1000 options of the cluster (keyed like the URL)",
            PARENT_LOOKUP_ERRORS,
        )
    }

    def resource_for(self, request, lookup_key, lookup_value):
        cluster = selectors.cluster_find(
            lookup_key, lookup_value, request.query_params, parent=True
        )
        return cluster_options_bulk(cluster)


class OptionProductBulkView(_SubBulkView):
    tag = "Cluster options"
    route = "option-products"
    path_schemas = OPTION_PATHS
    operations = {
        "POST": _sub_operation(
            LINKED_PRODUCTS,
            OPTIONS_BULK,
            "Make up to 2000 products selectable in the option (items that create products or "
            "carry product fields need products:write too; remove only unselects)",
            OPTION_LOOKUP_ERRORS,
        )
    }

    def resource_for(self, request, lookup_key, lookup_value):
        option = selectors.option_find(lookup_key, lookup_value, request.query_params)
        return option_products_bulk(option, products_write=has_scope(request, "products:write"))
