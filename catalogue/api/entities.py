"""The products of import_catalogue and export_catalogue: the bulk resource that imports them and
the export in the API's own representation (found by ``records.bulk.entities()``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from catalogue.api.representations import product_representation
from catalogue.bulk import PRODUCTS
from catalogue.models import ProductSource
from catalogue.schemas import PRODUCT_PATCH
from catalogue.selectors import product_rows
from records.bulk import Entity, exportable, most_links, register, sorted_pairs
from records.bulk_records import first_source_pairs
from taxonomy.models import CategorySource

EXPORT_CHUNK = 500


def export_products() -> Iterator[dict[str, Any]]:
    """Every product in the API's write shape, by id, a chunk at a time (constant memory).

    Chunks are read as ``product_rows`` (one query, no model instances: with prefetching they
    were most of the time of a large export) and rendered by the API's own
    ``product_representation``. ``parent`` is exported as the category's first source pair when
    it has one, so the file still means the same after an import elsewhere.
    """
    last = 0
    while True:
        rows = list(product_rows().filter(pk__gt=last).order_by("pk")[:EXPORT_CHUNK])
        if not rows:
            return
        parents = first_source_pairs(
            CategorySource, "category", {row.parent_id for row in rows if row.parent_id}
        )
        for product in rows:
            data = exportable(product_representation(product), PRODUCT_PATCH)
            data["sources"] = sorted_pairs(data["sources"])
            if product.parent_id in parents:
                data["parent"] = parents[product.parent_id]
            yield data
        last = rows[-1].pk


register(
    Entity(
        "products",
        PRODUCTS,
        export=export_products,
        max_sources=lambda: most_links(ProductSource, "product_id"),
    )
)
