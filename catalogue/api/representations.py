"""Products as the API answers them: the representation and its OpenAPI schema (SPEC §9)."""

from __future__ import annotations

from typing import Any

from catalogue.models import Product
from catalogue.schemas import product_fields
from records.components import component
from records.localized import localized_plan, localized_row_output
from records.rules import (
    LOCALIZED_API_NAMES,
    bookkeeping_output,
    related_schema,
    representation_schema,
)
from records.sources import sources_output


def cluster_reference(product: Product) -> dict[str, int] | None:
    """``{"id"}`` of the product's cluster, read from the joined ``cluster_membership``."""
    membership = getattr(product, "cluster_membership", None)  # missing: AttributeError subclass
    return {"id": membership.cluster_id} if membership is not None else None


def product_representation(
    product: Product, *, language: str | None = None, expands: set[str] = frozenset()
) -> dict[str, Any]:
    data: dict[str, Any] = bookkeeping_output(product)
    data["language"] = product.language.upper()
    row = vars(product)  # a product_rows namespace or an instance: column name → value
    for api_name, columns in localized_plan(LOCALIZED_API_NAMES, language):
        data[api_name] = localized_row_output(row, columns)
    data.update(
        {
            "sku": product.sku or None,
            "eanCode": product.ean_code or None,
            "manufacturer": product.manufacturer or None,
            "manufacturerCode": product.manufacturer_code or None,
            "supplier": product.supplier or None,
            "supplierCode": product.supplier_code or None,
            "status": product.status,
            "hidden": product.hidden,
            "unit": product.unit,
            "minimumQuantity": product.minimum_quantity,
            "package": product.package or None,
            "taxCode": product.tax_code,
            "priority": product.priority,
            "attributes": [{"name": a.name, "value": a.value} for a in product.attributes.all()],
            "parent": {"id": product.parent_id} if product.parent_id else None,
            "cluster": cluster_reference(product),
            "sources": sources_output(product),
        }
    )
    if "categories" in expands:
        data["categories"] = [link.category_id for link in product.category_links.all()]
    return data


@component("Product")
def product_schema() -> dict[str, Any]:
    """The OpenAPI schema of a product as read."""
    return representation_schema(
        product_fields(),
        optional=("categories",),
        properties={"parent": related_schema(), "cluster": related_schema()},
    )
