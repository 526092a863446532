"""Keyset pagination over any client-chosen sort (SPEC §13).

Rows are ordered by the requested columns plus ``id`` as the final tie-breaker, so the order is
total. A cursor carries the sort and the boundary row's values; the next page is the rows strictly
after that boundary. A page deep in the table costs one index range scan, and walking every page
returns every row exactly once, even while rows are added.

The reference API's paging (SPEC §22), ``page`` (1-based) and ``offset`` (the page size, default
12), is the other mode of the same paginator (``paginate(page=…, offset=…)``): an ``OFFSET``
query with a count, bounded to the first ``MAX_OFFSET_ROWS`` rows because its cost grows with the
depth; cursors stay the way to walk a whole collection.

A sort column may also be an annotation of the queryset (the search ``relevance``): the boundary
test then compares the computed value, which is deterministic per row, so relevance pages never
skip or repeat a row either; it cannot use an index, so such a page costs the matching rows.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import orjson
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from rest_framework.request import Request

from config.api.errors import PaginatedResponseException, SchemaValidationException
from records.filters import as_utc, parse_bool_param
from records.validation import MAX_ID, MAX_JSON_DEPTH, NUL, nests_deeper

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
#: ``offset`` (the page size of ``page`` paging) when the client gives none, as the reference API
DEFAULT_OFFSET = 12
#: ``page`` paging reaches rows 1 to this; deeper pages are refused (10015): use cursors
MAX_OFFSET_ROWS = 10_000
#: the query parameters of each paging mode (one request uses one mode)
CURSOR_PARAMS = ("pageSize", "cursor")
OFFSET_PARAMS = ("page", "offset")


@dataclass(frozen=True)
class SortKey:
    column: str
    descending: bool

    @property
    def order(self) -> str:
        return f"-{self.column}" if self.descending else self.column


def parse_sort(value: str | None, allowed: Mapping[str, str]) -> list[SortKey]:
    """``sort=-priority,name`` → sort keys ending with ``id`` (the unique tie-breaker)."""
    keys: list[SortKey] = []
    for part in (value or "id").split(","):
        part = part.strip()
        name = part.lstrip("-")
        if name not in allowed:
            raise SchemaValidationException(
                f"Unknown sort field '{name}'.",
                fields={"sort": [f"Unknown sort field '{name}'; use one of {', '.join(allowed)}."]},
            )
        if any(k.column == allowed[name] for k in keys):
            raise SchemaValidationException(fields={"sort": [f"Field '{name}' appears twice."]})
        keys.append(SortKey(allowed[name], part.startswith("-")))
    if keys[-1].column != "id" and not any(k.column == "id" for k in keys):
        keys.append(SortKey("id", keys[-1].descending if len(keys) == 1 else False))
    if any(k.column == "id" for k in keys[:-1]):
        keys = keys[: [k.column for k in keys].index("id") + 1]
    return keys


def parse_page_size(raw: Any) -> int:
    return _positive("pageSize", raw, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def _positive(name: str, raw: Any, default: int, maximum: int) -> int:
    if raw in (None, ""):
        return default
    try:
        number = int(raw)
    except (TypeError, ValueError):
        number = 0
    if isinstance(raw, bool) or not 1 <= number <= maximum:
        raise PaginatedResponseException(
            f"{name} must be an integer from 1 to {maximum}.",
            fields={name: [f"Must be an integer from 1 to {maximum}."]},
        )
    return number


def encode_cursor(payload: dict) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def _decode(cursor: str) -> dict:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, orjson.JSONDecodeError) as exc:
        raise PaginatedResponseException(
            "The cursor is malformed.", fields={"cursor": ["Malformed cursor."]}
        ) from exc
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("v"), list)
        or nests_deeper(payload, MAX_JSON_DEPTH)
    ):
        raise PaginatedResponseException(
            "The cursor is malformed.", fields={"cursor": ["Malformed cursor."]}
        )
    return payload


def cursor_context(cursor: str | None) -> Any:
    """The ``context`` a cursor carries (None without a cursor or a context); 10015 if malformed."""
    return _decode(cursor).get("c") if cursor else None


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


@dataclass
class Page:
    rows: list
    page_size: int
    next_cursor: str | None
    previous_cursor: str | None
    total: int | None
    request: HttpRequest | None

    def link(self, cursor: str | None) -> str | None:
        if cursor is None or self.request is None:
            return None
        params = self.request.GET.copy()
        params["cursor"] = cursor
        return self.request.build_absolute_uri(f"{self.request.path}?{urlencode(params, True)}")

    def pagination(self, *, links: bool = True) -> dict:
        body = {
            "pageSize": self.page_size,
            "nextCursor": self.next_cursor,
            "previousCursor": self.previous_cursor,
            "next": self.link(self.next_cursor) if links else None,
            "previous": self.link(self.previous_cursor) if links else None,
        }
        if self.total is not None:
            body["total"] = self.total
        return body


@dataclass
class OffsetPage:
    """A page of ``page``/``offset`` paging: the reference API's ``pagination`` (positions are
    1-based; ``start`` and ``end`` are 0 on a page past the last row)."""

    rows: list
    page: int
    offset: int
    total: int

    def pagination(self, *, links: bool = True) -> dict:
        start = (self.page - 1) * self.offset + 1 if self.rows else 0
        return {
            "page": self.page,
            "offset": self.offset,
            "start": start,
            "end": start + len(self.rows) - 1 if self.rows else 0,
            "total": self.total,
        }


def _after(keys: list[SortKey], values: list[Any]) -> Q:
    """Rows strictly after ``values`` in the order of ``keys``.

    The leading ``c1 >= v1`` bound is redundant but lets the planner use a range scan on the
    ``(c1, id)`` index instead of evaluating the OR chain over the whole table.
    """
    condition = Q()
    equal = Q()
    for key, value in zip(keys, values, strict=True):
        op = "lt" if key.descending else "gt"
        condition |= equal & Q(**{f"{key.column}__{op}": value})
        equal &= Q(**{key.column: value})
    first = keys[0]
    bound = Q(**{f"{first.column}__{'lte' if first.descending else 'gte'}": values[0]})
    return bound & condition


def paginate(
    queryset: QuerySet,
    *,
    sort: str | None,
    allowed_sorts: Mapping[str, str],
    page_size: Any = None,
    cursor: str | None = None,
    with_count: bool = False,
    request: HttpRequest | None = None,
    context: Any = None,
    page: Any = None,
    offset: Any = None,
) -> Page | OffsetPage:
    """One page of ``queryset`` (``None``: a collection that holds nothing). ``context`` (JSON
    data) is carried in the cursors and must come back unchanged: a caller pins there the
    decisions its query was built from (the search's typo corrections), reading them back with
    ``cursor_context`` before building the next page.

    With ``page`` or ``offset`` it answers an ``OffsetPage`` instead (always counted);
    ``page_size`` or ``cursor`` beside them, or a page reaching past row ``MAX_OFFSET_ROWS``,
    → 10015."""
    keys = parse_sort(sort, allowed_sorts)
    if page is not None or offset is not None:
        if page_size is not None or cursor is not None:
            raise PaginatedResponseException(
                "page/offset paging cannot be combined with pageSize/cursor paging; use one.",
                fields={
                    name: ["Not with page/offset."]
                    for name, value in (("pageSize", page_size), ("cursor", cursor))
                    if value is not None
                },
            )
        return _offset_page(queryset, keys, page, offset)
    size = parse_page_size(page_size)
    if queryset is None:
        return Page([], size, None, None, 0 if with_count else None, request)
    sort_token = ",".join(k.order for k in keys)
    backwards = False
    if cursor:
        payload = _decode(cursor)
        if payload.get("s") != sort_token or len(payload["v"]) != len(keys):
            raise PaginatedResponseException(
                "The cursor belongs to a different sort order.",
                fields={"cursor": ["The cursor does not match the sort."]},
            )
        if payload.get("c") != context:
            raise PaginatedResponseException(
                "The cursor belongs to a different query.",
                fields={"cursor": ["The cursor does not match the query."]},
            )
        backwards = payload.get("d") == "p"
        values = [_typed(queryset, k.column, v) for k, v in zip(keys, payload["v"], strict=True)]
        walk = [SortKey(k.column, not k.descending) for k in keys] if backwards else keys
        base = queryset.filter(_after(walk, values))
    else:
        walk, base = keys, queryset
    total = queryset.count() if with_count else None
    rows = list(base.order_by(*(k.order for k in walk))[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    has_next = (not backwards and more) or (backwards and bool(rows))
    has_previous = (backwards and more) or (not backwards and bool(cursor) and bool(rows))

    def token(row: Any, direction: str) -> str:
        payload = {
            "s": sort_token,
            "d": direction,
            "v": [_plain(getattr(row, k.column)) for k in keys],
        }
        if context is not None:
            payload["c"] = context
        return encode_cursor(payload)

    return Page(
        rows=rows,
        page_size=size,
        next_cursor=token(rows[-1], "n") if has_next and rows else None,
        previous_cursor=token(rows[0], "p") if has_previous and rows else None,
        total=total,
        request=request,
    )


def _offset_page(
    queryset: QuerySet | None, keys: list[SortKey], page: Any, offset: Any
) -> OffsetPage:
    number = _positive("page", page, 1, MAX_OFFSET_ROWS)
    size = _positive("offset", offset, DEFAULT_OFFSET, MAX_PAGE_SIZE)
    if number * size > MAX_OFFSET_ROWS:
        raise PaginatedResponseException(
            f"page/offset paging reaches the first {MAX_OFFSET_ROWS} rows only (page {number} "
            f"of {size} ends at row {number * size}); walk deeper with cursor paging "
            "(pageSize and the nextCursor of each page).",
            fields={"page": [f"page × offset must be at most {MAX_OFFSET_ROWS}."]},
        )
    if queryset is None:
        return OffsetPage([], number, size, 0)
    start = (number - 1) * size
    rows = list(queryset.order_by(*(k.order for k in keys))[start : start + size])
    # the count is only needed when this page does not already show where the rows end
    total = start + len(rows) if 0 < len(rows) < size else queryset.count()
    return OffsetPage(rows, number, size, total)


def paginate_request(
    request: Request,
    queryset: QuerySet,
    allowed_sorts: Mapping[str, str],
    *,
    default_sort: str | None = None,
) -> Page | OffsetPage:
    """The page a list request's query parameters ask for, in either paging mode."""
    params = request.query_params
    return paginate(
        queryset,
        sort=params.get("sort") or default_sort,
        allowed_sorts=allowed_sorts,
        page_size=params.get("pageSize"),
        cursor=params.get("cursor"),
        with_count=parse_bool_param(params, "withCount"),
        request=request,
        page=params.get("page"),
        offset=params.get("offset"),
    )


def _typed(queryset: QuerySet, column: str, value: Any) -> Any:
    """The cursor value as the column's Python type; ``column`` may be an annotation (relevance)."""
    annotation = queryset.query.annotations.get(column)
    field = (
        annotation.output_field
        if annotation is not None
        else queryset.model._meta.get_field(column)
    )
    malformed = PaginatedResponseException(
        "The cursor is malformed.", fields={"cursor": ["Malformed cursor."]}
    )
    try:
        if field.get_internal_type() == "DateTimeField":
            # a forged offset past ±15:59 or a naive time reached PostgreSQL as is (500)
            return as_utc(datetime.fromisoformat(value))
        typed = field.to_python(value)
    except (TypeError, ValueError, Exception) as exc:  # noqa: BLE001 - any bad value is a bad cursor
        raise malformed from exc
    # a value no column can hold: null, an integer past a bigint (SQLite cannot bind it), an
    # infinite number, text with U+0000 (PostgreSQL text refuses it)
    if (
        typed is None
        or (isinstance(typed, int) and not -MAX_ID - 1 <= typed <= MAX_ID)
        or (isinstance(typed, float) and not math.isfinite(typed))
        or (isinstance(typed, str) and NUL in typed)
    ):
        raise malformed
    return typed
