"""Per-item outcomes of multi-item endpoints (category links §10.1, cluster assign/unassign, bulk §14).

Services return ``Outcome`` objects (no request in sight); views turn them into JSON with
``Outcome.as_dict(request)``, which renders an item error in the §4 error shape (without
``requestId``: the response header carries it once for the whole request).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from config.api.errors import ApiError
from config.api.exceptions import more_info_url

ERROR = "error"


def error_object(exc: ApiError, request: HttpRequest | None = None) -> dict[str, Any]:
    """An item error: ``{"status", "code", "type", "messages", "moreInfo"[, "fields"]}``."""
    body = exc.as_dict()
    body["moreInfo"] = more_info_url(request, exc.code)
    return body


@dataclass
class Outcome:
    """What happened to one item of a request, in request order.

    ``action`` is what was (or would have been) done; an item with an ``error`` always renders
    ``"action": "error"`` and ``"success": false``. ``extra`` holds endpoint-specific keys
    (``type`` for category links, ``reason`` for bulk skips …).
    """

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


def count_actions(outcomes: Iterable[Outcome]) -> Counter[str]:
    """How many items ended in each action (``error`` for failed items)."""
    return Counter(ERROR if o.error else o.action for o in outcomes)


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
