"""Bulk upserts and removals of products (SPEC §14): ``POST /v2/products/bulk/{lookupKey}`` and
``import_catalogue --entity products`` run this one implementation.

Keys: ``id`` (never creates), ``sourceId`` + ``source``, ``sku``, ``supplierCode`` (+ ``supplier``
when given). At most 2000 items. The statements a request issues do not depend on its size: one
query per kind of reference (matching rows, their sources, their attributes, parent categories by
id and by source pair, taken slugs per language) and one statement per kind of write.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import orjson

from catalogue.models import Product, ProductAttribute
from catalogue.schemas import PRODUCT_BODY, PRODUCT_PATCH
from catalogue.search import product_search_text
from catalogue.services import BLANK_WHEN_NULL, PRODUCT, SCALAR_FIELDS, attribute_text
from config.api import errors
from records.bulk import (
    BulkKey,
    Item,
)
from records.bulk_records import (
    RecordBulk,
    RecordPlan,
    id_key,
    plain,
    reference_text,
    source_key,
)
from records.bulk_sql import insert_rows, rows_by_pairs
from records.validation import Str
from taxonomy.models import Category, CategorySource


class ProductBulk(RecordBulk):
    label = "Product"
    items_key = "products"
    max_items = 2000
    spec = PRODUCT
    schema = PRODUCT_PATCH
    not_found = errors.ProductNotFound
    multiple = errors.ProductMultipleFound
    scalar_fields = SCALAR_FIELDS
    required_on_create = PRODUCT_BODY.required
    blank_when_null = frozenset(BLANK_WHEN_NULL)
    column_keys = {"sku": ("sku", None), "supplierCode": ("supplier_code", "supplier")}
    search_document = staticmethod(product_search_text)
    keys = {
        "id": id_key(),
        "sourceId": source_key(),
        "sku": BulkKey("sku", {"sku": Str(min_length=1, max_length=128)}, keep=True),
        # the pair, both required (SPEC §14): an item without ``supplier`` would create a
        # product that no supplierCode + supplier item can match again
        "supplierCode": BulkKey(
            "supplierCode",
            {
                "supplierCode": Str(min_length=1, max_length=255),
                "supplier": Str(min_length=1, max_length=255),
            },
            keep=True,
        ),
    }

    def resolve(self, plan: RecordPlan) -> None:
        self._resolve_parents(plan)
        self._plan_attributes(plan)

    def _resolve_parents(self, plan: RecordPlan) -> None:
        """``parent`` by ``{"id"}`` or ``{"sourceId", "source"}``: two queries for all items."""
        directives = plan.directives
        wanted: list[tuple[Item, dict | None]] = []
        for item in plan.live("create", "update"):
            if "parent" not in item.data:
                continue
            if item.result == "update" and (
                directives.skip_move_on_update
                or ("parent" in directives.skip_if_not_empty and item.stored["parent_id"])
            ):
                continue
            wanted.append((item, item.data["parent"]))
        refs = [ref for _, ref in wanted if ref]
        ids = {ref["id"] for ref in refs if "id" in ref}
        pairs = {(ref["source"], ref["sourceId"]) for ref in refs if "source" in ref}
        found_ids = set(plain(Category).filter(pk__oneof=ids).values_list("pk", flat=True))
        found = rows_by_pairs(
            CategorySource, ("source", "source_id"), pairs, ["source", "source_id", "category_id"]
        )
        by_pair = {(s, i): c for s, i, c in found}
        homed = {item.id for item, ref in wanted if ref and item.result == "update"}
        clustered = (
            dict(
                plain(Product)
                .filter(pk__oneof=homed, cluster_membership__isnull=False)
                .values_list("pk", "cluster_membership__cluster_id")
            )
            if homed
            else {}
        )
        for item, ref in wanted:
            if ref is None:
                item.row["parent_id"] = None
                continue
            if item.id in clustered:
                # One primary home (SPEC §9): the same rule as a single PATCH.
                item.fail(
                    errors.PayloadValidationError(
                        f"Product [{item.id}] is in cluster [{clustered[item.id]}], its primary "
                        "home; move it to a category with the cluster's products/unassign."
                    )
                )
                continue
            if "id" in ref:
                parent = ref["id"] if ref["id"] in found_ids else None
            else:
                parent = by_pair.get((ref["source"], ref["sourceId"]))
            if parent is None:
                item.fail(
                    errors.ParentCategoryNotFound(f"Category with {reference_text(ref)} not found.")
                )
            else:
                item.row["parent_id"] = parent

    def _plan_attributes(self, plan: RecordPlan) -> None:
        """A write replaces the whole list; an identical list is no change (typed comparison)."""
        items = [i for i in plan.live("create", "update") if "attributes" in i.data]
        update_ids = [i.id for i in items if i.result == "update"]
        stored: dict[int, list[tuple[str, Any]]] = defaultdict(list)
        if update_ids:
            rows = (
                plain(ProductAttribute)
                .filter(product_id__oneof=update_ids)
                .order_by("product_id", "position")
                .values_list("product_id", "name", "value")
            )
            for product_id, name, value in rows:
                stored[product_id].append((name, value))
        skip = "attributes" in plan.directives.skip_if_not_empty
        for item in items:
            wanted = [(a["name"], a["value"]) for a in item.data["attributes"]]
            current = stored[item.id] if item.result == "update" else []
            if item.result == "update":
                if (skip and current) or orjson.dumps(current) == orjson.dumps(wanted):
                    continue
                item.scratch["extra_changed"] = True
                item.scratch["replace_attributes"] = True
            item.scratch["attributes"] = wanted
            item.scratch["changes"] = {  # the change event's (SPEC §19)
                "attributes": {
                    "before": [{"name": n, "value": v} for n, v in current],
                    "after": [{"name": n, "value": v} for n, v in wanted],
                }
            }

    def write_extra(self, plan: RecordPlan) -> None:
        items = [i for i in plan.live("create", "update") if "attributes" in i.scratch]
        replaced = [i.id for i in items if i.scratch.get("replace_attributes")]
        if replaced:
            ProductAttribute.objects.filter(product_id__oneof=replaced)._raw_delete(
                ProductAttribute.objects.db
            )
        rows = [
            {
                "product_id": item.id,
                "position": position,
                "name": name,
                "value": value,
                "value_text": attribute_text(value),
            }
            for item in sorted(items, key=lambda i: i.id)
            for position, (name, value) in enumerate(item.scratch["attributes"])
        ]
        if rows:
            insert_rows(
                ProductAttribute, ["product_id", "position", "name", "value", "value_text"], rows
            )


PRODUCTS = ProductBulk()
