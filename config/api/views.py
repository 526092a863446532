"""Small helpers every resource view uses."""

from __future__ import annotations

from typing import Any

from config.api.errors import SchemaValidationException
from config.api.validation import Obj


def body(request, schema: Obj, *, partial: bool = False) -> dict[str, Any]:
    """The validated JSON body (10005 when it does not parse, 10007 when it does not fit)."""
    data = request.data
    if not isinstance(data, dict):
        raise SchemaValidationException(fields={"body": ["Expected a JSON object."]})
    return schema.validate(data, partial=partial)


def if_match(request) -> str | None:
    return request.headers.get("If-Match")
