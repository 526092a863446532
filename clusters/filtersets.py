from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from clusters.models import (
    Cluster,
    ClusterConfig,
    ClusterConfigSetting,
    ClusterOption,
    ClusterOptionSource,
    ClusterSource,
)
from clusters.querysets import in_categories
from config.api.errors import SchemaValidationException
from records.filters import (
    MAX_TERM_LENGTH,
    CommaIntegerFilter,
    DateRangeFilterSet,
    IdFilter,
    RecordFilterSet,
    StrictBooleanFilter,
    parse_bool_param,
)
from taxonomy.models import Category
from taxonomy.selectors import category_scope


class ClusterFilterSet(RecordFilterSet):
    code = django_filters.CharFilter(field_name="code")
    sku = django_filters.CharFilter(field_name="sku")
    clusterConfig = IdFilter(field_name="cluster_config_id")
    category = IdFilter(method="filter_category")

    q_columns = ("code", "sku")
    source_model = ClusterSource
    source_owner = "cluster"

    class Meta:
        model = Cluster
        fields: list[str] = []

    def filter_category(self, queryset: QuerySet, name: str, value) -> QuerySet:
        """Clusters in the category through their primary or a secondary link (with
        ``includeDescendants=true``: in any category of its subtree), like products."""
        category = Category.objects.filter(pk=int(value)).first()
        if category is None:
            return queryset.none()
        scope = category_scope(
            category, include_descendants=parse_bool_param(self.data, "includeDescendants")
        )
        return queryset.filter(in_categories(scope))


class ClusterOptionFilterSet(RecordFilterSet):
    isRequired = StrictBooleanFilter(field_name="is_required")

    source_model = ClusterOptionSource
    source_owner = "option"

    class Meta:
        model = ClusterOption
        fields: list[str] = []


class ClusterConfigFilterSet(DateRangeFilterSet):
    ids = CommaIntegerFilter(field_name="id", lookup_expr="in")
    name = django_filters.CharFilter(field_name="name")
    q = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", max_length=MAX_TERM_LENGTH
    )
    attributeName = django_filters.CharFilter(method="filter_attribute")

    class Meta:
        model = ClusterConfig
        fields: list[str] = []

    def filter_attribute(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Configs with a setting for that attribute."""
        return queryset.filter(
            pk__in=ClusterConfigSetting.objects.filter(attribute_name=value).values("config_id")
        )


class ClusterConfigSettingFilterSet(django_filters.FilterSet):
    ids = CommaIntegerFilter(field_name="id", lookup_expr="in")
    attributeName = django_filters.CharFilter(field_name="attribute_name")
    displayType = django_filters.CharFilter(method="filter_display_type")

    class Meta:
        model = ClusterConfigSetting
        fields: list[str] = []

    def filter_display_type(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value not in ClusterConfigSetting.DisplayType.values:
            choices = ", ".join(ClusterConfigSetting.DisplayType.values)
            raise SchemaValidationException(fields={"displayType": [f"Must be one of {choices}."]})
        return queryset.filter(display_type=value)
