"""Small helpers every resource view uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from config.api import errors
from config.api.errors import SchemaValidationException
from config.api.responses import record
from config.api.routing import ApiView, Operation
from config.api.validation import Obj


def body(request, schema: Obj, *, partial: bool = False) -> dict[str, Any]:
    """The validated JSON body (10005 when it does not parse, 10007 when it does not fit)."""
    data = request.data
    if not isinstance(data, dict):
        raise SchemaValidationException(fields={"body": ["Expected a JSON object."]})
    return schema.validate(data, partial=partial)


def if_match(request) -> str | None:
    return request.headers.get("If-Match")


def translation_removal_view(
    name: str,
    *,
    tag: str,
    scopes: tuple[str, ...],
    response: Callable[[], dict],
    query: tuple,
    lookup_errors: tuple,
    find: Callable[[Any, str, str], Any],
    remove: Callable[[int, str], None],
    render: Callable[[int, Any], dict],
    path_schemas: dict | None = None,
) -> type[ApiView]:
    """``DELETE …/{lookupKey}/{lookupValue}/translation/{language}`` of one record type (SPEC §6):
    find the record, clear every localized value of the language, answer the reloaded record.

    ``find(request, key, value)`` → the record, ``remove(pk, language)`` the service,
    ``render(pk, request)`` → its representation.
    """

    def delete(self, request, lookup_key, lookup_value, language):
        found = find(request, lookup_key, lookup_value)
        remove(found.pk, language)
        return record(render(found.pk, request), "Translation deleted")

    operation = Operation(
        scopes,
        "Remove every localized value of one language",
        response=response,
        query=query,
        errors=(*lookup_errors, errors.TranslationNotFound, errors.DefaultTranslationRequired),
    )
    attributes = {"tag": tag, "operations": {"DELETE": operation}, "delete": delete}
    if path_schemas is not None:
        attributes["path_schemas"] = path_schemas
    return type(name, (ApiView,), attributes)
