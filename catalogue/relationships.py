"""Products as items of categories (SPEC §10.1): the ``products`` link kind.

Registered from ``CatalogueConfig.ready()``; taxonomy's relationship endpoints and category
delete reach products only through this adapter.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from django.db.models import Q, QuerySet

from catalogue.api.serializers import product_representation, product_schema
from catalogue.api.views import EXPANDS, EXPANDS_PARAM, PRODUCT_FILTERS
from catalogue.models import Product, ProductCategory, ProductSource
from catalogue.querysets import in_categories, primary_in
from catalogue.selectors import PRODUCT_SORTS, product_list
from config.api import errors
from config.api.filters import parse_expands, parse_language_param
from config.api.records import ID_REF, SOURCE_REF
from config.api.validation import Obj, OneOf, Str
from integrations.services import pairs_condition
from taxonomy.relationships import Found

SKU_REF = Obj({"sku": Str(max_length=128, min_length=1)}, required=("sku",))


class ProductLinks:
    key = "products"
    item_type = "product"
    label = "Product"
    not_found = errors.ProductNotFound
    lookup = OneOf([ID_REF, SOURCE_REF, SKU_REF], description="{id}, {sourceId, source} or {sku}")
    sorts = PRODUCT_SORTS
    query = (*PRODUCT_FILTERS, EXPANDS_PARAM)

    def resolve(self, lookups: Sequence[dict]) -> list[Found | errors.ApiError]:
        """At most three queries: ids, source pairs, skus."""
        ids = {lookup["id"] for lookup in lookups if "id" in lookup}
        pairs = [
            (lookup["source"], lookup["sourceId"]) for lookup in lookups if "sourceId" in lookup
        ]
        skus = {lookup["sku"] for lookup in lookups if "sku" in lookup}
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
            rows = Product.objects.filter(sku__in=skus).values_list("sku", "pk", "parent_id")
            for sku, pk, parent in rows:
                by_sku[sku].append(Found(pk, parent))

        results: list[Found | errors.ApiError] = []
        for lookup in lookups:
            if "id" in lookup:
                hit = by_id.get(lookup["id"])
                text = f"id [{lookup['id']}]"
            elif "sourceId" in lookup:
                hit = by_pair.get((lookup["source"], lookup["sourceId"]))
                text = f"sourceId [{lookup['sourceId']}] and source [{lookup['source']}]"
            else:
                matches = by_sku.get(lookup["sku"], [])
                text = f"sku [{lookup['sku']}]"
                if len(matches) > 1:
                    results.append(
                        errors.ProductMultipleFound(
                            f"Several products match {text}; use another key."
                        )
                    )
                    continue
                hit = matches[0] if matches else None
            results.append(hit or errors.ProductNotFound(f"Product with {text} not found."))
        return results

    def secondary_ids(self, category_id: int, item_ids: Collection[int]) -> set[int]:
        links = ProductCategory.objects.filter(category_id=category_id, product_id__in=item_ids)
        return set(links.values_list("product_id", flat=True))

    def link(self, category_id: int, item_ids: Collection[int]) -> None:
        # A concurrent request may have added the same link: the link exists either way.
        ProductCategory.objects.bulk_create(
            [ProductCategory(category_id=category_id, product_id=pk) for pk in sorted(item_ids)],
            ignore_conflicts=True,
        )

    def unlink(self, category_id: int, item_ids: Collection[int]) -> None:
        ProductCategory.objects.filter(category_id=category_id, product_id__in=item_ids).delete()

    def count_linked(self, category_id: int) -> int:
        secondary = ProductCategory.objects.filter(category_id=category_id).values("product_id")
        return Product.objects.filter(Q(parent_id=category_id) | Q(pk__in=secondary)).count()

    def linked(self, category_ids: QuerySet, params: Mapping[str, str]) -> QuerySet:
        expands = parse_expands(params, EXPANDS)
        return (
            product_list(params, expands=expands)
            .filter(in_categories(category_ids))
            .annotate(is_primary=primary_in(category_ids))
        )

    def represent(self, item: Product, params: Mapping[str, str]) -> dict[str, Any]:
        return product_representation(
            item,
            language=parse_language_param(params),
            expands=parse_expands(params, EXPANDS),
        )

    def schema(self) -> dict[str, Any]:
        return product_schema()


PRODUCT_LINKS = ProductLinks()
