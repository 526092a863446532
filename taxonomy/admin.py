"""Categories in the back office, and the category-subtree filter other lists reuse.

The change list is django-mptt's draggable tree; every write (form saves, drag-and-drop moves,
deletes) goes through ``taxonomy.services`` under the tree lock, like the API's.
"""

from __future__ import annotations

from typing import cast

from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.db import transaction
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.html import format_html
from mptt.admin import DraggableMPTTAdmin

from config.admin import (
    IndexedChangeList,
    RelatedAutocompleteFilter,
    SourceInline,
    SourceListFilter,
    TranslatedRecordAdmin,
    sources_data,
)
from config.api.errors import ApiError, CategoryNotFound
from taxonomy.models import Category, CategorySource
from taxonomy.selectors import category_scope
from taxonomy.services import (
    POSITIONS,
    SCALAR_FIELDS,
    CategoryCreate,
    CategoryPatch,
    category_create,
    category_delete,
    category_delete_refusal,
    category_move,
    category_update,
)


class CategorySubtreeFilter(RelatedAutocompleteFilter):
    """Rows whose category lies in a chosen category's subtree (``?category=<id>``).

    The category is picked with the admin's autocomplete (searching by name), so the sidebar
    never lists thousands of categories; the filter is one indexed subquery on ``tree_id/lft``.
    """

    title = "category (with subcategories)"
    parameter_name = "category"
    #: the foreign key to Category on the listed model that the autocomplete widget reads
    path = "parent"
    placeholder = "Type a category name"
    #: what the subtree is matched on: the foreign key, or "pk" for the category list itself
    filter_path = "parent"

    def queryset(self, request, queryset):
        if self.value is None:
            return queryset
        if self.chosen is None:
            return queryset.none()
        subtree = category_scope(self.chosen, include_descendants=True)
        return queryset.filter(**{f"{self.filter_path}__in": subtree})


class CategoryTreeFilter(CategorySubtreeFilter):
    title = "subtree"
    filter_path = "pk"


class CategorySourceInline(SourceInline):
    model = CategorySource


class TreeChangeList(IndexedChangeList):
    """Always in tree order (``tree_id, lft``: unique, and the tree's own index), whatever ``?o=``
    says: another order would break the indentation and the meaning of a drop."""

    def get_ordering(self, request, queryset):
        return ["tree_id", "lft"]


def tree_structure(categories) -> dict[str, list[int]]:
    """``{parent id: [child ids]}`` of the listed rows, what the draggable tree's script uses to
    fold and unfold branches (roots under ``0``)."""
    structure: dict[str, list[int]] = {}
    for category in categories:
        structure.setdefault(str(category.parent_id or 0), []).append(category.pk)
    return structure


@admin.register(Category)
class CategoryAdmin(TranslatedRecordAdmin, DraggableMPTTAdmin):
    """The category tree, indented and re-arranged by drag and drop; tabs per language.

    ``DraggableMPTTAdmin`` brings the tree columns, the drag-and-drop script and its styles
    (served from django-mptt's static files); its own move handler and its delete action, which
    write the tree without the lock, are replaced: moves call ``category_move``, parent changes
    in the form ``category_update``, deletes ``category_delete``.
    """

    list_display = (
        "tree_actions",
        "indented_title",
        "id",
        "parent",
        "hidden",
        "priority",
        "last_modified_at",
    )
    list_display_links = ("indented_title",)
    list_select_related = ("parent",)
    list_filter = (CategoryTreeFilter, "hidden", SourceListFilter)
    ordering = ("tree_id", "lft")
    sortable_by = ()  # TreeChangeList: tree order only
    # Whole branches on a page for dragging; still bounded (the tree has thousands of nodes).
    list_per_page = 250
    list_max_show_all = 250
    mptt_level_indent = 20
    expand_tree_by_default = True
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

    @admin.display(description="name")
    def indented_title(self, category: Category) -> str:
        return format_html(
            '<div class="tree-title" style="text-indent: {}px">{}</div>',
            category.level * self.mptt_level_indent,
            category,
        )

    # -- the tree change list ----------------------------------------------------------------

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST" and request.POST.get("cmd") == "move_node":
            return self.move_node_view(request)
        return super().changelist_view(request, extra_context)

    def get_changelist(self, request, **kwargs):
        return TreeChangeList

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        request._category_rows = changelist.result_list
        return changelist

    def _build_tree_structure(self, queryset):
        """mptt reads (pk, parent) of every category here; ``_tree_context`` uses the page's
        rows instead, so a tree of any size costs no query beyond the page."""
        return {}

    def _tree_context(self, request):
        context = super()._tree_context(request)
        context["treeStructure"] = tree_structure(getattr(request, "_category_rows", ()))
        return context

    def _move_node(self, request):
        """mptt's own handler moves without the tree lock: never used."""
        return self.move_node_view(request)

    def move_node_view(self, request):
        """A drop from the tree (``cmd=move_node``): ``category_move`` under the tree lock.

        The script posts ``cut_item`` (the dragged category), ``pasted_on`` (the row it was
        dropped on) and mptt's ``position`` relative to that row: ``left`` (before it),
        ``right`` (after it), ``last-child`` (inside it); ``first-child`` is accepted too. These
        are the service's own positions, so they pass through unchanged. The answer is JSON; the
        script reloads the page, which shows the outcome as an admin message (a refused move,
        such as a drop inside the category's own subtree, as an error).
        """
        position = request.POST.get("position")
        if position not in POSITIONS:
            return self._move_refused(
                request, 400, f"Unknown position {position!r}; use {', '.join(POSITIONS)}."
            )
        try:
            category_id = int(request.POST.get("cut_item", ""))
            target_id = int(request.POST.get("pasted_on", ""))
        except ValueError:
            return self._move_refused(request, 400, "Say which category moves, and where to.")
        category = self.get_queryset(request).filter(pk=category_id).first()
        if not self.has_change_permission(request, category):
            return self._move_refused(request, 403, "You may not move categories.")
        try:
            with transaction.atomic():
                if category is None:
                    raise CategoryNotFound(f"Category with id [{category_id}] not found.")
                before = category.parent_id
                moved = category_move(
                    category_id=category_id, target={"id": target_id}, position=position
                )
                field = "parent" if moved.parent_id != before else "position"
                self.log_change(request, moved, [{"changed": {"fields": [field]}}])
        except ApiError as error:
            return self._move_refused(request, error.status, error.message, error)
        where = f"under “{moved.parent}”" if moved.parent_id else "to the top level"
        self.message_user(request, f"“{moved}” moved {where}.", messages.SUCCESS)
        return JsonResponse(
            {"id": moved.pk, "parentId": moved.parent_id, "level": moved.level, "moved": True}
        )

    def _move_refused(self, request, status, message, error=None):
        self.message_user(request, message, messages.ERROR)
        body = {"moved": False, "messages": [message]}
        if error is not None:
            body["code"] = error.code
        return JsonResponse(body, status=status)

    # -- delete through the service ----------------------------------------------------------

    def delete_view(self, request, object_id, extra_context=None):
        """A refused delete (children, products or clusters remain) goes back to the form with
        the service's message; nothing was deleted (the admin's transaction rolled back)."""
        try:
            return super().delete_view(request, object_id, extra_context)
        except ApiError as error:
            return self._delete_refused(request, object_id, error)

    def render_delete_form(self, request, context):
        # Asked before confirming, so nobody confirms a delete the service will refuse.
        refusal = category_delete_refusal(context["object"])
        if refusal is not None:
            return self._delete_refused(request, context["object"].pk, refusal)
        return super().render_delete_form(request, context)

    def _delete_refused(self, request, object_id, error: ApiError):
        self.message_user(request, error.message, messages.ERROR)
        opts = self.model._meta
        if isinstance(error, CategoryNotFound):
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        else:
            url = reverse(
                f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(object_id)]
            )
        return HttpResponseRedirect(url)

    def get_deleted_objects(self, objs, request):
        """What goes with an (empty) category: its source links. Django's collector would walk
        every product and subcategory of the category to list them; the service refuses to
        delete those anyway."""
        deleted: list = []
        sources = 0
        for category in objs:
            links = [f"Source link: {s.source} {s.source_id}" for s in category.sources.all()]
            sources += len(links)
            deleted += [str(category), links] if links else [str(category)]
        counts = {Category._meta.verbose_name_plural: len(objs)}
        if sources:
            counts[CategorySource._meta.verbose_name_plural] = sources
        return deleted, counts, set(), []

    def delete_model(self, request, obj):
        category_delete(category_id=obj.pk)

    # -- saving through the service ----------------------------------------------------------

    def save_through_service(self, request, form, formsets, change):
        data = {name: form.cleaned_data[name] for name in SCALAR_FIELDS}
        data.update(self.localized_data(form))
        parent = form.cleaned_data.get("parent")
        data["parent"] = {"id": parent.pk} if parent else None
        sources = sources_data(formsets, CategorySource)
        if sources is not None:
            data["sources"] = sources
        if change:
            return category_update(category_id=form.instance.pk, data=cast(CategoryPatch, data))
        return category_create(data=cast(CategoryCreate, data))
