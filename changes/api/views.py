"""``GET /v2/changes`` and the ``…/history`` routes (SPEC §19): parse, read, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from changes import feed
from changes.feed import Position
from changes.models import ChangeEvent
from changes.outbox import BY_NAME, ENTITIES
from config.api import errors
from config.api.pagination import Page, paginate_request
from config.api.params import paging_params
from config.api.permissions import has_scope
from config.api.responses import listing
from config.api.routing import ApiView, Operation, QueryParam
from records.components import component
from records.filters import UtcDateTimeField, check_query_params

MAX_FEED_PAGE = 1000
DEFAULT_FEED_PAGE = 100
READ_SCOPES = tuple(entity.read_scope for entity in ENTITIES)
ACTIONS = tuple(ChangeEvent.Action.values)

_CHANGE = {
    "type": "object",
    "required": ["before", "after"],
    "properties": {
        "before": {"description": "The field's value before the write (any JSON value, null)."},
        "after": {"description": "The field's value after the write (any JSON value, null)."},
    },
    "additionalProperties": False,
}


@component("ChangeEvent")
def event_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": [
            "id", "entity", "action", "recordId", "version", "at", "keys", "changedFields",
            "changes", "actor", "requestId", "jobId",
        ],
        "properties": {
            "id": {"type": "string", "description": "Opaque, increasing in feed order; a cursor."},
            "entity": {"type": "string", "enum": list(BY_NAME)},
            "action": {"type": "string", "enum": list(ACTIONS)},
            "recordId": {"type": "integer"},
            "version": {"type": ["integer", "null"]},
            "at": {"type": "string", "format": "date-time"},
            "keys": {"type": "object", "description": "The record's keys after the write "
                     "(the last ones for deleted): sources and sku / code / name."},
            "changedFields": {"type": "array", "items": {"type": "string"}},
            "changes": {"type": "object", "additionalProperties": _CHANGE},
            "actor": {
                "type": "object",
                "required": ["kind", "id"],
                "properties": {
                    "kind": {"type": "string", "enum": ["client", "user", "system"]},
                    "id": {"type": ["string", "null"]},
                },
                "additionalProperties": False,
            },
            "requestId": {"type": ["string", "null"]},
            "jobId": {"type": ["integer", "null"]},
        },
        "additionalProperties": False,
    }  # fmt: skip


#: an event as the API renders it (the feed, histories and webhook deliveries)
event_representation = feed.render


class FeedPage(Page):
    """The feed's page: its links continue with ``after``, not ``cursor``."""

    def link(self, cursor: str | None) -> str | None:
        if cursor is None or self.request is None:
            return None
        params = self.request.GET.copy()
        params["after"] = cursor
        params.pop("since", None)  # the cursor already stands past it
        return self.request.build_absolute_uri(f"{self.request.path}?{params.urlencode()}")


def _comma_list(params, name: str, allowed: tuple[str, ...]) -> list[str] | None:
    raw = params.get(name)
    if raw is None:
        return None
    values = [v.strip() for v in raw.split(",")]
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise errors.SchemaValidationException(
            fields={name: [f"Unknown value(s) {', '.join(unknown)}; use {', '.join(allowed)}."]}
        )
    return values


def _page_size(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_FEED_PAGE
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_FEED_PAGE:
        raise errors.PaginatedResponseException(
            f"pageSize must be an integer from 1 to {MAX_FEED_PAGE}.",
            fields={"pageSize": [f"Must be an integer from 1 to {MAX_FEED_PAGE}."]},
        )
    return int(raw)


def _since(raw: str | None):
    if raw is None:
        return None
    field = UtcDateTimeField()
    try:
        return field.clean(raw)
    except Exception as exc:  # noqa: BLE001 - any parse failure is the client's 400
        raise errors.SchemaValidationException(
            fields={"since": ["Must be an RFC 3339 date-time, e.g. 2026-12-06T10:15:00Z."]}
        ) from exc


FEED_PARAMS = (
    QueryParam("after", {"type": "string", "pattern": "^[0-9a-f]{44}$"},
               "An event id or a nextCursor: the events after it."),
    QueryParam("since", {"type": "string", "format": "date-time"},
               "RFC 3339 time: events written at or after it."),
    QueryParam("entity", {"type": "string", "pattern": rf"^({'|'.join(BY_NAME)})(,({'|'.join(BY_NAME)}))*$"},
               "Comma list of entities (only those the token may read are ever returned)."),
    QueryParam("action", {"type": "string", "pattern": rf"^({'|'.join(ACTIONS)})(,({'|'.join(ACTIONS)}))*$"},
               "Comma list of actions."),
    QueryParam("source", {"type": "string", "minLength": 1},
               "Events of records holding a source pair with this source."),
    QueryParam("recordId", {"type": "integer", "minimum": 1}, "With exactly one entity."),
    QueryParam("pageSize", {"type": "integer", "minimum": 1, "maximum": MAX_FEED_PAGE},
               f"1-{MAX_FEED_PAGE}, default {DEFAULT_FEED_PAGE}"),
)  # fmt: skip


class ChangeFeedView(ApiView):
    tag = "Changes"
    operations = {
        "GET": Operation(
            READ_SCOPES,
            "The change feed: every committed write, in order, each event exactly once",
            response=event_schema,
            many=True,
            any_scope=True,
            query=FEED_PARAMS,
            errors=(
                errors.SchemaValidationException,
                errors.PaginatedResponseException,
                errors.ChangesCursorExpired,
            ),
        )
    }

    def get(self, request):
        params = request.query_params
        check_query_params(params, {p.name for p in FEED_PARAMS})
        readable = [e.name for e in ENTITIES if has_scope(request, e.read_scope)]
        asked = _comma_list(params, "entity", tuple(BY_NAME))
        entities = [name for name in (asked or readable) if name in readable]
        if asked and len(entities) < len(asked):
            missing = [BY_NAME[n].read_scope for n in asked if n not in readable]
            raise errors.InsufficientScope(
                f"The token lacks {', '.join(missing)} to read those entities' events."
            )
        record_id = params.get("recordId")
        if record_id is not None:
            if not record_id.isdigit() or int(record_id) < 1:
                raise errors.SchemaValidationException(fields={"recordId": ["Must be an id."]})
            if asked is None or len(asked) != 1:
                raise errors.SchemaValidationException(
                    fields={"recordId": ["Give exactly one entity with recordId."]}
                )
        after = params.get("after")
        page_size = _page_size(params.get("pageSize"))
        events, position = feed.feed(
            entities=entities,
            actions=_comma_list(params, "action", ACTIONS),
            source=params.get("source"),
            record_id=int(record_id) if record_id is not None else None,
            since=_since(params.get("since")),
            after=Position.parse(after) if after is not None else None,
            page_size=page_size,
        )
        page = FeedPage(events, page_size, position.token(), None, None, request)
        return listing(page, [event_representation(e) for e in events])


HISTORY_SORTS = {"id": "id", "at": "at"}  # a record's events are few: no index on at


def history_view(
    name: str,
    *,
    entity: str,
    tag: str,
    scopes: tuple[str, ...],
    query: tuple,
    lookup_errors: tuple,
    find: Callable[[Any, str, str], Any],
    path_schemas: dict | None = None,
) -> type[ApiView]:
    """``GET …/{lookupKey}/{lookupValue}/history`` of one record type: its events, newest first,
    paged (SPEC §19). ``find(request, key, value)`` → the record."""

    def get(self, request, lookup_key, lookup_value):
        found = find(request, lookup_key, lookup_value)
        page = paginate_request(
            request, feed.history(entity, found.pk), HISTORY_SORTS, default_sort="-id"
        )
        return listing(page, [event_representation(e) for e in page.rows])

    operation = Operation(
        scopes,
        "The record's change history, newest first",
        response=event_schema,
        many=True,
        query=(*query, *paging_params(list(HISTORY_SORTS))),
        errors=(*lookup_errors, errors.PaginatedResponseException),
    )
    attributes = {"tag": tag, "operations": {"GET": operation}, "get": get}
    if path_schemas is not None:
        attributes["path_schemas"] = path_schemas
    return type(name, (ApiView,), attributes)
