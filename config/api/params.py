"""Query parameters shared by the routes, declared once for the views and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from config.api.pagination import DEFAULT_OFFSET, DEFAULT_PAGE_SIZE, MAX_OFFSET_ROWS, MAX_PAGE_SIZE
from config.api.routing import QueryParam
from records.filters import MAX_ROW_ID, MAX_TERM_LENGTH, REFERENCE_EXPANDS
from records.validation import MAX_ID

STRING = {"type": "string"}
#: one record id in a query parameter (``IdFilter``)
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID}
BOOL = {"type": "string", "enum": ["true", "false"]}
#: ``q``: text matched in names (and codes), bounded like a search term
TERM = {"type": "string", "maxLength": MAX_TERM_LENGTH}
DATETIME = {"type": "string", "format": "date-time"}
#: a numeric id in a path (``…/products/{product_id}``): the URL takes digits only
IDS_PARAM = QueryParam(
    "ids", {"type": "string", "pattern": r"^\d{1,18}(,\d{1,18})*$"}, "Comma-separated ids."
)
ID_PATH: dict[str, Any] = {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID}


def language_param() -> QueryParam:
    return QueryParam(
        "language",
        {"type": "string", "enum": list(settings.CATALOGUE_LANGUAGES)},
        "Narrow every localized array to this language (upper case accepted too).",
        any_case=True,
    )


def sort_pattern(sorts: list[str]) -> str:
    """Comma-separated fields, each optionally ``-``, none named twice (the lookahead refuses a
    field that comes back later in the list, in either direction)."""
    field = f"-?({'|'.join(sorts)})"
    repeated = rf"(?!(.*,)?-?({'|'.join(sorts)})(,.*)?,-?\2(,|$))"
    return rf"^{repeated}{field}(,{field})*$"


def paging_params(sorts: list[str]) -> tuple[QueryParam, ...]:
    return (
        QueryParam(
            "pageSize",
            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            f"1-{MAX_PAGE_SIZE}, default {DEFAULT_PAGE_SIZE}",
        ),
        QueryParam(
            "cursor", {"type": "string", "minLength": 1}, "Opaque cursor from next/previous."
        ),
        QueryParam(
            "sort",
            {"type": "string", "pattern": sort_pattern(sorts)},
            f"Comma-separated fields, '-' for descending: {', '.join(sorts)}.",
        ),
        QueryParam("withCount", BOOL, "Add pagination.total."),
        QueryParam(
            "page",
            {"type": "integer", "minimum": 1, "maximum": MAX_OFFSET_ROWS},
            "Reference paging: 1-based page number (not with pageSize/cursor); answers "
            f"pagination.page/offset/start/end/total; page × offset at most {MAX_OFFSET_ROWS}.",
        ),
        QueryParam(
            "offset",
            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            f"Reference paging: the page size of page paging, default {DEFAULT_OFFSET}.",
        ),
    )


def expands_param(expands: tuple[str, ...], description: str) -> QueryParam:
    """``expands``: a comma-separated list of ``expands`` and the reference API's no-op ones."""
    name = f"({'|'.join((*expands, *REFERENCE_EXPANDS))})"
    return QueryParam(
        "expands",
        {"type": "string", "pattern": f"^{name}(,{name})*$"},
        f"Comma-separated: {description}. {' and '.join(REFERENCE_EXPANDS)} are accepted as "
        "the reference API names them and change nothing: reads always carry every language "
        "and the sources.",
    )


def record_filter_params() -> tuple[QueryParam, ...]:
    return (
        IDS_PARAM,
        QueryParam("source", STRING),
        QueryParam("sourceId", STRING),
        QueryParam("hidden", BOOL),
        QueryParam("q", TERM, "Text over names and codes."),
        QueryParam("createdAtFrom", DATETIME, "Inclusive."),
        QueryParam("createdAtTo", DATETIME, "Exclusive."),
        QueryParam("lastModifiedAtFrom", DATETIME, "Inclusive."),
        QueryParam("lastModifiedAtTo", DATETIME, "Exclusive."),
    )


def lookup_params(*extra: str) -> tuple[QueryParam, ...]:
    return tuple(QueryParam(name, STRING, f"Disambiguates the lookup ({name}).") for name in extra)
