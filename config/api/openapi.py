"""The OpenAPI 3 document, generated from the route table (``ApiView.operations``).

The same declarations drive scope checks and request validation, so the document cannot drift
from what the service does.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings

from config.api import errors
from config.api.params import ID_PATH
from config.api.routing import PATH_PATTERNS, ApiView, Operation, api_views
from config.api.scopes import SCOPES
from records.lookups import BY_COLLECTION
from records.validation import NUL_FREE

ERROR_REF = {"$ref": "#/components/schemas/ErrorEnvelope"}
PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetails"}
_PATH_PARAM = re.compile(r"{(\w+)}")
# Every authenticated route can answer these besides its own errors.
COMMON_ERRORS = (
    errors.Unauthorized,
    errors.InsufficientScope,
    errors.PayloadTooLarge,
    errors.TooManyRequests,
    errors.InternalError,
    errors.NotAcceptable,
)
#: what a public route (no scopes) can answer besides its own errors
PUBLIC_ERRORS = (errors.InternalError, errors.NotAcceptable)
BODY_ERRORS = (
    errors.InvalidJSONPayload,
    errors.UnsupportedMediaType,
    errors.SchemaValidationException,
)


def _error_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "code", "type", "messages", "moreInfo", "requestId"],
                "properties": {
                    "status": {"type": "integer"},
                    "code": {"type": "integer", "enum": [e.code for e in errors.catalogue()]},
                    "type": {"type": "string"},
                    "messages": {"type": "array", "items": {"type": "string"}},
                    "moreInfo": {"type": "string"},
                    "requestId": {"type": "string"},
                    "fields": {
                        "type": "object",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                },
            }
        },
    }


def _problem_schema() -> dict[str, Any]:
    """An error as RFC 9457 problem details (``Accept: application/problem+json``)."""
    envelope = _error_schema()["properties"]["error"]["properties"]
    return {
        "type": "object",
        "required": ["type", "title", "status", "detail", "instance", "code", "requestId"],
        "properties": {
            "type": {"type": "string", "description": "The code's entry on /docs/errors."},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string", "description": "The request path."},
            "code": envelope["code"],
            "requestId": envelope["requestId"],
            "fields": envelope["fields"],
        },
    }


def _pagination_schema() -> dict[str, Any]:
    nullable = {"type": "string", "nullable": True}
    cursor = {
        "type": "object",
        "required": ["pageSize", "nextCursor", "previousCursor", "next", "previous"],
        "properties": {
            "pageSize": {"type": "integer"},
            "nextCursor": nullable,
            "previousCursor": nullable,
            "next": nullable,
            "previous": nullable,
            "total": {"type": "integer"},
        },
    }
    # the reference API's paging (``page``/``offset``): positions, always counted, no cursors
    offset = {
        "type": "object",
        "required": ["page", "offset", "start", "end", "total"],
        "properties": {
            name: {"type": "integer", "minimum": 0}
            for name in ("page", "offset", "start", "end", "total")
        },
    }
    return {"oneOf": [cursor, offset]}


def _success(op: Operation) -> dict[str, Any]:
    data = op.response() if op.response else {"type": "object"}
    properties: dict[str, Any] = {
        "data": {"type": "array", "items": data} if op.many else data,
        "messages": {"type": "array", "items": {"type": "string"}},
    }
    required = ["data", "messages"]
    if op.many:
        properties["pagination"] = {"$ref": "#/components/schemas/Pagination"}
        required.append("pagination")
    properties.update(op.extra_response)
    return {"type": "object", "required": required, "properties": properties}


def _path_schema(view: type[ApiView], name: str, path: str = "") -> dict[str, Any]:
    if name in view.path_schemas:
        return view.path_schemas[name]
    if PATH_PATTERNS.get((path, name)) == r"\d+":
        return ID_PATH
    spec = BY_COLLECTION.get(path.split("/")[2]) if path.count("/") >= 2 else None
    if spec is not None and name in ("lookup_key", "lookup_value"):
        return spec.path_schemas()[name]
    if name == "language":
        codes = [v for c in settings.CATALOGUE_LANGUAGES for v in (c, c.upper())]
        return {"type": "string", "enum": codes}
    return {"type": "string", "minLength": 1, "pattern": r"^[^/\u0000]+$"}


def _query_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Empty query values are refused everywhere ("omit the parameter instead"), and so is
    U+0000 (where no pattern already says what a value is)."""
    if schema.get("type") != "string" or "enum" in schema:
        return schema
    return {"minLength": 1, "pattern": NUL_FREE, **schema}


def _operation(path: str, view: type[ApiView], method: str, op: Operation) -> dict[str, Any]:
    params = [
        {"name": name, "in": "path", "required": True, "schema": _path_schema(view, name, path)}
        for name in _PATH_PARAM.findall(path)
    ]
    params += [
        {
            "name": q.name,
            "in": "query",
            "required": q.required,
            "schema": _query_schema(q.schema),
            **({"description": q.description} if q.description else {}),
        }
        for q in op.query
    ]
    failures = set(COMMON_ERRORS if op.scopes else PUBLIC_ERRORS) | set(op.errors)
    if op.request is not None:
        failures |= set(BODY_ERRORS)
    if params:
        failures.add(errors.SchemaValidationException)
    responses: dict[str, Any] = {
        str(op.status): {
            "description": op.summary,
            "content": {"application/json": {"schema": _success(op)}},
        }
    }
    for status in sorted({e.status for e in failures}):
        kinds = sorted((e for e in failures if e.status == status), key=lambda e: e.code)
        responses[str(status)] = {
            "description": "; ".join(f"{e.code} {e.type_name()}" for e in kinds),
            "content": {
                "application/json": {"schema": ERROR_REF},
                # with ``Accept: application/problem+json`` (RFC 9457)
                "application/problem+json": {"schema": PROBLEM_REF},
            },
        }
    for status, description in op.also:
        schema = _success(op)
        if str(status) in responses:  # the same status also carries errors
            description = f"{description}; {responses[str(status)]['description']}"
            schema = {"oneOf": [schema, ERROR_REF]}
        responses[str(status)] = {
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }
    operation: dict[str, Any] = {
        "operationId": f"{view.__name__.removesuffix('View')}_{method.lower()}",
        "summary": op.summary,
        "tags": [view.tag or "API"],
        "parameters": params,
        "responses": responses,
        "security": (
            [{"oauth2": [scope]} for scope in op.scopes]
            if op.any_scope
            else [{"oauth2": list(op.scopes)}]
            if op.scopes
            else []
        ),
    }
    if op.scopes:
        joined = " or ".join(op.scopes) if op.any_scope else ", ".join(op.scopes)
        operation["description"] = f"Scopes: {joined}."
    if op.request is not None:
        operation["requestBody"] = {
            # a body whose fields are all optional may be left out (read as ``{}``)
            "required": bool(op.request.required),
            "content": {"application/json": {"schema": op.request.openapi()}},
        }
    return operation


def _add_links(paths: dict[str, Any]) -> None:
    """OpenAPI links from each top-level create (``POST /v2/<collection>`` → 201) to the
    operations on the record it made, by ``id``: clients (and schemathesis' stateful phase)
    can follow them."""
    for path, item in paths.items():
        created = item.get("post", {}).get("responses", {}).get("201")
        if created is None or "{" in path:
            continue
        detail = f"{path}/{{lookup_key}}/{{lookup_value}}"
        links = {}
        for target, target_item in paths.items():
            if not (target == detail or target.startswith(detail + "/")):
                continue
            if set(_PATH_PARAM.findall(target)) != {"lookup_key", "lookup_value"}:
                continue  # more path parameters than the link can fill
            for op in target_item.values():
                links[op["operationId"]] = {
                    "operationId": op["operationId"],
                    "parameters": {"lookup_key": "id", "lookup_value": "$response.body#/data/id"},
                }
        if links:
            created["links"] = links


def build_schema(base_url: str = "") -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, view in api_views():
        item = paths.setdefault(path, {})
        for method, op in view.operations.items():
            item[method.lower()] = _operation(path, view, method, op)
    _add_links(paths)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Product Management API",
            "version": "2.4.4",
            "description": (
                "System of record for a product catalogue. Every /v2/ call needs an OAuth2 "
                "client-credentials bearer token; each operation lists the scopes it needs. "
                f"Languages: {', '.join(c.upper() for c in settings.CATALOGUE_LANGUAGES)}. "
                "Error codes: /docs/errors."
            ),
        },
        "servers": [{"url": base_url or "/"}],
        "paths": paths,
        "components": {
            "schemas": {
                "ErrorEnvelope": _error_schema(),
                "ProblemDetails": _problem_schema(),
                "Pagination": _pagination_schema(),
            },
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": f"{base_url}/oauth2/token/",
                            "scopes": SCOPES,
                        }
                    },
                }
            },
        },
    }
