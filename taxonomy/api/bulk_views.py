"""``POST /v2/categories/bulk/{lookupKey}`` (SPEC §10, §14): the route of the category bulk service."""

from __future__ import annotations

from config.api.bulk_views import BulkView, bulk_operation, key_schemas
from taxonomy.bulk import CATEGORIES


class CategoryBulkView(BulkView):
    tag = "Categories"
    resource = CATEGORIES
    route = "categories"
    path_schemas = key_schemas(CATEGORIES)
    operations = {
        "POST": bulk_operation(
            CATEGORIES,
            ("bulk:write", "categories:write"),
            "Create, update, move or remove up to 1000 categories, matched by the lookup key",
        )
    }
