"""``POST /v2/products/bulk/{lookupKey}`` (SPEC §9, §14): the route of the product bulk service."""

from __future__ import annotations

from catalogue.bulk import PRODUCTS
from config.api.bulk_views import BulkView, bulk_operation, key_schemas


class ProductBulkView(BulkView):
    tag = "Products"
    resource = PRODUCTS
    route = "products"
    path_schemas = key_schemas(PRODUCTS)
    operations = {
        "POST": bulk_operation(
            PRODUCTS,
            ("bulk:write", "products:write"),
            "Create, update or remove up to 2000 products, matched by the lookup key",
        )
    }
