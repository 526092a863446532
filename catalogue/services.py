"""Every write to products. Keyword-only, transactional, raising errors from SPEC §4."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from catalogue.models import Product, ProductAttribute, ProductSource
from catalogue.search import (
    attribute_number,
    attribute_text,
    product_search_text,
    product_source_ids,
)
from config.api import errors
from config.api.records import (
    RecordSpec,
    apply_sources,
    check_if_match,
    finish_localized,
    localized_input,
    merge_localized,
    remove_translation,
    save_record,
    snapshot,
)
from taxonomy.selectors import category_by_ref
from taxonomy.translation import LOCALIZED_FIELDS

PRODUCT = RecordSpec(
    label="Product",
    localized=LOCALIZED_FIELDS,
    source_model=ProductSource,
    source_owner_field="product",
    exists_error=errors.ProductExists,
)
SCALAR_FIELDS = (
    "language", "hidden", "priority", "sku", "ean_code", "manufacturer", "manufacturer_code",
    "supplier", "supplier_code", "status", "unit", "minimum_quantity", "package", "tax_code",
)  # fmt: skip
BLANK_WHEN_NULL = {"sku", "ean_code", "manufacturer", "manufacturer_code", "supplier",
                   "supplier_code", "package"}  # fmt: skip


def _apply(product: Product, data: dict[str, Any]) -> None:
    for name in SCALAR_FIELDS:
        if name in data:
            value = data[name]
            setattr(product, name, "" if value is None and name in BLANK_WHEN_NULL else value)
    if "parent" in data:
        ref = data["parent"]
        product.parent = category_by_ref(ref) if ref is not None else None
    merge_localized(product, localized_input(data, PRODUCT))
    finish_localized(product, PRODUCT)


def _set_attributes(product: Product, attributes: list[dict] | None) -> bool:
    """Replace the whole attribute list; returns whether it changed."""
    if attributes is None:
        return False
    current = [(a.name, a.value) for a in ProductAttribute.objects.filter(product=product)]
    wanted = [(a["name"], a["value"]) for a in attributes]
    if current == wanted:
        return False
    ProductAttribute.objects.filter(product=product).delete()
    ProductAttribute.objects.bulk_create(
        ProductAttribute(
            product=product,
            position=i,
            name=name,
            value=value,
            value_text=attribute_text(value),
            value_number=attribute_number(value),
        )
        for i, (name, value) in enumerate(wanted)
    )
    return True


def _source_pairs(data: dict[str, Any]) -> list[tuple[str, str]]:
    if "sources" in data:
        return [(s["source"], s["sourceId"]) for s in data["sources"]]
    if "source" in data:
        return [(data["source"], data["sourceId"])]
    return []


@transaction.atomic
def product_create(*, data: dict[str, Any]) -> Product:
    """Create a product. Raises DefaultTranslationRequired, ProductExists, ParentCategoryNotFound."""
    product = Product()
    _apply(product, data)
    product.search_text = product_search_text(product, [i for _, i in _source_pairs(data)])
    save_record(product, None)
    apply_sources(product, PRODUCT, data)
    _set_attributes(product, data.get("attributes"))
    return product


@transaction.atomic
def product_update(
    *, product_id: int, data: dict[str, Any], if_match: str | None = None
) -> Product:
    """Partial update under a row lock; ``If-Match`` is checked against the locked version.

    A write that changes nothing keeps ``version`` and ``lastModifiedAt``.
    """
    product = _locked(product_id)
    check_if_match(if_match, product)
    before = snapshot(product)
    _apply(product, data)
    changed = apply_sources(product, PRODUCT, data)
    changed = _set_attributes(product, data.get("attributes")) or changed
    product.search_text = product_search_text(product, product_source_ids(product.pk))
    before["search_text"] = product.search_text  # derived: never a change of its own (§8)
    save_record(product, before, extra_changed=changed)
    return product


@transaction.atomic
def product_delete(*, product_id: int, if_match: str | None = None) -> None:
    """Delete a product with its links (sources, attributes, category links)."""
    product = _locked(product_id)
    check_if_match(if_match, product)
    product.delete()


@transaction.atomic
def product_remove_translation(*, product_id: int, language: str) -> Product:
    product = _locked(product_id)
    before = snapshot(product)
    remove_translation(product, PRODUCT, language)
    finish_localized(product, PRODUCT)
    product.search_text = product_search_text(product, product_source_ids(product.pk))
    save_record(product, before)
    return product


def _locked(product_id: int) -> Product:
    product = Product.objects.select_for_update().filter(pk=product_id).first()
    if product is None:
        raise errors.ProductNotFound(f"Product with id [{product_id}] not found.")
    return product
