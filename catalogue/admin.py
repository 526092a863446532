"""Products in the back office: tabs per language, sources, attributes and secondary categories
inline, bulk actions.

Every write goes through ``catalogue.services`` (the API's rules: default-language name, slugs,
EAN check digit, version bump only on change); secondary category links go through the category
relationship service (``taxonomy.relationships.category_link_items``), like the API's.
"""

from __future__ import annotations

import json
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AutocompleteSelect
from django.db.models import QuerySet
from django.template.response import TemplateResponse

from catalogue.models import Product, ProductAttribute, ProductCategory, ProductSource
from catalogue.schemas import ATTRIBUTE, ATTRIBUTES
from catalogue.services import (
    SCALAR_FIELDS,
    ProductCreate,
    ProductPatch,
    product_create,
    product_delete,
    product_set_categories,
    product_update,
    products_link_category,
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
from config.api.errors import ApiError
from records.validation import Ean
from taxonomy.admin import CategorySubtreeFilter
from taxonomy.models import Category

#: The most products one "link to / unlink from a category" run handles (100 per service call).
MAX_LINKED_PER_ACTION = 1000
#: Per-item failures listed one by one before the rest are summed up.
MAX_FAILURE_MESSAGES = 10


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


class ProductAttributeFormSet(forms.BaseInlineFormSet):
    """The whole attribute list checked by the API's validator (count, size as JSON)."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        rows = formset_rows([self], ProductAttribute) or []
        api_validator(ATTRIBUTES)([{"name": r["name"], "value": r["value"]} for r in rows])


class ProductAttributeInline(admin.TabularInline):
    model = ProductAttribute
    form = ProductAttributeForm
    formset = ProductAttributeFormSet
    extra = 0
    ordering = ("position",)


class ProductSourceInline(SourceInline):
    model = ProductSource


class ProductCategoryInline(admin.TabularInline):
    """Secondary categories (SPEC §10.1); the primary one is the product's ``parent``.

    Rows are written by ``product_set_categories`` through the category relationship service,
    never by the formset itself.
    """

    model = ProductCategory
    fields = ("category", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("category",)
    extra = 0
    ordering = ("category__tree_id", "category__lft")
    verbose_name = "secondary category"
    verbose_name_plural = "secondary categories"


class ProductForm(TranslatedRecordForm):
    class Meta:
        labels = {"sku": "SKU", "ean_code": "EAN", "tax_code": "Tax code"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "ean_code" in self.fields:
            self.fields["ean_code"].validators.append(api_validator(Ean()))


class SetStatusForm(forms.Form):
    status = forms.ChoiceField(choices=Product.Status.choices)


class CategoryChoiceForm(forms.Form):
    """The category of a link/unlink action, picked by typing (the autocomplete of the
    secondary-category inline): no list of every category."""

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        widget = AutocompleteSelect(
            ProductCategory._meta.get_field("category"),
            admin_site,
            attrs={"data-placeholder": "Type a category name", "style": "width: 30em"},
        )
        self.fields["category"] = forms.ModelChoiceField(
            queryset=Category.objects.all(),
            widget=widget,
            help_text="Type a category name in any language.",
        )


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
    inlines = [ProductSourceInline, ProductAttributeInline, ProductCategoryInline]
    actions = (
        "hide_products",
        "show_products",
        "set_status",
        "link_to_category",
        "unlink_from_category",
    )
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
        product = (
            product_update(product_id=form.instance.pk, data=cast(ProductPatch, data))
            if change
            else product_create(data=cast(ProductCreate, data))
        )
        links = formset_rows(formsets, ProductCategory)
        if links is not None:
            product_set_categories(
                product_id=product.pk, category_ids=[row["category"].pk for row in links]
            )
        return product

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
        return self.action_form_page(
            request,
            queryset,
            form,
            action="set_status",
            title="Set status",
            intro="Set the status of",
            note="Products that already have the chosen status keep their version.",
            submit_label="Set status",
        )

    @admin.action(description="Link selected products to a category…", permissions=["change"])
    def link_to_category(self, request, queryset: QuerySet):
        """Add a secondary category to the selected products (asks for the category first)."""
        return self._link_action(request, queryset, "add")

    @admin.action(description="Unlink selected products from a category…", permissions=["change"])
    def unlink_from_category(self, request, queryset: QuerySet):
        """Remove a secondary category from the selected products (asks for it first)."""
        return self._link_action(request, queryset, "remove")

    def _link_action(self, request, queryset: QuerySet, action: str):
        """Through ``products_link_category`` (the category relationship service): one success
        message, and one message per refused product (already linked, its primary category, not
        linked), at most ``MAX_FAILURE_MESSAGES`` of them before a count of the rest."""
        adding = action == "add"
        form = CategoryChoiceForm(
            request.POST if "apply" in request.POST else None, admin_site=self.admin_site
        )
        if form.is_valid():
            # A bounded read: "select all" over a huge filter is refused, not loaded.
            ids = list(
                queryset.order_by("pk").values_list("pk", flat=True)[: MAX_LINKED_PER_ACTION + 1]
            )
            if len(ids) > MAX_LINKED_PER_ACTION:
                self.message_user(
                    request,
                    f"Select at most {MAX_LINKED_PER_ACTION:,} products to "
                    f"{'link' if adding else 'unlink'} at once; nothing was changed.",
                    messages.ERROR,
                )
                return None
            category = form.cleaned_data["category"]
            try:
                outcomes = products_link_category(category_id=category.pk, ids=ids, action=action)
            except ApiError as error:  # the category was deleted meanwhile
                self.message_user(request, error.message, messages.ERROR)
                return None
            done = sum(outcome.success for outcome in outcomes)
            verb = "linked to" if adding else "unlinked from"
            self.message_user(
                request,
                f"{done} product(s) {verb} “{category}”.",
                messages.SUCCESS if done else messages.WARNING,
            )
            failures = [outcome.error.message for outcome in outcomes if outcome.error]
            for message in failures[:MAX_FAILURE_MESSAGES]:
                self.message_user(request, message, messages.WARNING)
            if len(failures) > MAX_FAILURE_MESSAGES:
                rest = len(failures) - MAX_FAILURE_MESSAGES
                self.message_user(
                    request,
                    f"… and {rest} more product(s) not {verb.split()[0]}.",
                    messages.WARNING,
                )
            return None
        return self.action_form_page(
            request,
            queryset,
            form,
            action="link_to_category" if adding else "unlink_from_category",
            title="Link to a category" if adding else "Unlink from a category",
            intro="Link" if adding else "Unlink",
            outro=" to a secondary category" if adding else " from a secondary category",
            note=("The product's primary category stays as it is; change it on the product form."),
            submit_label="Link" if adding else "Unlink",
        )

    def action_form_page(self, request, queryset, form, *, action, title, **texts):
        """The intermediate page of an action that needs an answer first, keeping the
        selection (or "all matching the filters") in hidden fields."""
        select_across = request.POST.get("select_across") == "1"
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "form": form,
            "action": action,
            "preview": list(queryset[:10]),
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": select_across,
            "count": None if select_across else queryset.count(),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
            **texts,
        }
        return TemplateResponse(request, "admin/catalogue/product/action_form.html", context)
