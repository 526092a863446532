"""Every write to products. Keyword-only, transactional, raising errors from SPEC §4."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Required

from django.db import transaction
from django.db.models import QuerySet

from catalogue.attributes import (
    AttributeInput,
    AttributeWrites,
    Pair,
    pairs,
    same_attributes,
)
from catalogue.models import Product, ProductAttribute, ProductCategory, ProductSource
from catalogue.search import PRODUCT_TEXT, attribute_number, attribute_text
from changes import outbox
from config.api import errors
from records.outcomes import Outcome
from records.rules import (
    PageFields,
    RecordFields,
    RecordRef,
    RecordSpec,
    Translations,
    create_record,
    delete_record,
    finish_localized,
    localized_input,
    merge_localized,
    remove_record_translation,
    update_record,
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
    search=PRODUCT_TEXT,
)
SCALAR_FIELDS = (
    "language", "hidden", "priority", "sku", "ean_code", "manufacturer", "manufacturer_code",
    "supplier", "supplier_code", "status", "unit", "minimum_quantity", "package", "tax_code",
)  # fmt: skip


class ProductFields(RecordFields, PageFields, total=False):
    """A product's create and update fields, as ``PRODUCT_BODY`` and ``PRODUCT_PATCH`` clean
    them (``None`` clears a code)."""

    sku: str | None
    ean_code: str | None
    manufacturer: str | None
    manufacturer_code: str | None
    supplier: str | None
    supplier_code: str | None
    status: str
    unit: int
    minimum_quantity: int
    package: str | None
    tax_code: str
    #: the whole attribute list
    attributes: list[AttributeInput]
    #: the primary category; ``None``: none
    parent: RecordRef | None


class ProductCreate(ProductFields, total=False):
    name: Required[Translations]


class ProductPatch(ProductFields, total=False):
    name: Translations


BLANK_WHEN_NULL = {"sku", "ean_code", "manufacturer", "manufacturer_code", "supplier",
                   "supplier_code", "package"}  # fmt: skip


def _apply(product: Product, data: ProductCreate | ProductPatch) -> None:
    fields: Mapping[str, Any] = data  # by name: the scalar columns are copied alike
    for name in SCALAR_FIELDS:
        if name in fields:
            value = fields[name]
            setattr(product, name, "" if value is None and name in BLANK_WHEN_NULL else value)
    if "parent" in data:
        ref = data["parent"]
        if ref is not None:
            _refuse_second_home(product)
        product.parent = category_by_ref(ref) if ref is not None else None
    merge_localized(product, localized_input(data, PRODUCT))
    finish_localized(product, PRODUCT)


def _apply_update(product: Product, data: ProductPatch) -> bool:
    _apply(product, data)
    return _set_attributes(product, data.get("attributes"))


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


def _set_attributes(product: Product, attributes: list[AttributeInput] | None) -> bool:
    """Replace the whole attribute list; returns whether it changed."""
    if attributes is None:
        return False
    current = _attribute_pairs(product)
    wanted = pairs(attributes)
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
def product_create(*, data: ProductCreate) -> Product:
    """Create a product. Raises DefaultTranslationRequired, ProductExists, ParentCategoryNotFound."""
    product = create_record(Product(), PRODUCT, data, _apply)
    _set_attributes(product, data.get("attributes"))
    outbox.created(product)
    return product


@transaction.atomic
def product_update(*, product_id: int, data: ProductPatch, if_match: str | None = None) -> Product:
    """Partial update under a row lock; ``If-Match`` is checked against the locked version.

    A write that changes nothing keeps ``version`` and ``lastModifiedAt``.
    """
    product = _locked(product_id)
    watch = outbox.watch(product)
    update_record(product, PRODUCT, data, _apply_update, if_match=if_match)
    watch.record()
    return product


@transaction.atomic
def product_attributes_upsert(
    *, product_id: int, attributes: list[AttributeInput], if_match: str | None = None
) -> Product:
    """Set the given attributes' values by name, keeping the others (SPEC §22); a write like
    ``product_update`` (version, ``If-Match`` → PreconditionFailed)."""
    return PRODUCT_ATTRIBUTES.upsert(product_id, attributes, if_match)


@transaction.atomic
def product_attribute_delete(*, product_id: int, name: str, if_match: str | None = None) -> Product:
    """Remove one attribute by name. Raises ProductAttributeNotFound, PreconditionFailed."""
    return PRODUCT_ATTRIBUTES.remove(product_id, name, if_match)


@transaction.atomic
def product_delete(*, product_id: int, if_match: str | None = None) -> None:
    """Delete a product with its links (sources, attributes, category links)."""
    delete_record(_locked(product_id), if_match=if_match, events=outbox.deleting_record)


@transaction.atomic
def product_remove_translation(*, product_id: int, language: str) -> Product:
    product = _locked(product_id)
    watch = outbox.watch(product)
    remove_record_translation(product, PRODUCT, language)
    watch.record()
    return product


def _locked(product_id: int) -> Product:
    product = Product.objects.select_for_update().filter(pk=product_id).first()
    if product is None:
        raise errors.ProductNotFound(f"Product with id [{product_id}] not found.")
    return product


PRODUCT_ATTRIBUTES = AttributeWrites(
    label="Product",
    locked=_locked,
    current=_attribute_pairs,
    update=lambda pk, attributes: product_update(product_id=pk, data={"attributes": attributes}),
    missing=errors.ProductAttributeNotFound,
)


ProductIds = Iterable[int] | QuerySet


@transaction.atomic
def _set_on_many(ids: ProductIds, **values: Any) -> int:
    """One UPDATE for every product in ``ids`` whose values differ; returns how many changed.

    Rows already holding the values are left alone, so their ``version`` and ``lastModifiedAt``
    stay (SPEC §8). ``ids`` may be a queryset (an admin "select all"), used as a subquery. The
    UPDATE and the change events of the rows it changed commit together.
    """
    ids = ids.order_by().values("pk") if isinstance(ids, QuerySet) else list(ids)
    return outbox.updated_rows(Product.objects.filter(pk__in=ids).exclude(**values), values)


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
