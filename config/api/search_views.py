"""The search routes of SPEC §13: ``POST /v2/<resource>/search`` for every registered surface,
``GET /v2/search`` (quick search across surfaces) and ``POST /v2/resolve``.

They live in ``config.api`` because they serve every resource without belonging to one: each
app registers its surface (``config.api.search.register_surface``) and resolve types
(``records.search.resolve.register_resolvers``) from its ``AppConfig.ready()``, so ``config.api``
never imports an app (the dependency direction holds) and a new resource, such as clusters, is
two ``register`` calls, not a new view.
"""

from __future__ import annotations

from typing import Any, ClassVar

from config.api import errors
from config.api.pagination import parse_page_size
from config.api.params import language_param
from config.api.responses import listing, ok
from config.api.routing import ApiView, Operation, QueryParam, api_path
from config.api.search import (
    SEARCH_SCOPES,
    SURFACE_NAMES,
    SearchSurface,
    quick_search,
    run_search,
    surfaces,
)
from config.api.views import body
from records.components import component
from records.filters import MAX_TERM_LENGTH, check_query_params, parse_language_param
from records.search.matching import Term
from records.search.resolve import MAX_RESOLVE_ITEMS, RESOLVE_BODY, resolve

SEARCH_ERRORS = (errors.SchemaValidationException, errors.PaginatedResponseException)


class SurfaceSearchView(ApiView):
    """``POST /v2/<surface>/search``; one subclass per registered surface."""

    tag = "Search"
    surface: ClassVar[SearchSurface]

    def post(self, request):
        result = run_search(self.surface, body(request, self.operations["POST"].request))
        return listing(result.page, result.data, links=False)


def surface_search_view(surface: SearchSurface) -> type[SurfaceSearchView]:
    operation = Operation(
        SEARCH_SCOPES,
        f"Search {surface.name}: list filters, term, attribute filters, sort objects",
        request=surface.body(),
        response=surface.item_schema,
        many=True,
        errors=SEARCH_ERRORS,
    )
    return type(
        f"{surface.label}SearchView",
        (SurfaceSearchView,),
        {"surface": surface, "operations": {"POST": operation}, "__module__": __name__},
    )


@component("SearchHit")
def _hit() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type", "id", "name", "score"],
        "properties": {
            "type": {"type": "string", "enum": ["product", "cluster", "category"]},
            "id": {"type": "integer"},
            "name": {"type": ["string", "null"]},
            "score": {"type": "number"},
        },
        "additionalProperties": False,
    }


def _hit_schema() -> dict[str, Any]:
    return {"type": "array", "items": _hit()}


GLOBAL_PARAMS = ("q", "types", "pageSize", "language")


class GlobalSearchView(ApiView):
    tag = "Search"
    operations = {
        "GET": Operation(
            SEARCH_SCOPES,
            "Quick search across products, clusters and categories (best hits first)",
            response=_hit_schema,
            query=(
                QueryParam(
                    "q",
                    {"type": "string", "minLength": 1, "maxLength": MAX_TERM_LENGTH},
                    "The term (same matching as the search bodies' term).",
                    required=True,
                ),
                QueryParam(
                    "types",
                    {
                        "type": "string",
                        "pattern": rf"^({'|'.join(SURFACE_NAMES)})(,({'|'.join(SURFACE_NAMES)}))*$",
                    },
                    "Comma-separated surfaces; default all.",
                ),
                QueryParam(
                    "pageSize",
                    {"type": "integer", "minimum": 1, "maximum": 500},
                    "Number of hits, 1-500, default 50.",
                ),
                language_param(),
            ),
            errors=SEARCH_ERRORS,
        )
    }

    def get(self, request):
        params = request.query_params
        check_query_params(params, GLOBAL_PARAMS)
        term = Term.parse(params.get("q"), name="q")
        if term is None:
            raise errors.SchemaValidationException(fields={"q": ["A search term is required."]})
        wanted = [t.strip() for t in params.get("types", "").split(",") if t.strip()]
        bad = [t for t in wanted if t not in SURFACE_NAMES]
        if bad:
            raise errors.SchemaValidationException(
                fields={
                    "types": [f"Unknown type(s) {', '.join(bad)}; use {', '.join(SURFACE_NAMES)}."]
                }
            )
        selected = [s for s in surfaces() if not wanted or s.name in wanted]
        size = parse_page_size(params.get("pageSize"))
        return ok(quick_search(term, selected, size, parse_language_param(params)))


@component("ResolveAnswer")
def _answer() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["index", "found"],
        "properties": {
            "index": {"type": "integer"},
            "found": {"type": "boolean"},
            "id": {"type": "integer", "description": "When exactly one record matches."},
            "ids": {
                "type": "array",
                "items": {"type": "integer"},
                "description": "When several records match (ascending).",
            },
        },
        "additionalProperties": False,
    }


def _answer_schema() -> dict[str, Any]:
    return {"type": "array", "items": _answer()}


class ResolveView(ApiView):
    tag = "Search"
    operations = {
        "POST": Operation(
            SEARCH_SCOPES,
            f"Resolve up to {MAX_RESOLVE_ITEMS} identifiers to internal ids, in order",
            request=RESOLVE_BODY,
            response=_answer_schema,
            errors=(errors.SchemaValidationException, errors.BulkLimitExceeded),
        )
    }

    def post(self, request):
        items = request.data.get("items") if isinstance(request.data, dict) else None
        if isinstance(items, list) and len(items) > MAX_RESOLVE_ITEMS:
            raise errors.BulkLimitExceeded(
                f"{len(items)} items; /v2/resolve takes at most {MAX_RESOLVE_ITEMS}."
            )
        return ok(resolve(body(request, RESOLVE_BODY)["items"]))


def urlpatterns() -> list:
    """The search routes of every registered surface, plus global search and resolve."""
    patterns = [
        api_path(
            f"{surface.name}/search", surface_search_view(surface), f"{surface.hit_type}-search"
        )
        for surface in surfaces()
    ]
    patterns += [
        api_path("search", GlobalSearchView, "global-search"),
        api_path("resolve", ResolveView, "resolve"),
    ]
    return patterns
