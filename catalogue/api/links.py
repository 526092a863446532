"""Products as the API lists them under a category (SPEC §10.1); the ``products`` link kind
itself is ``catalogue.relationships``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

from catalogue.api.representations import product_representation, product_schema
from catalogue.api.views import EXPANDS, EXPANDS_PARAM, PRODUCT_FILTERS
from catalogue.models import Product
from catalogue.querysets import in_categories
from catalogue.selectors import PRODUCT_SORTS, product_list
from records.filters import parse_expands, parse_language_param
from taxonomy.querysets import primary_in


class ProductItems:
    key = "products"
    sorts = PRODUCT_SORTS
    query = (*PRODUCT_FILTERS, EXPANDS_PARAM)

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
        return product_schema.build()


PRODUCT_ITEMS = ProductItems()
