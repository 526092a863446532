"""The back office toolkit every catalogue admin shares (SPEC §15).

One place for what keeps ``/admin/`` fast at a million rows and honest about the API's rules:

- ``EstimatedCountPaginator``: PostgreSQL's planner estimate instead of ``COUNT(*)`` on large lists.
- ``IndexedChangeList``: the ``pk`` tie-breaker follows the sort direction, so the composite
  ``(column, id)`` indexes serve ``ORDER BY … LIMIT`` directly.
- ``RecordAdmin``: list defaults (no full counts, no facets, bounded pages), search over names in
  every language, codes and source ids, and saves that go through the app's services, with any
  ``ApiError`` shown as a form error instead of a 500.
- ``TranslatedRecordAdmin``: one tab per catalogue language (modeltranslation), the record's
  default-language name marked required, the API's field validators on the form.
- ``SourceListFilter``: filter by upstream source without scanning the link table.
- ``RelatedAutocompleteFilter`` / ``autocomplete_filter``: filter by one related record picked
  with the admin's autocomplete (a cluster, a cluster config), never listing them all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import EmptyResultSet, ValidationError
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.forms.models import BaseModelFormSet
from django.template.response import TemplateResponse
from django.utils.functional import cached_property
from django.utils.text import smart_split, unescape_string_literal
from modeltranslation.admin import TabbedTranslationAdmin

from changes.admin import ChangeHistoryAdmin
from config.api.errors import ApiError, DefaultTranslationRequired
from records import validation
from records.filters import MAX_ROW_ID, text_condition
from records.localized import SlugValue, column

admin.site.site_header = "Catalogue back office"
admin.site.site_title = "Catalogue back office"
admin.site.index_title = "Catalogue"

#: Below this many (estimated) rows a list is counted exactly; above it the estimate is shown.
EXACT_COUNT_LIMIT = 10_000


def planner_estimate(queryset: QuerySet) -> int:
    """The number of rows PostgreSQL's planner expects ``queryset`` to return (no rows are read).

    For an unfiltered table this is ``pg_class.reltuples`` scaled to the table's current size; for a
    filtered list it is the planner's selectivity estimate from the column statistics.
    """
    query = queryset.order_by().query
    try:
        sql, params = query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:  # e.g. queryset.none(): nothing to ask the planner
        return 0
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):  # psycopg parses json; other adapters may not
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def estimated_count(queryset: QuerySet, exact_below: int = EXACT_COUNT_LIMIT) -> tuple[int, bool]:
    """``(count, is_estimate)``: exact for small results and on SQLite, estimated otherwise."""
    if connections[queryset.db].vendor != "postgresql":
        return queryset.count(), False
    estimate = planner_estimate(queryset)
    if estimate < exact_below:
        return queryset.count(), False
    return estimate, True


class EstimatedCountPaginator(Paginator):
    """A paginator whose ``count`` never scans a large table (``is_estimate`` tells the template)."""

    is_estimate = False

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return super().count
        count, self.is_estimate = estimated_count(self.object_list)
        return count

    @property
    def count_display(self) -> str:
        return f"{self.count:,}"


class StrictChangeList(ChangeList):
    """Refuses a query parameter holding U+0000 (PostgreSQL cannot compare text with it: a
    500 in a field's list filter or the search) with the change list's invalid-filter answer."""

    def get_filters(self, request):
        if any("\x00" in value for _, values in request.GET.lists() for value in values):
            raise IncorrectLookupParameters("A parameter holds the NUL character.")
        return super().get_filters(request)


class StrictAdmin(admin.ModelAdmin):
    """A plain model admin whose change list refuses NUL like the records' (``StrictChangeList``)."""

    def get_changelist(self, request, **kwargs):
        return StrictChangeList


class SuperuserOnly:
    """Every permission of the admin for superusers only (API clients, webhooks)."""

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request, *args):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class IndexedChangeList(StrictChangeList):
    """Orders ties by ``pk`` in the direction of the main sort column.

    Django appends ``-pk`` to every non-unique ordering; ``ORDER BY sku ASC, id DESC`` cannot walk
    the ``(sku, id)`` index, ``ORDER BY sku ASC, id ASC`` can (and stops after one page).
    """

    def get_ordering(self, request, queryset):
        ordering = super().get_ordering(request, queryset)
        first = ordering[0] if ordering else None
        if not isinstance(first, str):
            return ordering
        pk_names = {"pk", self.lookup_opts.pk.name, self.lookup_opts.pk.attname}
        if first.lstrip("-") in pk_names:
            return [first]
        # Nothing after the first pk matters (it is unique): keep the columns before it and break
        # their ties by pk in the main column's direction.
        for index, part in enumerate(ordering):
            if isinstance(part, str) and part.lstrip("-") in pk_names:
                ordering = ordering[:index]
                break
        return [*ordering, "-pk" if first.startswith("-") else "pk"]


def api_validator(field: validation.Field) -> Callable[[Any], None]:
    """A form validator running one of the API's field validators, so both share one rule."""

    def validate(value: Any) -> None:
        if value in (None, ""):
            return
        errors: validation.Errors = {}
        field.clean(value, "value", errors)
        if errors:
            raise ValidationError([message for messages in errors.values() for message in messages])

    return validate


def filter_row_id(parameter_name: str, raw: str) -> int:
    """The record id a list filter parameter names: ASCII digits, 1 to ``MAX_ROW_ID``. Anything
    else (``²`` passes ``isdigit()`` and fails ``int()``; 30 digits overflow the database) is
    ``IncorrectLookupParameters``, which the change list answers with its invalid-filter page."""
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_ROW_ID:
        raise IncorrectLookupParameters(f"{parameter_name} must be a record id")
    return int(raw)


def record_text_condition(term: str, *, code_columns: Iterable[str], source_model, owner: str) -> Q:
    """One search word: the API's ``q`` condition (names in every language, code columns) or a
    source link with that exact source id."""
    links = source_model.objects.filter(**{owner: OuterRef("pk"), "source_id": term})
    return text_condition(term, code_columns) | Q(Exists(links))


class SourceListFilter(admin.SimpleListFilter):
    """Records linked to one upstream source (``?source=ERP``), for any model with ``sources``.

    The choices come from a loose index scan of the ``(source, source_id)`` unique index: one index
    probe per distinct source, never a scan of millions of links.
    """

    title = "source"
    parameter_name = "source"
    max_sources = 100

    def _links(self, model):
        relation = model._meta.get_field("sources")
        return relation.related_model, relation.field.name

    def lookups(self, request, model_admin):
        link_model, _ = self._links(model_admin.model)
        connection = connections[link_model.objects.db]
        table = connection.ops.quote_name(link_model._meta.db_table)
        sql = f"""
            WITH RECURSIVE s(source) AS (
                SELECT (SELECT source FROM {table} ORDER BY source LIMIT 1)
                UNION ALL
                SELECT (SELECT source FROM {table} WHERE source > s.source ORDER BY source LIMIT 1)
                FROM s WHERE s.source IS NOT NULL
            )
            SELECT source FROM s WHERE source IS NOT NULL LIMIT %s
        """
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.max_sources])
            return [(row[0], row[0]) for row in cursor.fetchall()]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        link_model, owner = self._links(queryset.model)
        links = link_model.objects.filter(**{owner: OuterRef("pk"), "source": self.value()})
        return queryset.filter(Exists(links))


class RelatedAutocompleteFilter(admin.ListFilter):
    """Rows related to one record picked with the admin's autocomplete (``?<parameter>=<id>``).

    ``path`` leads from the listed model to the record (``cluster_membership__cluster``); its last
    step is a foreign key whose target admin has ``search_fields``, and that key feeds the
    autocomplete widget. The sidebar renders only the chosen record, never the whole table, and
    the filter is one indexed join on ``path``. Build one with ``autocomplete_filter()``.
    """

    template = "admin/autocomplete_filter.html"
    title = ""
    parameter_name = ""
    path = ""
    #: the widget's placeholder; "Type a <verbose name of the target>" unless told
    placeholder = ""

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        raw = params.pop(self.parameter_name, None)
        self.value = (raw[-1] if isinstance(raw, list) else raw) or None
        self.relation = relation_field(model, self.path)
        target = self.relation.related_model
        self.chosen = None
        if self.value is not None:
            pk = filter_row_id(self.parameter_name, self.value)
            self.used_parameters[self.parameter_name] = self.value
            self.chosen = target._default_manager.filter(pk=pk).first()
        self.widget = AutocompleteSelect(
            self.relation,
            model_admin.admin_site,
            attrs={
                "data-placeholder": self.placeholder or f"Type a {target._meta.verbose_name}",
                "style": "width: 100%",
            },
        )
        self.media = self.widget.media
        self.kept_params: list[tuple[str, str]] = []

    @property
    def field(self) -> str:
        """The rendered autocomplete (``spec.field`` in the template)."""
        form_field = forms.ModelChoiceField(
            self.relation.related_model._default_manager.all(), widget=self.widget
        )
        return form_field.widget.render(
            self.parameter_name,
            self.chosen.pk if self.chosen else None,
            attrs={"id": f"filter_{self.parameter_name}"},
        )

    def has_output(self):
        return True

    def expected_parameters(self):
        return [self.parameter_name]

    def queryset(self, request, queryset):
        if self.value is None:
            return queryset
        return queryset.filter(**{self.path: int(self.value)})

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
                "display": str(self.chosen) if self.chosen else f"#{self.value} (not found)",
            }


def relation_field(model, path: str):
    """The foreign key at the end of ``path`` (``cluster_membership__cluster`` on Product is
    ``ClusterProduct.cluster``); intermediate steps may be reverse relations."""
    field = None
    for name in path.split("__"):
        field = model._meta.get_field(name)
        model = field.related_model
    if field is None or not getattr(field, "many_to_one", False):
        raise ValueError(f"{path!r} does not end in a foreign key")
    return field


def autocomplete_filter(path: str, *, title: str, parameter_name: str) -> type:
    """A ``RelatedAutocompleteFilter`` for ``path`` (used in ``list_filter``)."""
    name = "".join(part.title() for part in parameter_name.split("_")) + "AutocompleteFilter"
    return type(
        name,
        (RelatedAutocompleteFilter,),
        {"path": path, "title": title, "parameter_name": parameter_name},
    )


#: Words of an admin search that are matched (each is an OR over every name column, the code
#: columns and the source ids): the statement grows with every word, and a pasted paragraph
#: kept a worker busy for over a minute (issue 15).
MAX_ADMIN_SEARCH_WORDS = 10


def admin_search_words(request, search_term: str) -> list[str]:
    """The first ``MAX_ADMIN_SEARCH_WORDS`` words of an admin search (quoted phrases are one
    word), unquoted; a warning tells the user when the rest was left out."""
    words = []
    for bit in smart_split(search_term):
        if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
            bit = unescape_string_literal(bit)
        words.append(bit)
    if len(words) > MAX_ADMIN_SEARCH_WORDS and request is not None:
        messages.warning(
            request,
            f"Only the first {MAX_ADMIN_SEARCH_WORDS} words were searched for; "
            f"“{' '.join(words[MAX_ADMIN_SEARCH_WORDS:])[:100]}” was left out.",
        )
    return words[:MAX_ADMIN_SEARCH_WORDS]


class RecordAdmin(ChangeHistoryAdmin):
    """List and save defaults of every catalogue record admin.

    Subclasses implement ``save_through_service(request, form, formsets, change)`` returning the
    saved instance; the admin's own ``save()`` calls never run, so the API's rules (validation,
    slugs, version bump only on change, tree lock) apply to every back-office write.
    """

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts are one COUNT per choice
    list_per_page = 50
    list_max_show_all = 200
    ordering = ("-pk",)
    search_help_text = "Name in any language, code or source id; words are combined."
    #: columns searched besides names (``icontains``)
    search_code_columns: tuple[str, ...] = ()

    def get_changelist(self, request, **kwargs):
        return IndexedChangeList

    def get_search_results(self, request, queryset, search_term):
        """Every word must match a name (any language), a code column or a source id; words
        past ``MAX_ADMIN_SEARCH_WORDS`` are left out, with a message saying so."""
        if not search_term:
            return queryset, False
        relation = self.model._meta.get_field("sources")
        for bit in admin_search_words(request, search_term):
            queryset = queryset.filter(
                record_text_condition(
                    bit,
                    code_columns=self.search_code_columns,
                    source_model=relation.related_model,
                    owner=relation.field.name,
                )
            )
        return queryset, False

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        # Filters with widgets (category autocomplete) bring their own scripts.
        context = response.context_data if isinstance(response, TemplateResponse) else None
        if context and "cl" in context:
            for spec in context["cl"].filter_specs:
                if getattr(spec, "media", None):
                    context["media"] += spec.media
        return response

    # -- saving through the services -------------------------------------------------------

    def save_through_service(self, request, form, formsets, change):
        raise NotImplementedError("RecordAdmin subclasses save through their app's services")

    def save_model(self, request, obj, form, change):
        """Nothing here: the service writes the record and its inlines together in save_related."""

    def save_related(self, request, form, formsets, change):
        saved = self.save_through_service(request, form, formsets, change)
        instance = form.instance
        for field in instance._meta.concrete_fields:
            setattr(instance, field.attname, getattr(saved, field.attname))
        instance._state.adding, instance._state.db = False, saved._state.db
        for formset in formsets:  # the service wrote the inline rows
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def construct_change_message(self, request, form, formsets, add=False):
        if add:
            return [{"added": {}}]
        fields = list(form.changed_data)
        fields += [str(fs.model._meta.verbose_name_plural) for fs in formsets if fs.has_changed()]
        return [{"changed": {"fields": fields}}] if fields else []

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A business rule refused by the service shows on the re-displayed form, not as a 500.

        The failed attempt is rolled back by the admin's transaction; the form is then processed
        once more from the same POST with the service's error attached.
        """
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApiError as error:
            if request.method != "POST" or hasattr(request, "_service_error"):
                raise
            request._service_error = error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def service_error_field(self, error: ApiError, form: forms.Form) -> str | None:
        """The form field a service error belongs to (None: shown above the form)."""
        if isinstance(error, DefaultTranslationRequired):
            name = column("name", form.cleaned_data.get("language") or "")
            return name if name in form.fields else None
        return None

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        error = getattr(request, "_service_error", None)
        if error is None:
            return form_class
        admin_ = self

        class WithServiceError(form_class):
            def clean(self):
                cleaned = super().clean()
                self.add_error(admin_.service_error_field(error, self), error.message)
                return cleaned

        return WithServiceError

    def get_actions(self, request):
        # Deleting goes through the service one record at a time; the stock bulk delete would
        # list every selected row and its relations on its confirmation page.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class TranslatedRecordForm(forms.ModelForm):
    """Language as a choice, the record's default-language name required, API validators on
    slugs and canonical URLs."""

    language = forms.ChoiceField(
        choices=[(code, code.upper()) for code in settings.CATALOGUE_LANGUAGES],
        help_text="The record's default language: its name is required in this language.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.initial.setdefault("language", settings.CATALOGUE_DEFAULT_LANGUAGE)
        language = (self.data.get(self.add_prefix("language")) if self.is_bound else None) or (
            self.initial.get("language") or self.instance.language
        )
        for code in settings.CATALOGUE_LANGUAGES:
            name = self.fields.get(column("name", code))
            if name is not None:
                name.required = code == language
            slug = self.fields.get(column("slug", code))
            if slug is not None:
                slug.validators.append(api_validator(SlugValue()))
                slug.help_text = "Generated from the name when empty; stays when the name changes."
            url = self.fields.get(column("metadata_canonical_url", code))
            if url is not None:
                url.validators.append(api_validator(validation.Url()))


class TranslatedRecordAdmin(RecordAdmin, TabbedTranslationAdmin):
    """A record admin with one tab per catalogue language for every localized field."""

    form = TranslatedRecordForm
    readonly_fields = ("id", "version", "created_at", "last_modified_at")

    def localized_data(self, form) -> dict[str, dict[str, str | None]]:
        """The service's per-language input: every language of every localized form field."""
        data: dict[str, dict[str, str | None]] = {}
        for base in self.trans_opts.fields:
            for code in settings.CATALOGUE_LANGUAGES:
                name = column(base, code)
                if name in form.cleaned_data:
                    value = form.cleaned_data[name]
                    value = value.strip() if isinstance(value, str) else value
                    data.setdefault(base, {})[code] = value or None
        return data


def formset_rows(formsets: Iterable[BaseModelFormSet], model) -> list[dict[str, Any]] | None:
    """The cleaned rows of ``model``'s inline formset, in form order, without deleted or blank
    extra forms; None when the admin shows no such inline."""
    for formset in formsets:
        if formset.model is model:
            return [
                form.cleaned_data
                for form in formset.forms
                if form.cleaned_data
                and not form.cleaned_data.get("DELETE")
                and (form.instance.pk or form.has_changed())
            ]
    return None


def sources_data(formsets: Iterable[BaseModelFormSet], model) -> list[dict[str, str]] | None:
    """The full set of source links from the sources inline, in the API's shape (SPEC §7)."""
    rows = formset_rows(formsets, model)
    if rows is None:
        return None
    return [{"source": row["source"], "sourceId": row["source_id"]} for row in rows]


class SourceInline(admin.TabularInline):
    """Source links (``source`` + ``sourceId``) of a record; subclasses set ``model``."""

    fields = ("source", "source_id")
    extra = 0
    verbose_name = "source link"
    verbose_name_plural = "source links"
