"""Per-item outcomes of multi-item endpoints (category links §10.1, cluster assign/unassign, bulk §14).

Services return ``Outcome`` objects (no request in sight); views turn them into JSON with
``Outcome.as_dict(errors_for(request))``, which renders an item error in the §4 error shape
(without ``requestId``: the response header carries it once for the whole request).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from config.api.errors import ApiError

ERROR = "error"

#: renders an item error as the §4 error object; the HTTP layer's (``config.api.outcomes.errors_for``)
#: links ``moreInfo`` to the request's host
ErrorRenderer = Callable[[ApiError], dict[str, Any]]


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

    def as_dict(self, render_error: ErrorRenderer) -> dict[str, Any]:
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
            body["error"] = render_error(self.error)
        return body


def count_actions(outcomes: Iterable[Outcome]) -> Counter[str]:
    """How many items ended in each action (``error`` for failed items)."""
    return Counter(ERROR if o.error else o.action for o in outcomes)
