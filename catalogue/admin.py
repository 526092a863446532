"""Products in the back office: tabs per language, sources and attributes inline, bulk actions.

Every write goes through ``catalogue.services`` (the API's rules: default-language name, slugs,
EAN check digit, version bump only on change).
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.template.response import TemplateResponse

from catalogue.api.serializers import ATTRIBUTE
from catalogue.models import Product, ProductAttribute, ProductSource
from catalogue.services import (
    SCALAR_FIELDS,
    product_create,
    product_delete,
    product_update,
    products_set_hidden,
    products_set_status,
)
from config.admin import (
    SourceInline,
    SourceListFilter,
    TranslatedRecordAdmin,
    TranslatedRecordForm,
    api_validator,
    autocomplete_filter,
    formset_rows,
    sources_data,
)
from config.api.validation import Ean
from taxonomy.admin import CategorySubtreeFilter


def attribute_display(value: Any) -> str:
    """How an attribute value reads in the form: plain text for strings, JSON otherwise.

    A string that would read back as JSON (``"42"``, ``"true"``) is shown quoted, so saving the
    form unchanged never turns a string into a number.
    """
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, ensure_ascii=False)


def attribute_parse(text: str) -> Any:
    """The inverse of ``attribute_display``: JSON when it parses, else the text as a string."""
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        return text


class AttributeValueField(forms.CharField):
    """A string, number, boolean or JSON array of strings, checked by the API's validator."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", 'Text, a number, true/false, or a list like ["S", "M"].')
        super().__init__(**kwargs)
        self.validators.append(api_validator(ATTRIBUTE.fields["value"]))

    def to_python(self, value):
        if value in self.empty_values:
            return None
        return attribute_parse(str(value))

    def validate(self, value):
        if value is None and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")

    def has_changed(self, initial, data):
        # ``initial`` is the displayed text (see ProductAttributeForm), ``data`` the posted text.
        before = None if initial in (None, "") else attribute_parse(initial)
        try:
            after = self.to_python(data)
        except forms.ValidationError:
            return True
        return json.dumps(before, sort_keys=True) != json.dumps(after, sort_keys=True)


class ProductAttributeForm(forms.ModelForm):
    value = AttributeValueField()

    class Meta:
        model = ProductAttribute
        fields = ("name", "value")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].validators.append(api_validator(ATTRIBUTE.fields["name"]))
        self.fields["name"].help_text = "A-Z, 0-9 and _ (COLOR, SIZE)."
        if self.instance.pk:
            self.initial["value"] = attribute_display(self.instance.value)


class ProductAttributeInline(admin.TabularInline):
    model = ProductAttribute
    form = ProductAttributeForm
    extra = 0
    ordering = ("position",)


class ProductSourceInline(SourceInline):
    model = ProductSource


class ProductForm(TranslatedRecordForm):
    class Meta:
        labels = {"sku": "SKU", "ean_code": "EAN", "tax_code": "Tax code"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "ean_code" in self.fields:
            self.fields["ean_code"].validators.append(api_validator(Ean()))


class SetStatusForm(forms.Form):
    status = forms.ChoiceField(choices=Product.Status.choices)


@admin.register(Product)
class ProductAdmin(TranslatedRecordAdmin):
    form = ProductForm
    list_display = (
        "name_column",
        "id",
        "sku_column",
        "ean_column",
        "status",
        "hidden",
        "category_column",
        "priority",
        "last_modified_at",
    )
    list_display_links = ("name_column",)
    # Sortable columns are those with a (column, id) index: name (sort_name), id, sku, EAN,
    # status, priority and last modified; hidden and category are not sortable.
    sortable_by = (
        "name_column",
        "id",
        "sku_column",
        "ean_column",
        "status",
        "priority",
        "last_modified_at",
    )
    list_select_related = ("parent",)
    list_filter = (
        "status",
        "hidden",
        CategorySubtreeFilter,
        # the clusters app's membership, reached by its relation name (catalogue sits below)
        autocomplete_filter(
            "cluster_membership__cluster", title="cluster", parameter_name="cluster"
        ),
        autocomplete_filter(
            "cluster_membership__cluster__cluster_config",
            title="cluster config",
            parameter_name="cluster_config",
        ),
        SourceListFilter,
    )
    search_fields = ("name",)  # the search itself is RecordAdmin.get_search_results
    search_code_columns = ("sku", "ean_code")
    autocomplete_fields = ("parent",)
    inlines = [ProductSourceInline, ProductAttributeInline]
    actions = ("hide_products", "show_products", "set_status")
    fieldsets = (
        (None, {"fields": ("name", "short_description", "description", "slug")}),
        (
            "Placement and availability",
            {"fields": ("language", "parent", "status", "hidden", "priority")},
        ),
        (
            "Identification",
            {
                "fields": (
                    ("sku", "ean_code"),
                    ("manufacturer", "manufacturer_code"),
                    ("supplier", "supplier_code"),
                )
            },
        ),
        ("Ordering", {"fields": (("unit", "minimum_quantity"), "package", "tax_code")}),
        (
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
        ),
        ("Record", {"fields": ("id", "version", "created_at", "last_modified_at")}),
    )

    @admin.display(description="name", ordering="sort_name")
    def name_column(self, product: Product) -> str:
        return str(product)

    @admin.display(description="category")
    def category_column(self, product: Product):
        return product.parent  # list_select_related: no query per row

    @admin.display(description="SKU", ordering="sku")
    def sku_column(self, product: Product) -> str:
        return product.sku

    @admin.display(description="EAN", ordering="ean_code")
    def ean_column(self, product: Product) -> str:
        return product.ean_code

    # -- writes through catalogue.services ---------------------------------------------------

    def save_through_service(self, request, form, formsets, change):
        data = {
            name: form.cleaned_data[name] for name in SCALAR_FIELDS if name in form.cleaned_data
        }
        data.update(self.localized_data(form))
        parent = form.cleaned_data.get("parent")
        data["parent"] = {"id": parent.pk} if parent else None
        sources = sources_data(formsets, ProductSource)
        if sources is not None:
            data["sources"] = sources
        attributes = formset_rows(formsets, ProductAttribute)
        if attributes is not None:
            data["attributes"] = [{"name": a["name"], "value": a["value"]} for a in attributes]
        if change:
            return product_update(product_id=form.instance.pk, data=data)
        return product_create(data=data)

    def delete_model(self, request, obj):
        product_delete(product_id=obj.pk)

    # -- bulk actions --------------------------------------------------------------------------

    @admin.action(description="Hide selected products", permissions=["change"])
    def hide_products(self, request, queryset: QuerySet):
        changed = products_set_hidden(ids=queryset, hidden=True)
        self.message_user(request, f"{changed} product(s) hidden.", messages.SUCCESS)

    @admin.action(description="Show selected products", permissions=["change"])
    def show_products(self, request, queryset: QuerySet):
        changed = products_set_hidden(ids=queryset, hidden=False)
        self.message_user(request, f"{changed} product(s) shown.", messages.SUCCESS)

    @admin.action(description="Set status of selected products…", permissions=["change"])
    def set_status(self, request, queryset: QuerySet):
        """First a page asking for the status (keeping the selection), then one UPDATE."""
        form = SetStatusForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            changed = products_set_status(ids=queryset, status=form.cleaned_data["status"])
            label = Product.Status(form.cleaned_data["status"]).label
            self.message_user(request, f"{changed} product(s) set to {label}.", messages.SUCCESS)
            return None
        select_across = request.POST.get("select_across") == "1"
        context = {
            **self.admin_site.each_context(request),
            "title": "Set status",
            "opts": self.model._meta,
            "form": form,
            "preview": list(queryset[:10]),
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": select_across,
            "count": None if select_across else queryset.count(),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(request, "admin/catalogue/product/set_status.html", context)
