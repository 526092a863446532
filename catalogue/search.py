"""Product search: the search document every write path keeps, attribute filters of the search
body, and the ``product`` resolve type. The generic machinery is in ``config.api.search``; the
API registration (body fields, representation) in ``catalogue.api.search``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet

from catalogue.models import Product, ProductAttribute, ProductSource
from config.api.search import (
    Resolver,
    field_key,
    id_key,
    search_document,
    set_column,
    source_key,
)

_NUMERIC = re.compile(r"-?\d+(\.\d+)?")

#: codes whose exact match ranks a product first
CODE_COLUMNS = ("sku", "ean_code", "supplier_code", "manufacturer_code")
_TEXT_BASES = ("name", "short_description", "description")


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


def product_search_text(product: Any, source_ids: Iterable[str]) -> str:
    """The ``search_text`` of a product: names (default language first), codes, source ids,
    short descriptions and descriptions in every language.

    ``product`` may be a historical model in a migration; only plain attributes are read.
    """
    languages = [
        product.language,
        *(code for code in settings.CATALOGUE_LANGUAGES if code != product.language),
    ]
    names = [getattr(product, f"name_{code}", None) for code in languages]
    codes = [getattr(product, column) for column in CODE_COLUMNS]
    texts = [
        getattr(product, f"{base}_{code}", None) for base in _TEXT_BASES[1:] for code in languages
    ]
    return search_document([*names, *codes, *source_ids, *texts])


def product_source_ids(product_id: int) -> list[str]:
    return list(
        ProductSource.objects.filter(product_id=product_id)
        .order_by("pk")
        .values_list("source_id", flat=True)
    )


def refresh_product_search_text(ids: Iterable[int], *, batch_size: int = 1000) -> int:
    """Recompute ``search_text`` of the given products set-based (for bulk writes and rebuilds):
    three statements per ``batch_size`` products. Returns how many rows were rewritten."""
    ids = list(ids)
    columns = ["id", "language", *CODE_COLUMNS] + [
        f"{base}_{code}" for base in _TEXT_BASES for code in settings.CATALOGUE_LANGUAGES
    ]
    rewritten = 0
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        sources: dict[int, list[str]] = {}
        for owner, source_id in (
            ProductSource.objects.filter(product_id__in=chunk)
            .order_by("pk")
            .values_list("product_id", "source_id")
        ):
            sources.setdefault(owner, []).append(source_id)
        documents = {
            product.pk: product_search_text(product, sources.get(product.pk, []))
            for product in Product.objects.filter(pk__in=chunk).only(*columns)
        }
        set_column(Product, "search_text", documents)
        rewritten += len(documents)
    return rewritten


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
