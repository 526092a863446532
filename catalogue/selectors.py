"""Read use cases for products: the querysets lists and details render from."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from django.db.models import Prefetch, QuerySet

from catalogue.filtersets import ATTRIBUTE_PREFIX, ProductFilterSet
from catalogue.models import Product, ProductAttribute, ProductCategory, ProductSource
from config.api import errors
from config.api.filters import filter_queryset
from config.api.lookups import LookupSpec, by_field, by_id, by_source
from config.api.records import describe_ref
from integrations.services import pairs_condition
from taxonomy.relationships import Found

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


def resolve_products(refs: Sequence[dict[str, Any]]) -> list[Found | errors.ApiError]:
    """One result per product reference of a request body, in order: the product (its id and
    primary category) or ProductNotFound (80006) / ProductMultipleFound (80005, a shared sku).

    A reference is ``{"id"}``, ``{"sourceId", "source"}`` or ``{"sku"}`` (validated before).
    At most three queries (ids, source pairs, skus) whatever the number of references.
    """
    ids = {ref["id"] for ref in refs if "id" in ref}
    pairs = [(ref["source"], ref["sourceId"]) for ref in refs if "sourceId" in ref]
    skus = {ref["sku"] for ref in refs if "sku" in ref}
    by_id: dict[int, Found] = {}
    if ids:
        rows = Product.objects.filter(pk__in=ids).values_list("pk", "parent_id")
        by_id = {pk: Found(pk, parent) for pk, parent in rows}
    by_pair: dict[tuple[str, str], Found] = {}
    if pairs:
        rows = ProductSource.objects.filter(pairs_condition(pairs)).values_list(
            "source", "source_id", "product_id", "product__parent_id"
        )
        by_pair = {(s, sid): Found(pk, parent) for s, sid, pk, parent in rows}
    by_sku: dict[str, list[Found]] = defaultdict(list)
    if skus:
        for sku, pk, parent in Product.objects.filter(sku__in=skus).values_list(
            "sku", "pk", "parent_id"
        ):
            by_sku[sku].append(Found(pk, parent))

    results: list[Found | errors.ApiError] = []
    for ref in refs:
        text = describe_ref(ref)
        if "id" in ref:
            hit = by_id.get(ref["id"])
        elif "sourceId" in ref:
            hit = by_pair.get((ref["source"], ref["sourceId"]))
        else:
            matches = by_sku.get(ref["sku"], [])
            if len(matches) > 1:
                results.append(
                    errors.ProductMultipleFound(f"Several products match {text}; use another key.")
                )
                continue
            hit = matches[0] if matches else None
        results.append(hit or errors.ProductNotFound(f"Product with {text} not found."))
    return results
