"""Categories in the back office, and the category-subtree filter other lists reuse."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.widgets import AutocompleteSelect
from django.utils.html import format_html

from config.admin import SourceInline, SourceListFilter, TranslatedRecordAdmin, sources_data
from taxonomy.models import Category, CategorySource
from taxonomy.selectors import category_scope
from taxonomy.services import SCALAR_FIELDS, category_create, category_update


class CategorySubtreeFilter(admin.ListFilter):
    """Rows whose category lies in a chosen category's subtree (``?category=<id>``).

    The category is picked with the admin's autocomplete (searching by name), so the sidebar
    never lists thousands of categories; the filter is one indexed subquery on ``tree_id/lft``.
    """

    title = "category (with subcategories)"
    parameter_name = "category"
    template = "admin/autocomplete_filter.html"
    #: the foreign key to Category on the listed model that the autocomplete widget reads
    autocomplete_field = "parent"
    #: what the subtree is matched on: the foreign key, or "pk" for the category list itself
    filter_path = "parent"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        raw = params.pop(self.parameter_name, None)
        self.value = (raw[-1] if isinstance(raw, list) else raw) or None
        self.category = None
        if self.value is not None:
            if not self.value.isdigit():
                raise IncorrectLookupParameters(f"{self.parameter_name} must be a category id")
            self.used_parameters[self.parameter_name] = self.value
            self.category = Category.objects.filter(pk=int(self.value)).first()
        self.widget = AutocompleteSelect(
            model._meta.get_field(self.autocomplete_field),
            model_admin.admin_site,
            attrs={"data-placeholder": "Type a category name", "style": "width: 100%"},
        )
        self.media = self.widget.media
        self.kept_params: list[tuple[str, str]] = []

    @property
    def field(self):
        form_field = forms.ModelChoiceField(Category.objects.all(), widget=self.widget)
        return form_field.widget.render(
            self.parameter_name,
            self.category.pk if self.category else None,
            attrs={"id": f"filter_{self.parameter_name}"},
        )

    def has_output(self):
        return True

    def expected_parameters(self):
        return [self.parameter_name]

    def queryset(self, request, queryset):
        if self.value is None:
            return queryset
        if self.category is None:
            return queryset.none()
        subtree = category_scope(self.category, include_descendants=True)
        return queryset.filter(**{f"{self.filter_path}__in": subtree})

    def choices(self, changelist):
        self.kept_params = [
            (name, value)
            for name, value in changelist.params.items()
            if name != self.parameter_name
        ]
        yield {
            "selected": self.value is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "All",
        }
        if self.value is not None:
            yield {
                "selected": True,
                "query_string": changelist.get_query_string(),
                "display": str(self.category) if self.category else f"#{self.value} (not found)",
            }


class CategoryTreeFilter(CategorySubtreeFilter):
    title = "subtree"
    filter_path = "pk"


class CategorySourceInline(SourceInline):
    model = CategorySource


@admin.register(Category)
class CategoryAdmin(TranslatedRecordAdmin):
    """Categories in tree order, indented by level; saves go through ``taxonomy.services``."""

    list_display = ("indented_name", "id", "parent", "hidden", "priority", "last_modified_at")
    list_display_links = ("indented_name",)
    list_select_related = ("parent",)
    list_filter = (CategoryTreeFilter, "hidden", SourceListFilter)
    ordering = ("tree_id", "lft")
    search_fields = ("name",)  # enables autocomplete; the search itself is get_search_results
    autocomplete_fields = ("parent",)
    inlines = [CategorySourceInline]
    fieldsets = (
        (None, {"fields": ("name", "short_description", "description", "slug")}),
        ("Placement", {"fields": ("language", "parent", "hidden", "priority")}),
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
    def indented_name(self, category: Category) -> str:
        return format_html(
            '<span style="padding-left: {}em">{}</span>', 1.5 * category.level, category
        )

    def has_delete_permission(self, request, obj=None):
        """Deleting a category needs the category service's emptiness check and tree lock (SPEC
        §10); the stock delete page would also list every product of the category."""
        return False

    def save_through_service(self, request, form, formsets, change):
        data = {name: form.cleaned_data[name] for name in SCALAR_FIELDS}
        data.update(self.localized_data(form))
        parent = form.cleaned_data.get("parent")
        data["parent"] = {"id": parent.pk} if parent else None
        sources = sources_data(formsets, CategorySource)
        if sources is not None:
            data["sources"] = sources
        if change:
            return category_update(category_id=form.instance.pk, data=data)
        return category_create(data=data)
