"""Small helpers every resource view uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from config.api import errors
from config.api.errors import SchemaValidationException
from config.api.responses import record
from config.api.routing import ApiView, Operation
from records.validation import Obj


def body(request, schema: Obj, *, partial: bool = False) -> dict[str, Any]:
    """The validated JSON body (10005 when it does not parse, 10007 when it does not fit)."""
    data = request.data
    if not isinstance(data, dict):
        raise SchemaValidationException(fields={"body": ["Expected a JSON object."]})
    return schema.validate(data, partial=partial)


def if_match(request) -> str | None:
    return request.headers.get("If-Match")


def nested_list_params(request, lookup_key: str):
    """The list filters of a sub-resource (``/v2/<parents>/{lookupKey}/{lookupValue}/<items>``):
    with the ``sourceId`` lookup key, ``?source=`` qualifies the record in the URL and is not a
    filter of the list."""
    params = request.query_params.copy()
    if lookup_key == "sourceId":
        params.pop("source", None)
    return params


def translation_removal_view(
    name: str,
    *,
    tag: str,
    scopes: tuple[str, ...],
    response: Callable[[], dict],
    query: tuple,
    lookup_errors: tuple,
    find: Callable[[Any, str, str], Any],
    remove: Callable[[int, str], object],
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


def attribute_views(
    prefix: str,
    *,
    tag: str,
    scopes: tuple[str, ...],
    request: Obj,
    response: Callable[[], dict],
    query: tuple,
    lookup_errors: tuple,
    not_found: type[errors.ApiError],
    find: Callable[[Any, str, str], Any],
    upsert: Callable[..., Any],
    remove: Callable[..., Any],
    render: Callable[[int, Any], dict],
    path_schemas: dict | None = None,
) -> tuple[type[ApiView], type[ApiView]]:
    """``POST …/{lookupKey}/{lookupValue}/attributes`` (set values by name, keep the others) and
    ``DELETE …/attributes/{attribute_name}`` of one record type (SPEC §22), answering the
    reloaded record. ``upsert(pk, attributes, if_match)`` and ``remove(pk, name, if_match)`` are
    the services; both honour ``If-Match`` like PATCH."""

    def post(self, request_, lookup_key, lookup_value):
        found = find(request_, lookup_key, lookup_value)
        data = body(request_, request)
        upsert(found.pk, data["attributes"], if_match(request_))
        return record(render(found.pk, request_), "Attributes updated")

    def delete(self, request_, lookup_key, lookup_value, attribute_name):
        found = find(request_, lookup_key, lookup_value)
        remove(found.pk, attribute_name, if_match(request_))
        return record(render(found.pk, request_), "Attribute deleted")

    write_errors = (*lookup_errors, errors.PreconditionFailed)
    upsert_op = Operation(
        scopes,
        "Set attribute values by name (other attributes kept)",
        request=request,
        response=response,
        query=query,
        errors=(*write_errors, errors.PayloadValidationError),
    )
    delete_op = Operation(
        scopes,
        "Remove one attribute",
        response=response,
        query=query,
        errors=(*write_errors, not_found),
    )
    name_schema = {"type": "string", "pattern": r"^[A-Z0-9_]{1,64}$"}
    views = []
    for suffix, method, operation, handler, extra in (
        ("AttributesView", "POST", upsert_op, post, {}),
        ("AttributeView", "DELETE", delete_op, delete, {"attribute_name": name_schema}),
    ):
        attributes = {
            "tag": tag,
            "operations": {method: operation},
            method.lower(): handler,
            "path_schemas": {**(path_schemas or {}), **extra},
        }
        views.append(type(f"{prefix}{suffix}", (ApiView,), attributes))
    return views[0], views[1]
