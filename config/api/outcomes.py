"""Per-item outcomes as the API renders them: the item error object and the OpenAPI shape."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.http import HttpRequest

from config.api.errors import ApiError
from config.api.exceptions import more_info_url
from records.outcomes import ErrorRenderer


def error_object(exc: ApiError, request: HttpRequest | None = None) -> dict[str, Any]:
    """An item error: ``{"status", "code", "type", "messages", "moreInfo"[, "fields"]}``."""
    body = exc.as_dict()
    body["moreInfo"] = more_info_url(request, exc.code)
    return body


def errors_for(request: HttpRequest | None) -> ErrorRenderer:
    """Item errors rendered with ``moreInfo`` links absolute to ``request``'s host."""
    return partial(error_object, request=request)


def outcome_schema(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The OpenAPI schema of one outcome."""
    return {
        "type": "object",
        "required": ["index", "lookupKey", "key", "id", "action", "success"],
        "properties": {
            "index": {"type": "integer"},
            **(extra or {}),
            "lookupKey": {"type": "string", "nullable": True},
            "key": {"nullable": True, "description": "The lookup value as sent."},
            "id": {"type": "integer", "nullable": True},
            "action": {"type": "string"},
            "success": {"type": "boolean"},
            "error": {
                "type": "object",
                "description": "The §4 error object without requestId.",
                "properties": {
                    "status": {"type": "integer"},
                    "code": {"type": "integer"},
                    "type": {"type": "string"},
                    "messages": {"type": "array", "items": {"type": "string"}},
                    "moreInfo": {"type": "string"},
                    "fields": {"type": "object"},
                },
            },
        },
    }
