"""Every write to products. Keyword-only, transactional, raising errors from SPEC §4."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from catalogue.attributes import Pair, as_body, same_attributes, upserted, without
from catalogue.models import Product, ProductAttribute, ProductCategory, ProductSource
from catalogue.search import (
    attribute_number,
    attribute_text,
    product_search_text,
    product_source_ids,
)
from config.api import errors
from records.outcomes import Outcome
from records.rules import (
    RecordSpec,
    apply_sources,
    check_if_match,
    finish_localized,
    insert_record,
    localized_input,
    merge_localized,
    remove_translation,
    save_record,
    snapshot,
    source_pairs,
)
from taxonomy.relationships import (
    MAX_LINK_ITEMS,
    LinkAction,
    category_link_items,
    set_item_categories,
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
        if ref is not None:
            _refuse_second_home(product)
        product.parent = category_by_ref(ref) if ref is not None else None
    merge_localized(product, localized_input(data, PRODUCT))
    finish_localized(product, PRODUCT)


def _refuse_second_home(product: Product) -> None:
    """A product has one primary home: a category (``parent``) or a cluster, never both.

    The membership is the clusters app's reverse one-to-one, reached by name (catalogue sits
    below clusters). Moving a product out of its cluster is the cluster's ``unassign``.
    """
    membership = getattr(product, "cluster_membership", None) if product.pk else None
    if membership is not None:
        raise errors.PayloadValidationError(
            f"Product [{product.pk}] is in cluster [{membership.cluster_id}], its primary home; "
            "move it to a category with the cluster's products/unassign (target category)."
        )


def _set_attributes(product: Product, attributes: list[dict] | None) -> bool:
    """Replace the whole attribute list; returns whether it changed."""
    if attributes is None:
        return False
    current = _attribute_pairs(product)
    wanted = [(a["name"], a["value"]) for a in attributes]
    if same_attributes(current, wanted):
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


def _attribute_pairs(product: Product) -> list[Pair]:
    rows = ProductAttribute.objects.filter(product=product).order_by("position")
    return [(a.name, a.value) for a in rows]


@transaction.atomic
def product_create(*, data: dict[str, Any]) -> Product:
    """Create a product. Raises DefaultTranslationRequired, ProductExists, ParentCategoryNotFound."""
    product = Product()
    _apply(product, data)
    product.search_text = product_search_text(product, [i for _, i in source_pairs(data)])
    insert_record(product, PRODUCT)
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
def product_attributes_upsert(
    *, product_id: int, attributes: list[dict[str, Any]], if_match: str | None = None
) -> Product:
    """Set the given attributes' values by name, keeping the others (SPEC §22); a write like
    ``product_update`` (version, ``If-Match`` → PreconditionFailed)."""
    product = _locked(product_id)
    check_if_match(if_match, product)
    wanted = upserted(_attribute_pairs(product), [(a["name"], a["value"]) for a in attributes])
    return product_update(product_id=product_id, data={"attributes": as_body(wanted)})


@transaction.atomic
def product_attribute_delete(*, product_id: int, name: str, if_match: str | None = None) -> Product:
    """Remove one attribute by name. Raises ProductAttributeNotFound, PreconditionFailed."""
    product = _locked(product_id)
    check_if_match(if_match, product)
    kept = without(_attribute_pairs(product), name)
    if kept is None:
        raise errors.ProductAttributeNotFound(f"Product [{product_id}] has no attribute [{name}].")
    return product_update(product_id=product_id, data={"attributes": as_body(kept)})


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


ProductIds = Iterable[int] | QuerySet


def _set_on_many(ids: ProductIds, **values: Any) -> int:
    """One UPDATE for every product in ``ids`` whose values differ; returns how many changed.

    Rows already holding the values are left alone, so their ``version`` and ``lastModifiedAt``
    stay (SPEC §8). ``ids`` may be a queryset (an admin "select all"), used as a subquery. A
    single statement, so atomic without a transaction block of its own.
    """
    ids = ids.order_by().values("pk") if isinstance(ids, QuerySet) else list(ids)
    differs = Product.objects.filter(pk__in=ids).exclude(**values)
    return differs.update(**values, version=F("version") + 1, last_modified_at=timezone.now())


def products_set_hidden(*, ids: ProductIds, hidden: bool) -> int:
    """Hide or show many products at once; returns the number of products that changed."""
    return _set_on_many(ids, hidden=hidden)


def products_set_status(*, ids: ProductIds, status: str) -> int:
    """Set the status of many products at once; returns the number of products that changed.

    Raises SchemaValidationException for a status outside SPEC §9's list.
    """
    if status not in Product.Status.values:
        raise errors.SchemaValidationException(
            fields={"status": [f"Unknown status {status}; use {', '.join(Product.Status.values)}."]}
        )
    return _set_on_many(ids, status=status)


# -- secondary categories (SPEC §10.1), through the category relationship service --------------


@transaction.atomic
def product_set_categories(*, product_id: int, category_ids: Collection[int]) -> bool:
    """Make ``category_ids`` the product's secondary categories (the back office's inline).

    Each link added or removed goes through ``category_link_items``, so its rules hold: never
    the product's primary category (30010), never a missing category (ParentCategoryNotFound).
    Raises the first refused link's error (the caller's transaction rolls the rest back);
    returns whether any link changed. Links never change the product's version (as in the API).
    """
    current = ProductCategory.objects.filter(product_id=product_id).values_list(
        "category_id", flat=True
    )
    return set_item_categories(
        key="products", item_id=product_id, current=list(current), wanted=category_ids
    )


@transaction.atomic
def products_link_category(
    *, category_id: int, ids: Sequence[int], action: LinkAction
) -> list[Outcome]:
    """Link many products to one category as a secondary category (``add``), or unlink them
    (``remove``): ``category_link_items`` for each slice of at most 100, so the cost per slice is
    constant. One outcome per id, in order; failures (already linked, the primary category, not
    linked…) are per item. Raises ParentCategoryNotFound when the category is gone.
    """
    outcomes: list[Outcome] = []
    for start in range(0, len(ids), MAX_LINK_ITEMS):
        chunk = ids[start : start + MAX_LINK_ITEMS]
        for outcome in category_link_items(
            category_id=category_id, items={"products": [{"id": pk} for pk in chunk]}, action=action
        ):
            outcome.index += start
            outcomes.append(outcome)
    return outcomes
