"""Products in JSON requests: the body schemas a write accepts and the lookups (SPEC §9); the
representation is the API's, in ``catalogue.api.representations``."""

from __future__ import annotations

from catalogue.attributes import MAX_ATTRIBUTES
from catalogue.models import Product
from records.rules import (
    ID_REF,
    LOCALIZED_API_NAMES,
    SOURCE_REF,
    SOURCES_RULES,
    check_sources,
    common_fields,
    default_name_rule,
    localized_fields,
    source_fields,
)
from records.validation import (
    Choice,
    Ean,
    Errors,
    Field,
    Int,
    ListOf,
    Obj,
    OneOfShapes,
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
    name="Attribute",
)
#: a product's attribute list, as every write path checks it: single writes, bulk and nested
#: items (their schemas are PRODUCT_BODY/PRODUCT_PATCH), import_catalogue and the admin form
ATTRIBUTES = ListOf(ATTRIBUTE, max_items=ATTRIBUTES_MAX_COUNT, max_bytes=ATTRIBUTES_MAX_BYTES)
SKU_REF = Obj({"sku": Str(max_length=128, min_length=1)}, required=("sku",), name="SkuRef")
#: a product in a request body: what ``catalogue.selectors.resolve_products`` resolves
PRODUCT_REF = OneOfShapes(
    [ID_REF, SOURCE_REF, SKU_REF], description="{id}, {sourceId, source} or {sku}"
)
CATEGORY_REF = OneOfShapes(
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
    name="AttributesUpsert",
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
    name="ProductCreate",
)
PRODUCT_PATCH = Obj(
    product_fields(), check=_check_product, rules=SOURCES_RULES, name="ProductPatch"
)
