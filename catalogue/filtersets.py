from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, QuerySet

from catalogue.models import Product, ProductAttribute, ProductSource
from catalogue.querysets import in_categories
from config.api.errors import SchemaValidationException
from records.filters import CommaCharFilter, IdFilter, RecordFilterSet, parse_bool_param
from taxonomy.models import Category
from taxonomy.selectors import category_scope

ATTRIBUTE_PREFIX = "attribute."
#: the most ``attribute.<NAME>`` list filters (and ``attributes`` of a search body) one request
#: takes: each is an ``EXISTS`` over the attribute table, and hundreds of them keep PostgreSQL's
#: planner busy for tens of seconds
MAX_ATTRIBUTE_FILTERS = 20


class ProductFilterSet(RecordFilterSet):
    sku = django_filters.CharFilter(field_name="sku")
    eanCode = django_filters.CharFilter(field_name="ean_code")
    supplier = django_filters.CharFilter(field_name="supplier")
    supplierCode = django_filters.CharFilter(field_name="supplier_code")
    manufacturer = django_filters.CharFilter(field_name="manufacturer")
    status = CommaCharFilter(field_name="status", lookup_expr="in")
    category = IdFilter(method="filter_category")
    # The clusters app's membership, reached by its relation name (catalogue sits below clusters).
    cluster = IdFilter(field_name="cluster_membership__cluster_id")

    q_columns = ("sku", "ean_code", "supplier_code", "manufacturer_code")
    source_model = ProductSource
    source_owner = "product"

    class Meta:
        model = Product
        fields: list[str] = []

    def filter_category(self, queryset: QuerySet, name: str, value) -> QuerySet:
        """Products in the category through their primary or a secondary link (with
        ``includeDescendants=true``: in any category of its subtree)."""
        category = Category.objects.filter(pk=int(value)).first()
        if category is None:
            return queryset.none()
        scope = category_scope(
            category, include_descendants=parse_bool_param(self.data, "includeDescendants")
        )
        return queryset.filter(in_categories(scope))

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        statuses = self.form.cleaned_data.get("status") or []
        bad = [s for s in statuses if s not in Product.Status.values]
        if bad:
            raise SchemaValidationException(
                fields={
                    "status": [
                        f"Unknown status {', '.join(bad)}; use {', '.join(Product.Status.values)}."
                    ]
                }
            )
        attributes = [(k, v) for k, v in self.data.items() if k.startswith(ATTRIBUTE_PREFIX)]
        if len(attributes) > MAX_ATTRIBUTE_FILTERS:
            message = f"At most {MAX_ATTRIBUTE_FILTERS} attribute filters per request."
            raise SchemaValidationException(
                fields={key: [message] for key, _ in attributes[MAX_ATTRIBUTE_FILTERS:]}
            )
        for key, value in attributes:
            name = key[len(ATTRIBUTE_PREFIX) :]
            queryset = queryset.filter(
                Exists(
                    ProductAttribute.objects.filter(
                        product=OuterRef("pk"), name=name, value_text=value
                    )
                )
            )
        return queryset
