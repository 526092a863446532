"""Per-item outcomes as the API renders them: the item error object and the OpenAPI shape."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from django.http import HttpRequest

from config.api.errors import ApiError
from config.api.exceptions import more_info_url
from records.components import component
from records.outcomes import ERROR, ErrorRenderer


def error_object(exc: ApiError, request: HttpRequest | None = None) -> dict[str, Any]:
    """An item error: ``{"status", "code", "type", "messages", "moreInfo"[, "fields"]}``."""
    body = exc.as_dict()
    body["moreInfo"] = more_info_url(request, exc.code)
    return body


def errors_for(request: HttpRequest | None) -> ErrorRenderer:
    """Item errors rendered with ``moreInfo`` links absolute to ``request``'s host."""
    return partial(error_object, request=request)


@component("ItemError")
def item_error_schema() -> dict[str, Any]:
    """An item's error: the §4 error object without ``requestId`` (the header carries it)."""
    return {
        "type": "object",
        "required": ["status", "code", "type", "messages", "moreInfo"],
        "properties": {
            "status": {"type": "integer"},
            "code": {"type": "integer"},
            "type": {"type": "string"},
            "messages": {"type": "array", "items": {"type": "string"}},
            "moreInfo": {"type": "string"},
            "fields": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        },
        "additionalProperties": False,
    }


def outcome_schema(
    extra: dict[str, Any] | None = None, *, actions: Iterable[str] = ()
) -> dict[str, Any]:
    """The OpenAPI schema of one outcome: ``extra`` properties beside the common ones;
    ``actions`` the values of ``action`` besides ``error`` (any string when not given)."""
    action: dict[str, Any] = {"type": "string"}
    if actions:
        action["enum"] = [*actions, ERROR]
    return {
        "type": "object",
        "required": ["index", "lookupKey", "key", "id", "action", "success"],
        "properties": {
            "index": {"type": "integer"},
            **(extra or {}),
            "lookupKey": {"type": ["string", "null"]},
            "key": {"description": "The lookup value as sent (any JSON value)."},
            "id": {"type": ["integer", "null"]},
            "action": action,
            "success": {"type": "boolean"},
            "error": item_error_schema(),
        },
        "additionalProperties": False,
    }
