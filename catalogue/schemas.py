"""Products in JSON: the request body schema and the representation (SPEC §9)."""

from __future__ import annotations

from typing import Any

from catalogue.attributes import MAX_ATTRIBUTES
from catalogue.models import Product
from records.localized import localized_plan, localized_row_output
from records.rules import (
    ID_REF,
    LOCALIZED_API_NAMES,
    SOURCE_REF,
    SOURCES_RULES,
    bookkeeping_output,
    check_sources,
    common_fields,
    default_name_rule,
    localized_fields,
    source_fields,
)
from records.sources import sources_output
from records.validation import (
    Choice,
    Ean,
    Errors,
    Field,
    Int,
    ListOf,
    Obj,
    OneOf,
    Scalar,
    Str,
    add_error,
)

#: Bounds of a product's attributes (SPEC §9, issue 15): a 15 MB value or a million-item array
#: was accepted and one list page of eight such products was 36 MB. They are part of the
#: contract (the OpenAPI document shows them), so constants rather than settings.
ATTRIBUTE_VALUE_MAX_LENGTH = 10_000  # characters of a string value or of one array item
ATTRIBUTE_ARRAY_MAX_ITEMS = 1_000
ATTRIBUTES_MAX_COUNT = MAX_ATTRIBUTES
ATTRIBUTES_MAX_BYTES = 1_000_000  # the whole list as compact JSON

ATTRIBUTE = Obj(
    {
        "name": Str(
            min_length=1,
            max_length=64,
            pattern=r"[A-Z0-9_]+",
            pattern_message="1-64 characters of A-Z0-9_ (upper case).",
        ),
        "value": Scalar(max_length=ATTRIBUTE_VALUE_MAX_LENGTH, max_items=ATTRIBUTE_ARRAY_MAX_ITEMS),
    },
    required=("name", "value"),
)
#: a product's attribute list, as every write path checks it: single writes, bulk and nested
#: items (their schemas are PRODUCT_BODY/PRODUCT_PATCH), import_catalogue and the admin form
ATTRIBUTES = ListOf(ATTRIBUTE, max_items=ATTRIBUTES_MAX_COUNT, max_bytes=ATTRIBUTES_MAX_BYTES)
SKU_REF = Obj({"sku": Str(max_length=128, min_length=1)}, required=("sku",))
#: a product in a request body: what ``catalogue.selectors.resolve_products`` resolves
PRODUCT_REF = OneOf([ID_REF, SOURCE_REF, SKU_REF], description="{id}, {sourceId, source} or {sku}")
CATEGORY_REF = OneOf(
    [ID_REF, SOURCE_REF],
    nullable=True,
    description="The primary category: {id} or {sourceId, source}, or null.",
)


def check_attribute_names(cleaned: dict, path: str, errs: Errors) -> None:
    """Each attribute name once in a body's ``attributes`` (400 on the repeated one)."""
    names = [a["name"] for a in cleaned.get("attributes") or []]
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name in seen:
            add_error(errs, f"attributes[{index}].name", f"Attribute '{name}' appears twice.")
        seen.add(name)


def _check_product(cleaned: dict, path: str, errs: Errors) -> None:
    check_sources(cleaned, path, errs)
    check_attribute_names(cleaned, path, errs)


#: ``POST …/{lk}/{lv}/attributes`` of products and clusters (SPEC §22)
ATTRIBUTES_BODY = Obj(
    {
        "attributes": ListOf(
            ATTRIBUTE,
            min_items=1,
            max_items=MAX_ATTRIBUTES,
            description="Values set by name; the record's other attributes are kept.",
        )
    },
    required=("attributes",),
    check=check_attribute_names,
)


def product_fields() -> dict[str, Field]:
    return {
        **common_fields(),
        **localized_fields(LOCALIZED_API_NAMES),
        "sku": Str(max_length=128, nullable=True),
        "eanCode": Ean(nullable=True, attr="ean_code"),
        "manufacturer": Str(nullable=True),
        "manufacturerCode": Str(nullable=True, attr="manufacturer_code"),
        "supplier": Str(nullable=True),
        "supplierCode": Str(nullable=True, attr="supplier_code"),
        "status": Choice(Product.Status.values, description="A, N, T, P, S or R"),
        "unit": Int(minimum=1),
        "minimumQuantity": Int(minimum=1, attr="minimum_quantity"),
        "package": Str(max_length=64, nullable=True),
        "taxCode": Choice(Product.TaxCode.values, attr="tax_code"),
        "attributes": ATTRIBUTES,
        "parent": CATEGORY_REF,
        "cluster": Obj({"id": Int()}, nullable=True, read_only=True),
        "categories": ListOf(Int(), read_only=True),
        **source_fields(),
    }


PRODUCT_BODY = Obj(
    product_fields(),
    required=("names",),
    check=_check_product,
    rules=(*SOURCES_RULES, default_name_rule()),
)
PRODUCT_PATCH = Obj(product_fields(), check=_check_product, rules=SOURCES_RULES)


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


def product_schema() -> dict[str, Any]:
    """The OpenAPI schema of a product as read."""
    schema = Obj(product_fields()).openapi(for_write=False)
    props = schema["properties"]
    for name in ("source", "sourceId"):
        props.pop(name)
    props["parent"] = {
        "type": "object",
        "nullable": True,
        "properties": {"id": {"type": "integer"}},
    }
    schema["required"] = ["id", "version", "createdAt", "lastModifiedAt", "names"]
    return schema
