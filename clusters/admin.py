"""Cluster configs, clusters and cluster options in the back office (SPEC §15).

Every write goes through ``clusters.services`` (and, for secondary categories, the category
relationship rules of ``taxonomy.relationships``), so the back office follows the API's rules:
a product sits in one cluster and has one primary home, a default product belongs to its
cluster or option, config names never change, a config in use is never deleted.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from modeltranslation.admin import TranslationTabularInline

from catalogue.models import Product
from clusters.models import (
    Cluster,
    ClusterCategory,
    ClusterConfig,
    ClusterConfigSetting,
    ClusterOption,
    ClusterOptionSource,
    ClusterProduct,
    ClusterSource,
    OptionProduct,
)
from clusters.schemas import SETTING_FIELDS, config_fields
from clusters.services import (
    RECORD_SCALARS,
    ClusterConfigPatch,
    ClusterCreate,
    ClusterPatch,
    OptionCreate,
    OptionPatch,
    cluster_config_create,
    cluster_config_delete,
    cluster_config_update,
    cluster_create,
    cluster_delete,
    cluster_products_assign,
    cluster_products_unassign,
    cluster_set_categories,
    cluster_update,
    option_create,
    option_delete,
    option_products_set,
    option_update,
)
from config.admin import (
    RecordAdmin,
    SourceInline,
    SourceListFilter,
    TranslatedRecordAdmin,
    TranslatedRecordForm,
    api_validator,
    autocomplete_filter,
    formset_rows,
    sources_data,
)
from config.api import errors
from records.outcomes import Outcome
from records.validation import Str
from taxonomy.admin import CategorySubtreeFilter
from taxonomy.models import Category

RECORD_FIELDS = ("id", "version", "created_at", "last_modified_at")
SEO_FIELDSET = (
    "Search engines",
    {
        "classes": ("collapse",),
        "fields": (
            "metadata_title",
            "metadata_description",
            "metadata_keywords",
            "metadata_canonical_url",
        ),
    },
)


def raise_first_error(outcomes: list[Outcome]) -> None:
    """Per-item outcomes in a form: the first failed item refuses the whole save."""
    for outcome in outcomes:
        if outcome.error is not None:
            raise outcome.error


def _choose_only(field: forms.Field) -> None:
    """No add/change/delete icons next to a select of the record's own products: a product
    added there would not belong to the record."""
    for flag in ("can_add_related", "can_change_related", "can_delete_related"):
        if hasattr(field.widget, flag):
            setattr(field.widget, flag, False)


def _formset(formsets, model):
    return next((fs for fs in formsets if fs.model is model), None)


# Cluster configs ----------------------------------------------------------------------------


class SettingForm(forms.ModelForm):
    class Meta:
        model = ClusterConfigSetting
        fields = ("attribute_name", "display_type", "priority")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attribute_name"].validators.append(
            api_validator(SETTING_FIELDS["attributeName"])
        )
        self.fields["attribute_name"].help_text = "A product attribute name (COLOR, SIZE)."


class SettingInline(admin.TabularInline):
    model = ClusterConfigSetting
    form = SettingForm
    extra = 0
    ordering = ("priority", "pk")
    verbose_name = "variant selector"
    verbose_name_plural = "variant selectors (settings)"


class ClusterConfigForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        name = self.fields.get("name")
        if name is not None:
            name.validators.append(api_validator(config_fields()["name"]))
            name.help_text = "2-35 characters of A-Za-z0-9_; cannot change after create."


@admin.register(ClusterConfig)
class ClusterConfigAdmin(RecordAdmin):
    form = ClusterConfigForm
    list_display = ("name", "id", "selectors", "last_modified_at")
    list_display_links = ("name",)
    sortable_by = ("name", "id", "last_modified_at")
    ordering = ("name",)
    search_fields = ("name",)
    search_help_text = "Config name or one of its attribute names."
    readonly_fields = RECORD_FIELDS
    fields = ("name", *RECORD_FIELDS)
    inlines = [SettingInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("settings")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        by_attribute = ClusterConfigSetting.objects.filter(attribute_name__iexact=term)
        matches = queryset.filter(name__icontains=term) | queryset.filter(
            pk__in=by_attribute.values("config_id")
        )
        return matches, False

    def get_readonly_fields(self, request, obj=None):
        # the name never changes after create (SPEC §12)
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "name") if obj else fields

    @admin.display(description="variant selectors")
    def selectors(self, config: ClusterConfig) -> str:
        settings = sorted(config.settings.all(), key=lambda s: (s.priority, s.pk))
        return ", ".join(f"{s.attribute_name} ({s.display_type})" for s in settings)

    def has_delete_permission(self, request, obj=None):
        """A config that clusters follow cannot be deleted (21008): no delete button, and no
        confirmation page listing thousands of protected clusters."""
        if obj is not None and Cluster.objects.filter(cluster_config=obj).exists():
            return False
        return super().has_delete_permission(request, obj)

    def save_through_service(self, request, form, formsets, change):
        data: ClusterConfigPatch = {}
        rows = formset_rows(formsets, ClusterConfigSetting)
        if rows is not None:
            data["settings"] = [
                {
                    "attribute_name": row["attribute_name"],
                    "display_type": row["display_type"],
                    "priority": row["priority"],
                }
                for row in rows
            ]
        if change:
            return cluster_config_update(config_id=form.instance.pk, data=data)
        return cluster_config_create(data={"name": form.cleaned_data["name"], **data})

    def delete_model(self, request, obj):
        cluster_config_delete(config_id=obj.pk)


# Clusters -----------------------------------------------------------------------------------


class ClusterSourceInline(SourceInline):
    model = ClusterSource


class MembershipForm(forms.ModelForm):
    class Meta:
        model = ClusterProduct
        fields = ("product",)

    def validate_unique(self):
        """A product that sits in another cluster is moved here on save (the API's assign
        rule), so the one-cluster-per-product constraint is the service's to keep."""


class MembershipInline(admin.TabularInline):
    model = ClusterProduct
    form = MembershipForm
    fields = ("product", "sku", "status")
    readonly_fields = ("sku", "status")
    autocomplete_fields = ("product",)
    extra = 0
    ordering = ("product_id",)
    verbose_name = "product"
    verbose_name_plural = "products (variants); adding one from another cluster moves it here"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")

    @admin.display(description="SKU")
    def sku(self, membership: ClusterProduct) -> str:
        return membership.product.sku if membership.product_id else ""

    @admin.display(description="status")
    def status(self, membership: ClusterProduct) -> str:
        return membership.product.get_status_display() if membership.product_id else ""


class ClusterCategoryInline(admin.TabularInline):
    """Secondary categories (SPEC §10.1); the primary one is the cluster's ``parent``. Rows are
    written by ``cluster_set_categories`` through the category relationship rules."""

    model = ClusterCategory
    fields = ("category", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("category",)
    extra = 0
    ordering = ("category__tree_id", "category__lft")
    verbose_name = "secondary category"
    verbose_name_plural = "secondary categories"


class OptionInline(TranslationTabularInline):
    model = ClusterOption
    fields = ("name", "is_required", "hidden", "priority")
    extra = 0
    ordering = ("priority", "pk")
    show_change_link = True
    verbose_name_plural = "options (selectable products on each option's own page)"


class ClusterForm(TranslatedRecordForm):
    removed_products_category = forms.ModelChoiceField(
        queryset=Category.objects.all(),
        required=False,
        label="Category for removed products",
        help_text="Products removed from the cluster below move to this category, their new "
        "primary home. Empty: the cluster's own category.",
        widget=AutocompleteSelect(Cluster._meta.get_field("parent"), admin.site),
    )

    class Meta:
        labels = {"parent": "Category", "default_product": "Default product"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("default_product")
        if field is not None:
            # one of the cluster's products (a few variants): a plain select, no table scan
            field.queryset = (
                Product.objects.filter(cluster_membership__cluster=self.instance).order_by("pk")
                if self.instance.pk
                else Product.objects.none()
            )
            field.help_text = "One of the cluster's products (save new products first)."
            _choose_only(field)
        code = self.fields.get("code")
        if code is not None:
            code.validators.append(api_validator(Str(min_length=1, max_length=64)))
            code.help_text = "Unique when set."
        sku = self.fields.get("sku")
        if sku is not None:
            sku.validators.append(api_validator(Str(min_length=1, max_length=128)))

    def _get_validation_exclusions(self):
        # The code's uniqueness is a conditional constraint, which model validation reports
        # as an anonymous form error; the service's ClusterExists names the code field instead.
        return {*super()._get_validation_exclusions(), "code"}


@admin.register(Cluster)
class ClusterAdmin(TranslatedRecordAdmin):
    form = ClusterForm
    list_display = (
        "name_column",
        "id",
        "code_column",
        "cluster_config",
        "parent",
        "hidden",
        "priority",
        "last_modified_at",
    )
    list_display_links = ("name_column",)
    # Sortable columns have a (column, id) index: name, id, code, priority, last modified.
    sortable_by = ("name_column", "id", "code_column", "priority", "last_modified_at")
    list_select_related = ("cluster_config", "parent")
    list_filter = (
        "hidden",
        autocomplete_filter("cluster_config", title="cluster config", parameter_name="config"),
        CategorySubtreeFilter,
        SourceListFilter,
    )
    search_fields = ("name",)  # enables autocomplete; the search is get_search_results
    search_code_columns = ("code", "sku")
    search_help_text = "Name in any language, code, sku or source id; words are combined."
    autocomplete_fields = ("cluster_config", "parent")
    inlines = [ClusterSourceInline, MembershipInline, OptionInline, ClusterCategoryInline]
    fieldsets = (
        (None, {"fields": ("name", "short_description", "description", "slug")}),
        (
            "Variants",
            {"fields": ("language", "cluster_config", "code", "sku", "default_product")},
        ),
        (
            "Placement",
            {"fields": ("parent", "hidden", "priority", "removed_products_category")},
        ),
        SEO_FIELDSET,
        ("Record", {"fields": RECORD_FIELDS}),
    )

    @admin.display(description="name", ordering="sort_name")
    def name_column(self, cluster: Cluster) -> str:
        return str(cluster)

    @admin.display(description="code", ordering="code")
    def code_column(self, cluster: Cluster) -> str:
        return cluster.code

    def service_error_field(self, error, form):
        if isinstance(error, errors.ClusterExists) and "code" in error.message:
            return "code"
        if isinstance(error, errors.PayloadValidationError) and "removed" in error.message:
            return "removed_products_category"
        return super().service_error_field(error, form)

    # -- writes through clusters.services ----------------------------------------------------

    def save_through_service(self, request, form, formsets, change):
        cleaned = form.cleaned_data
        data: dict[str, Any] = {name: cleaned[name] for name in RECORD_SCALARS if name in cleaned}
        data["code"] = cleaned.get("code") or None
        data["sku"] = cleaned.get("sku") or None
        data.update(self.localized_data(form))
        data["cluster_config"] = {"id": cleaned["cluster_config"].pk}
        parent = cleaned.get("parent")
        data["parent"] = {"id": parent.pk} if parent else None
        sources = sources_data(formsets, ClusterSource)
        if sources is not None:
            data["sources"] = sources
        if change:
            default = cleaned.get("default_product")
            data["default_product"] = {"id": default.pk} if default else None
            cluster = cluster_update(cluster_id=form.instance.pk, data=cast(ClusterPatch, data))
        else:
            cluster = cluster_create(data=cast(ClusterCreate, data))
        self._save_products(cluster, formsets, cleaned.get("removed_products_category"))
        self._save_options(cluster, formsets)
        self._save_categories(cluster, formsets)
        return Cluster.objects.get(pk=cluster.pk)

    def _save_products(self, cluster: Cluster, formsets, target: Category | None) -> None:
        rows = formset_rows(formsets, ClusterProduct)
        if rows is None:
            return
        wanted = [row["product"].pk for row in rows]
        current = set(
            ClusterProduct.objects.filter(cluster=cluster).values_list("product_id", flat=True)
        )
        added = [pk for pk in wanted if pk not in current]
        if added:
            outcomes = cluster_products_assign(
                cluster_id=cluster.pk, refs=[{"id": pk} for pk in added]
            )
            raise_first_error(outcomes)
        removed = sorted(current - set(wanted))
        if removed:
            target_id = target.pk if target else cluster.parent_id
            if target_id is None:
                raise errors.PayloadValidationError(
                    f"{len(removed)} product(s) removed from the cluster need a new primary "
                    "home: choose the category for removed products (or give the cluster one)."
                )
            outcomes = cluster_products_unassign(
                cluster_id=cluster.pk,
                refs=[{"id": pk} for pk in removed],
                target={"category": {"id": target_id}},
            )
            raise_first_error(outcomes)

    def _save_options(self, cluster: Cluster, formsets) -> None:
        formset = _formset(formsets, ClusterOption)
        if formset is None:
            return
        for form in formset.forms:
            if not form.cleaned_data:
                continue
            option = form.instance
            if form.cleaned_data.get("DELETE"):
                if option.pk:
                    option_delete(option_id=option.pk)
                continue
            if option.pk and not form.has_changed():
                continue
            data: dict[str, Any] = {
                name: form.cleaned_data[name] for name in ("is_required", "hidden", "priority")
            }
            data["name"] = {
                code: (form.cleaned_data.get(f"name_{code}") or "").strip() or None
                for code in _languages(form)
            }
            try:
                if option.pk:
                    option_update(option_id=option.pk, data=cast(OptionPatch, data))
                else:
                    option_create(cluster_id=cluster.pk, data=cast(OptionCreate, data))
            except errors.ApiError as error:
                label = str(option) if option.pk else "New option"
                raise errors.PayloadValidationError(f"{label}: {error.message}") from error

    def _save_categories(self, cluster: Cluster, formsets) -> None:
        rows = formset_rows(formsets, ClusterCategory)
        if rows is not None:
            cluster_set_categories(
                cluster_id=cluster.pk, category_ids=[row["category"].pk for row in rows]
            )

    def delete_model(self, request, obj):
        cluster_delete(cluster_id=obj.pk)


def _languages(form) -> list[str]:
    return [name.removeprefix("name_") for name in form.fields if name.startswith("name_")]


# Cluster options ----------------------------------------------------------------------------


class ClusterOptionSourceInline(SourceInline):
    model = ClusterOptionSource


class OptionProductInline(admin.TabularInline):
    model = OptionProduct
    fields = ("position", "product")
    autocomplete_fields = ("product",)
    extra = 0
    ordering = ("position", "pk")
    verbose_name = "selectable product"
    verbose_name_plural = "selectable products, in order (lowest position first)"

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.base_fields["position"].required = False
        formset.form.base_fields["position"].help_text = "Empty: after the others."
        return formset


class ClusterOptionForm(TranslatedRecordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("default_product")
        if field is not None:
            field.queryset = (
                Product.objects.filter(option_links__option=self.instance).order_by("pk")
                if self.instance.pk
                else Product.objects.none()
            )
            field.help_text = "One of the option's products (save new products first)."
            _choose_only(field)


@admin.register(ClusterOption)
class ClusterOptionAdmin(TranslatedRecordAdmin):
    form = ClusterOptionForm
    list_display = (
        "name_column",
        "id",
        "cluster",
        "is_required",
        "hidden",
        "priority",
        "last_modified_at",
    )
    list_display_links = ("name_column",)
    sortable_by = ("name_column", "id", "priority", "last_modified_at")
    list_select_related = ("cluster",)
    list_filter = (
        "is_required",
        "hidden",
        autocomplete_filter("cluster", title="cluster", parameter_name="cluster"),
        SourceListFilter,
    )
    search_fields = ("name",)
    autocomplete_fields = ("cluster",)
    inlines = [ClusterOptionSourceInline, OptionProductInline]
    fieldsets = (
        (None, {"fields": ("name", "short_description", "description")}),
        (
            "Choice",
            {
                "fields": (
                    "language",
                    "cluster",
                    "is_required",
                    "hidden",
                    "priority",
                    "default_product",
                )
            },
        ),
        ("Record", {"fields": RECORD_FIELDS}),
    )

    @admin.display(description="name", ordering="sort_name")
    def name_column(self, option: ClusterOption) -> str:
        return str(option)

    def get_readonly_fields(self, request, obj=None):
        # an option belongs to its cluster for life (read-only in the API too)
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "cluster") if obj else fields

    def save_through_service(self, request, form, formsets, change):
        cleaned = form.cleaned_data
        data: dict[str, Any] = {
            name: cleaned[name] for name in (*RECORD_SCALARS, "is_required") if name in cleaned
        }
        data.update(self.localized_data(form))
        sources = sources_data(formsets, ClusterOptionSource)
        if sources is not None:
            data["sources"] = sources
        rows = formset_rows(formsets, OptionProduct)
        ordered = None
        if rows is not None:
            by_position = sorted(
                enumerate(rows),
                key=lambda item: (
                    item[1].get("position") is None,
                    item[1].get("position"),
                    item[0],
                ),
            )
            ordered = [row["product"].pk for _, row in by_position]
        if change:
            # the list first: the default product must be one of the option's products
            if ordered is not None:
                option_products_set(option_id=form.instance.pk, product_ids=ordered)
            default = cleaned.get("default_product")
            data["default_product"] = {"id": default.pk} if default else None
            option = option_update(option_id=form.instance.pk, data=cast(OptionPatch, data))
        else:
            option = option_create(cluster_id=cleaned["cluster"].pk, data=cast(OptionCreate, data))
            if ordered is not None:
                option_products_set(option_id=option.pk, product_ids=ordered)
        return ClusterOption.objects.get(pk=option.pk)

    def delete_model(self, request, obj):
        option_delete(option_id=obj.pk)
