"""Read use cases for products: the querysets lists and details render from."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from django.db.models import Prefetch, QuerySet

from catalogue.filtersets import ATTRIBUTE_PREFIX, ProductFilterSet
from catalogue.models import Product, ProductAttribute, ProductCategory, ProductSource
from config.api import errors
from config.api.filters import filter_queryset
from config.api.lookups import LookupSpec, by_field, by_id, by_source

PRODUCT_LOOKUP = LookupSpec(
    label="Product",
    collection="products",
    keys={
        "id": by_id,
        "sourceId": by_source(),
        "sku": by_field("sku", "sku"),
        "supplierCode": by_field("supplier_code", "supplierCode", ("supplier", "supplier")),
    },
    not_found=errors.ProductNotFound,
    multiple=errors.ProductMultipleFound,
)
PRODUCT_SORTS = {
    "id": "id",
    "createdAt": "created_at",
    "lastModifiedAt": "last_modified_at",
    "priority": "priority",
    "name": "sort_name",
    "sku": "sku",
}


def products_for_output(expands: Collection[str] = ()) -> QuerySet:
    """Products with what their representation reads, in a constant number of queries.

    ``cluster_membership`` is the reverse one-to-one of the clusters app (named, not imported:
    catalogue sits below clusters); joining it costs no extra query. The search document is
    never rendered, so it is not fetched.
    """
    prefetches = [
        Prefetch("sources", queryset=ProductSource.objects.order_by("pk")),
        Prefetch("attributes", queryset=ProductAttribute.objects.order_by("position")),
    ]
    if "categories" in expands:
        prefetches.append(
            Prefetch("category_links", queryset=ProductCategory.objects.order_by("category_id"))
        )
    return (
        Product.objects.defer("search_text")
        .select_related("cluster_membership")
        .prefetch_related(*prefetches)
    )


def product_list(params: Mapping[str, str], *, expands: Collection[str] = ()) -> QuerySet:
    return filter_queryset(
        ProductFilterSet,
        params,
        products_for_output(expands),
        extra_params=("includeDescendants",),
        prefixes=(ATTRIBUTE_PREFIX,),
    )


def product_get(
    key: str, value: str, params: Mapping[str, str], *, expands: Collection[str] = ()
) -> Product:
    return PRODUCT_LOOKUP.get(products_for_output(expands), key, value, params)
