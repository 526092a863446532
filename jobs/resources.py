"""The bulk resource a job writes, rebuilt in the worker from what the route recorded.

A bulk route narrows its resource by the token (``products:write`` for nested products, SPEC
§11) and by its URL (the cluster or option a sub-resource bulk belongs to); the job keeps that as
plain JSON (``Job.resource``) so that any worker can build the very same resource again.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from catalogue.bulk import PRODUCTS
from clusters.bulk import (
    cluster_bulk,
    cluster_options_bulk,
    cluster_products_bulk,
    option_products_bulk,
)
from clusters.models import Cluster, ClusterOption
from config.api import errors
from records.bulk import BulkResource
from taxonomy.bulk import CATEGORIES

#: route → the entity its items are (the job's ``entity``)
ROUTE_ENTITIES = {
    "products": "products",
    "categories": "categories",
    "clusters": "clusters",
    "cluster-products": "products",
    "cluster-options": "options",
    "option-products": "products",
}


def spec(route: str, *, owner: int | None = None, products_write: bool = True) -> dict[str, Any]:
    if route not in ROUTE_ENTITIES:
        raise ValueError(f"unknown bulk route {route!r}")
    out: dict[str, Any] = {"route": route, "productsWrite": products_write}
    if owner is not None:
        out["owner"] = owner
    return out


def build(resource: dict[str, Any]) -> BulkResource:
    """The resource of ``Job.resource``; a sub-resource whose owner is gone → its 404 error."""
    route, products_write = resource["route"], resource.get("productsWrite", True)
    if route == "products":
        return PRODUCTS
    if route == "categories":
        return CATEGORIES
    if route == "clusters":
        return cluster_bulk(products_write=products_write)
    owner = resource["owner"]
    if route in ("cluster-products", "cluster-options"):
        if not Cluster.objects.filter(pk=owner).exists():
            raise errors.ParentClusterNotFound(f"Cluster {owner} no longer exists.")
        if route == "cluster-options":
            return cluster_options_bulk(SimpleNamespace(pk=owner))  # type: ignore[arg-type]
        return cluster_products_bulk(
            SimpleNamespace(pk=owner),  # type: ignore[arg-type]
            products_write=products_write,
        )
    if route == "option-products":
        if not ClusterOption.objects.filter(pk=owner).exists():
            raise errors.ClusterOptionNotFound(f"Cluster option {owner} no longer exists.")
        return option_products_bulk(
            SimpleNamespace(pk=owner),  # type: ignore[arg-type]
            products_write=products_write,
        )
    raise ValueError(f"unknown bulk route {route!r}")
