"""Products as items of categories (SPEC §10.1): the ``products`` link kind.

Registered from ``CatalogueConfig.ready()``; taxonomy's relationship endpoints and category
delete reach products only through this adapter.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from django.db.models import Q

from catalogue.models import Product, ProductCategory
from catalogue.schemas import PRODUCT_REF
from catalogue.selectors import resolve_products
from config.api import errors
from taxonomy.relationships import Found


class ProductLinks:
    key = "products"
    item_type = "product"
    label = "Product"
    not_found = errors.ProductNotFound
    lookup = PRODUCT_REF

    def resolve(self, lookups: Sequence[dict]) -> list[Found | errors.ApiError]:
        """At most three queries: ids, source pairs, skus."""
        return resolve_products(lookups)

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


PRODUCT_LINKS = ProductLinks()
