"""Per-item outcomes of the assign/unassign endpoints (the shape of SPEC §10.1).

``{"index", "type", "lookupKey", "key", "id", "action", "success", "error"?}``; an item error is
the §4 error object without ``requestId`` (the response header carries it once).

Temporary home: the integrator merges this with the shared ``config/api/outcomes.py`` (same
``Outcome`` API), after which this module goes away.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from config.api.errors import ApiError
from config.api.exceptions import more_info_url

ERROR = "error"


def error_object(exc: ApiError, request: HttpRequest | None = None) -> dict[str, Any]:
    body = exc.as_dict()
    body["moreInfo"] = more_info_url(request, exc.code)
    return body


@dataclass
class Outcome:
    """What happened to one item of a request; an item with an ``error`` renders
    ``"action": "error"`` and ``"success": false``."""

    index: int
    action: str
    id: int | None = None
    lookup_key: str | None = None
    key: Any = None
    error: ApiError | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return self.error is None

    def fail(self, error: ApiError) -> Outcome:
        self.error = error
        return self

    def as_dict(self, request: HttpRequest | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"index": self.index, **self.extra}
        body.update(
            {
                "lookupKey": self.lookup_key,
                "key": self.key,
                "id": self.id,
                "action": ERROR if self.error else self.action,
                "success": self.success,
            }
        )
        if self.error is not None:
            body["error"] = error_object(self.error, request)
        return body


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
