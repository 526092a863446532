"""Product search: the search document every write path keeps, attribute filters of the search
body, and the ``product`` resolve type. The generic machinery is in ``records.search``; the
API registration (body fields, representation) in ``catalogue.api.search``.
"""

from __future__ import annotations

import math
import re
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from catalogue.models import Product, ProductAttribute, ProductSource
from records.search.resolve import Resolver, field_key, id_key, source_key
from records.search.text import SearchText

_NUMERIC = re.compile(r"-?\d+(\.\d+)?")

#: codes whose exact match ranks a product first
CODE_COLUMNS = ("sku", "ean_code", "supplier_code", "manufacturer_code")
PRODUCT_TEXT = SearchText(Product, ProductSource, "product", CODE_COLUMNS)
product_search_text = PRODUCT_TEXT.document
product_source_ids = PRODUCT_TEXT.source_ids
refresh_product_search_text = PRODUCT_TEXT.refresh


def attribute_text(value: Any) -> str | None:
    """The scalar text form matched by ``attribute.<NAME>=<value>`` and ``{"name", "value"}``
    filters (arrays: none)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format(value, "g") if isinstance(value, float) else str(value)
    if isinstance(value, str):
        return value[:255]
    return None


def attribute_number(value: Any) -> float | None:
    """The numeric form matched by ``{"name", "from", "to"}`` filters: JSON numbers, and strings
    that are plain decimal numbers (``"12.5"``), since many upstream systems send every value as
    a string. Booleans and arrays have none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and _NUMERIC.fullmatch(value.strip()):
        number = float(value.strip())
    else:
        return None
    return number if math.isfinite(number) else None


def attributes_refine(queryset: QuerySet, body: dict[str, Any]) -> QuerySet:
    """The ``attributes`` filters of a product search body, each one an ``EXISTS``:
    ``{"name", "value"}`` exact, ``{"name", "values"}`` any of, ``{"name", "from", "to"}`` a
    numeric range, both bounds inclusive, either optional."""
    for wanted in body.get("attributes") or []:
        links = ProductAttribute.objects.filter(product=OuterRef("pk"), name=wanted["name"])
        if "value" in wanted:
            links = links.filter(value_text=attribute_text(wanted["value"]))
        elif "values" in wanted:
            links = links.filter(value_text__in=[attribute_text(v) for v in wanted["values"]])
        else:
            if "from" in wanted:
                links = links.filter(value_number__gte=wanted["from"])
            if "to" in wanted:
                links = links.filter(value_number__lte=wanted["to"])
        queryset = queryset.filter(Exists(links))
    return queryset


PRODUCT_RESOLVER = Resolver(
    "product",
    (
        id_key(Product),
        source_key(ProductSource, "product"),
        field_key(Product, "sku", "sku"),
        field_key(Product, "supplierCode", "supplier_code", ("supplier", "supplier")),
    ),
)
