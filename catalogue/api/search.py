"""``POST /v2/products/search`` and the products' part of ``GET /v2/search`` (SPEC §13): the
body beyond the list filters and the representation. Registered in ``CatalogueConfig.ready()``.
"""

from __future__ import annotations

from typing import Any

from catalogue.api.representations import product_representation, product_schema
from catalogue.filtersets import MAX_ATTRIBUTE_FILTERS, ProductFilterSet
from catalogue.models import Product
from catalogue.schemas import ATTRIBUTE
from catalogue.search import CODE_COLUMNS, attributes_refine, refresh_product_search_text
from catalogue.selectors import PRODUCT_SORTS, product_rows
from config.api.search import SearchSurface
from records.validation import (
    TEXT,
    Bool,
    Choice,
    Errors,
    Field,
    ListOf,
    Number,
    Obj,
    OneOfShapes,
    add_error,
)


class AttributeValue(Field):
    """A scalar attribute value to compare with: a string, a number or a boolean."""

    def convert(self, value: Any, path: str, errors: Errors) -> Any:
        if isinstance(value, bool | str):
            return value
        if isinstance(value, int | float):
            return Number().convert(value, path, errors)
        return add_error(errors, path, "Expected a string, number or boolean.")

    def openapi(self) -> dict:
        return {"oneOf": [TEXT, {"type": "number"}, {"type": "boolean"}]}


NAME = ATTRIBUTE.fields["name"]
ATTRIBUTE_FILTER = OneOfShapes(
    [
        Obj({"name": NAME, "value": AttributeValue()}, required=("name", "value")),
        Obj(
            {"name": NAME, "values": ListOf(AttributeValue(), max_items=100, min_items=1)},
            required=("name", "values"),
        ),
        Obj(
            {"name": NAME, "from": Number(), "to": Number()},
            required=("name", "from", "to"),
        ),
        Obj({"name": NAME, "from": Number()}, required=("name", "from")),
        Obj({"name": NAME, "to": Number()}, required=("name", "to")),
    ],
    description='{"name", "value"} exact; {"name", "values"} any of; {"name", "from", "to"} '
    "numeric range, bounds inclusive, either optional (from > to: an empty range, nothing matches).",
)


def _represent(rows: list[Product], language: str | None) -> list[dict[str, Any]]:
    return [product_representation(product, language=language) for product in rows]


PRODUCT_SEARCH = SearchSurface(
    name="products",
    hit_type="product",
    label="Product",
    model=Product,
    filterset=ProductFilterSet,
    sorts=PRODUCT_SORTS,
    output_queryset=product_rows,
    represent=_represent,
    schema=product_schema,
    code_columns=CODE_COLUMNS,
    extra_fields={
        "includeDescendants": Bool(description="With category: the whole subtree."),
        "attributes": ListOf(ATTRIBUTE_FILTER, max_items=MAX_ATTRIBUTE_FILTERS),
    },
    extra_params=("includeDescendants",),
    field_overrides={"status": ListOf(Choice(Product.Status.values), max_items=100, min_items=1)},
    refine=attributes_refine,
    refresh=refresh_product_search_text,
)
