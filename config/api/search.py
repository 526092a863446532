"""Search surfaces (SPEC §13): one resource's ``POST /v2/<name>/search`` and its part of
``GET /v2/search`` — the JSON search body over the list's filters, sorting and paging. The
engine (search document, matching, relevance, resolve) is the kernel's, in ``records.search``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import django_filters
from django.db.models import Model, QuerySet

from config.api.errors import SchemaValidationException
from config.api.pagination import Page, cursor_context, paginate
from records.components import named
from records.filters import (
    MAX_ROW_ID,
    MAX_TERM_LENGTH,
    CommaCharFilter,
    CommaIntegerFilter,
    RecordFilterSet,
    StrictBooleanFilter,
    filter_queryset,
)
from records.localized import languages
from records.search.matching import Term, term_condition
from records.search.relevance import relevance
from records.validation import Bool, Choice, Field, Int, Language, ListOf, Obj, Str

SEARCH_SCOPES = ("search:read",)
# The search surfaces of SPEC §13, in the spec's order.
SURFACE_NAMES = ("products", "clusters", "categories")


class PageSizeField(Field):
    """``pageSize`` passes through; the paginator answers a bad one with 10015, as on lists."""

    json_type = "integer"

    def openapi(self) -> dict:
        return {"type": "integer", "minimum": 1, "maximum": 500, "description": "Default 50."}


def _filter_field(name: str, filter_: django_filters.Filter) -> Field:
    """The JSON body field of one list filter: arrays for comma lists, booleans for flags."""
    if isinstance(filter_, CommaIntegerFilter):
        return ListOf(Int(minimum=1, maximum=MAX_ROW_ID), max_items=1000, min_items=1)
    if isinstance(filter_, CommaCharFilter):
        return ListOf(Str(min_length=1, max_length=255), max_items=100, min_items=1)
    if isinstance(filter_, StrictBooleanFilter):
        return Bool()
    if isinstance(filter_, django_filters.IsoDateTimeFilter):
        return Str(max_length=64, format="date-time", description="ISO 8601 date-time.")
    if isinstance(filter_, django_filters.NumberFilter):  # the bounds its form field checks
        return Int(minimum=filter_.extra.get("min_value", 0), maximum=filter_.extra["max_value"])
    if name == "q":
        return Str(min_length=1, max_length=MAX_TERM_LENGTH)
    return Str(min_length=1, max_length=255)


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list):
        return ",".join(_param(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class SearchSurface:
    """One resource's ``POST /v2/<name>/search`` and its part of ``GET /v2/search``.

    The body accepts every filter of ``filterset`` (the list's filters, in JSON form), the
    ``extra_fields`` (``extra_params`` among them are handed to the FilterSet as parameters,
    the others to ``refine``), plus ``term``, ``sort``, ``pageSize``, ``cursor``, ``withCount``
    and ``language``.
    """

    name: str  # "products": the URL segment and the ``types`` value of /v2/search
    hit_type: str  # "product": the ``type`` of global search hits
    label: str  # "Product"
    model: type[Model]
    filterset: type[RecordFilterSet]
    sorts: Mapping[str, str]
    output_queryset: Callable[[], QuerySet]
    represent: Callable[[list[Any], str | None], list[dict[str, Any]]]
    schema: Callable[[], dict[str, Any]]
    code_columns: tuple[str, ...] = ()
    extra_fields: Mapping[str, Field] = field(default_factory=dict)
    extra_params: tuple[str, ...] = ()
    field_overrides: Mapping[str, Field] = field(default_factory=dict)
    refine: Callable[[QuerySet, dict[str, Any]], QuerySet] | None = None
    #: recomputes ``search_text`` of the given ids set-based (``rebuild_search_text``)
    refresh: Callable[[list[int]], int] | None = None

    def filter_names(self) -> list[str]:
        return list(self.filterset.base_filters)

    def body(self) -> Obj:
        fields: dict[str, Field] = {
            name: self.field_overrides.get(name) or _filter_field(name, filter_)
            for name, filter_ in self.filterset.base_filters.items()
        }
        fields.update(self.extra_fields)
        sort_item = Obj(
            {
                "field": Choice(["relevance", *self.sorts]),
                "order": Choice(["asc", "desc"], description="Default: desc for relevance."),
            },
            required=("field",),
            name=f"{self.label}SearchSort",
        )
        fields.update(
            {
                "term": Str(
                    max_length=MAX_TERM_LENGTH,
                    description="Full text over names, descriptions, codes and source ids in "
                    "every language; case- and accent-insensitive; tolerates a small typo.",
                ),
                "sort": ListOf(sort_item, max_items=len(self.sorts) + 1),
                "pageSize": PageSizeField(),
                "cursor": Str(max_length=4096, description="nextCursor/previousCursor."),
                "withCount": Bool(),
                "language": Language(description="Narrow every localized array."),
            }
        )
        return Obj(fields, rules=(self._relevance_needs_a_term(),), name=f"{self.label}Search")

    def _relevance_needs_a_term(self) -> dict[str, Any]:
        """Sorting by ``relevance`` needs a (non-blank) ``term``: either the term is there or
        every sort field is a plain one (enforced by ``_sort_string``)."""
        return {
            "anyOf": [
                {"required": ["term"], "properties": {"term": {"pattern": r"\S"}}},
                {
                    "properties": {
                        "sort": {"items": {"properties": {"field": {"enum": list(self.sorts)}}}}
                    }
                },
            ]
        }

    def item_schema(self) -> dict[str, Any]:
        """A found record: the representation (``schema``, a named component) and ``relevance``."""
        return named(f"{self.label}SearchResult", self._item_schema, owner=self)

    def _item_schema(self) -> dict[str, Any]:
        schema = self.schema.build()  # type: ignore[attr-defined]
        schema["properties"]["relevance"] = {
            "type": "number",
            "description": "Present when the search has a term; higher is better.",
        }
        return schema


def _sort_string(sort: list[dict] | None, term: Term | None) -> str | None:
    if not sort:
        return "-relevance,id" if term else None
    parts = []
    for index, item in enumerate(sort):
        name = item["field"]
        if name == "relevance" and term is None:
            raise SchemaValidationException(
                fields={f"sort[{index}].field": ["Sorting by relevance needs a term."]}
            )
        order = item.get("order") or ("desc" if name == "relevance" else "asc")
        parts.append(f"-{name}" if order == "desc" else name)
    return ",".join(parts)


@dataclass
class SearchQuery:
    """A search body turned into a queryset: filtered, matched and annotated, not yet paged."""

    queryset: QuerySet
    term: Term | None
    sort: str | None
    sorts: dict[str, str]


def search_query(surface: SearchSurface, body: dict[str, Any]) -> SearchQuery:
    """Filters (the list's FilterSet over the body's filters), attribute refinements, the term
    condition and the ``relevance`` annotation of one surface, from a validated search body."""
    term = Term.parse(body.get("term"))
    if term is not None:
        term = term.corrected(cursor_context(body.get("cursor")))
    params: dict[str, str] = {}
    for name in [*surface.filter_names(), *surface.extra_params]:
        if name in body:  # list filters hold at least one value (validated with the body)
            params[name] = _param(body[name])
    queryset = filter_queryset(
        surface.filterset, params, surface.output_queryset(), extra_params=surface.extra_params
    )
    if surface.refine is not None:
        queryset = surface.refine(queryset, body)
    sorts = dict(surface.sorts)
    if term is not None:
        queryset = queryset.filter(term_condition(term)).annotate(
            relevance=relevance(term, surface.code_columns)
        )
        sorts["relevance"] = "relevance"
    return SearchQuery(queryset, term, _sort_string(body.get("sort"), term), sorts)


@dataclass
class SearchResult:
    page: Page
    data: list[dict[str, Any]]


def run_search(surface: SearchSurface, body: dict[str, Any]) -> SearchResult:
    """One page of a surface's search, rendered (``relevance`` added when there is a term)."""
    query = search_query(surface, body)
    page = paginate(
        query.queryset,
        sort=query.sort,
        allowed_sorts=query.sorts,
        page_size=body.get("pageSize"),
        cursor=body.get("cursor"),
        with_count=body.get("withCount", False),
        context=query.term.pin() if query.term else None,
    )
    data = surface.represent(page.rows, body.get("language"))
    if query.term is not None:
        for item, row in zip(data, page.rows, strict=True):
            item["relevance"] = round(row.relevance, 4)
    return SearchResult(page=page, data=data)


def quick_search(
    term: Term, surfaces: list[SearchSurface], size: int, language: str | None
) -> list[dict[str, Any]]:
    """``GET /v2/search``: the best ``size`` hits across ``surfaces``, one query per surface
    (plus one vocabulary lookup on PostgreSQL when the term has typo-tolerant words)."""
    term = term.corrected()
    names = [f"name_{code}" for code in languages()]
    hits: list[dict[str, Any]] = []
    for surface in surfaces:
        rows = (
            surface.model.objects.filter(term_condition(term))
            .annotate(relevance=relevance(term, surface.code_columns))
            .order_by("-relevance", "id")
            .values("id", "language", "relevance", *names)[:size]
        )
        for row in rows:
            name = (language and row[f"name_{language}"]) or row[f"name_{row['language']}"]
            hits.append(
                {
                    "type": surface.hit_type,
                    "id": row["id"],
                    "name": name,
                    "score": round(row["relevance"], 4),
                    "_rank": (-row["relevance"], SURFACE_NAMES.index(surface.name), row["id"]),
                }
            )
    hits.sort(key=lambda hit: hit.pop("_rank"))
    return hits[:size]


_SURFACES: dict[str, SearchSurface] = {}


def register_surface(surface: SearchSurface) -> None:
    """Called from an app's ``AppConfig.ready()``: adds its search surface."""
    if surface.name not in SURFACE_NAMES:
        raise ValueError(f"Unknown search surface {surface.name!r}")
    _SURFACES[surface.name] = surface


def surfaces() -> list[SearchSurface]:
    """Registered surfaces in the spec's order."""
    return [_SURFACES[name] for name in SURFACE_NAMES if name in _SURFACES]
