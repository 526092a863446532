"""Read use cases for products: the querysets lists and details render from."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from django.db.models import F, Prefetch, QuerySet

from catalogue.filtersets import ATTRIBUTE_PREFIX, ProductFilterSet
from catalogue.models import Product, ProductAttribute, ProductCategory, ProductSource
from config.api import errors
from records.bulk import Prefetched
from records.bulk_records import plain
from records.filters import filter_queryset
from records.lookups import LookupSpec, by_field, by_id, by_source
from records.rows import RelatedRows, RowsIterable, decoded_rows
from records.rules import describe_ref
from records.sources import pairs_condition
from taxonomy.relationships import Found
from taxonomy.translation import LOCALIZED_FIELDS

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
    """Product model instances with what their representation reads, in a constant number of
    queries: for the clusters app's prefetches, which need instances. Product routes render
    ``product_rows`` instead (the same representation, without instances).

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


#: the stored columns a product's representation reads: the per-language columns, not
#: modeltranslation's base column, and never the search document
ROW_COLUMNS = tuple(
    f.attname
    for f in Product._meta.concrete_fields
    if f.attname not in LOCALIZED_FIELDS and f.attname != "search_text"
)


def product_namespaces(rows: list[dict[str, Any]]) -> Iterator[SimpleNamespace]:
    """``product_rows`` rows as objects the API's ``product_representation`` reads like model
    instances (``product.sources.all()``, ``product.cluster_membership`` …).

    Building model instances and prefetching (modeltranslation's ``__init__``, related managers,
    prefetch bookkeeping) was most of the time of a 100-product page.
    """
    for row in rows:
        cluster = row.pop("membership_cluster")
        sources = decoded_rows(row.pop("source_rows"))
        attributes = decoded_rows(row.pop("attribute_rows"))
        categories = decoded_rows(row.pop("category_rows", None))
        yield SimpleNamespace(
            pk=row["id"],
            sources=Prefetched(
                SimpleNamespace(pk=pk, source=source, source_id=source_id)
                for pk, source, source_id in sources
            ),
            attributes=Prefetched(
                SimpleNamespace(name=name, value=value) for _, name, value in attributes
            ),
            category_links=Prefetched(SimpleNamespace(category_id=c) for (c,) in categories),
            cluster_membership=SimpleNamespace(cluster_id=cluster) if cluster else None,
            **row,
        )


class ProductRows(RowsIterable):
    convert = staticmethod(product_namespaces)


def product_rows(expands: Collection[str] = ()) -> QuerySet:
    """Products to render: a queryset (filter, order, slice it as usual) whose rows are plain
    objects ``product_representation`` reads, built without model instances. Sources and
    attributes (and with ``expands=categories`` the secondary category ids) are JSON columns of
    the same statement, the cluster comes from the joined membership: one query a page."""
    categories = "categories" in expands
    template = _ROW_QUERYSETS.get(categories)
    if template is None:
        template = _ROW_QUERYSETS[categories] = _product_rows(categories)
    return template.all()  # a clone: building the 50-column query costs more than the SQL


def _product_rows(categories: bool) -> QuerySet:
    related = {
        "source_rows": RelatedRows(ProductSource, "product", ("pk", "source", "source_id")),
        "attribute_rows": RelatedRows(ProductAttribute, "product", ("position", "name", "value")),
    }
    if categories:
        related["category_rows"] = RelatedRows(ProductCategory, "product", ("category_id",))
    queryset = plain(Product).values(
        *ROW_COLUMNS, membership_cluster=F("cluster_membership__cluster_id"), **related
    )
    queryset._iterable_class = ProductRows
    return queryset


#: the two ``product_rows`` querysets (with and without categories), built once and cloned
_ROW_QUERYSETS: dict[bool, QuerySet] = {}


def product_list(params: Mapping[str, str], *, expands: Collection[str] = ()) -> QuerySet:
    return filter_queryset(
        ProductFilterSet,
        params,
        product_rows(expands),
        extra_params=("includeDescendants",),
        prefixes=(ATTRIBUTE_PREFIX,),
    )


def product_get(
    key: str, value: str, params: Mapping[str, str], *, expands: Collection[str] = ()
) -> SimpleNamespace:
    return PRODUCT_LOOKUP.get(
        product_rows(expands), key, value, params, prepared=("product_rows", *sorted(expands))
    )


def product_by_id(pk: int, *, expands: Collection[str] = ()) -> SimpleNamespace:
    """The product with id ``pk``, ready to render (a write's reply)."""
    return product_get("id", str(pk), {}, expands=expands)


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
