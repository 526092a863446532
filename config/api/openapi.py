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
from records.components import REF_PREFIX, collecting, component, named, pascal
from records.lookups import BY_COLLECTION
from records.validation import NUL_FREE

_PATH_PARAM = re.compile(r"{(\w+)}")
# Every authenticated route can answer these besides its own errors.
COMMON_ERRORS = (
    errors.Unauthorized,
    errors.InsufficientScope,
    errors.PayloadTooLarge,
    errors.TooManyRequests,
    errors.InternalError,
    errors.NotAcceptable,
    errors.ServiceUnavailable,
)
#: what a public route (no scopes) can answer besides its own errors (any route may find the
#: database away: 503 with Retry-After, SPEC §18)
PUBLIC_ERRORS = (errors.InternalError, errors.NotAcceptable, errors.ServiceUnavailable)
#: what an ``Idempotency-Key`` can answer (a key reused for another request, one still running)
IDEMPOTENCY_ERRORS = (
    errors.IdempotencyKeyReused,
    errors.IdempotentRequestInProgress,
    errors.SchemaValidationException,
)
BODY_ERRORS = (
    errors.InvalidJSONPayload,
    errors.UnsupportedMediaType,
    errors.SchemaValidationException,
)


@component("ErrorEnvelope")
def error_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["error"],
        "additionalProperties": False,
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


@component("ProblemDetails")
def problem_schema() -> dict[str, Any]:
    """An error as RFC 9457 problem details (``Accept: application/problem+json``)."""
    envelope = error_schema.build()["properties"]["error"]["properties"]
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


@component("CursorPagination")
def cursor_pagination_schema() -> dict[str, Any]:
    nullable = {"type": ["string", "null"]}
    return {
        "type": "object",
        "required": ["pageSize", "nextCursor", "previousCursor", "next", "previous"],
        "properties": {
            "pageSize": {"type": "integer"},
            "nextCursor": nullable,
            "previousCursor": nullable,
            "next": nullable,
            "previous": nullable,
            "total": {"type": "integer", "description": "With withCount=true."},
        },
        "additionalProperties": False,
    }


@component("OffsetPagination")
def offset_pagination_schema() -> dict[str, Any]:
    """The reference API's paging (``page``/``offset``): positions, always counted."""
    return {
        "type": "object",
        "required": ["page", "offset", "start", "end", "total"],
        "properties": {
            name: {"type": "integer", "minimum": 0}
            for name in ("page", "offset", "start", "end", "total")
        },
        "additionalProperties": False,
    }


@component("Pagination")
def pagination_schema() -> dict[str, Any]:
    return {"oneOf": [cursor_pagination_schema(), offset_pagination_schema()]}


def _component_name(schema: dict[str, Any]) -> str | None:
    target = schema.get("$ref", "")
    return target.removeprefix(REF_PREFIX) if target.startswith(REF_PREFIX) else None


def _as_component(schema: dict[str, Any], name: str) -> dict[str, Any]:
    """``schema`` as a named component: kept when it already is one, else collected under
    ``name`` (so an operation declared without names still documents its shapes once)."""
    if _component_name(schema) is not None:
        return schema
    return named(name, lambda: schema, owner=None)


def _success(op: Operation, base: str) -> dict[str, Any]:
    """The success envelope, a component named for its ``data``: ``ProductResponse``,
    ``ProductPage``, ``BulkOutcomeListResponse``; ``<Operation>Response`` when ``data`` is
    no component."""
    data = op.response() if op.response else {"type": "object", "maxProperties": 0}
    if data.get("type") == "array" and isinstance(data.get("items"), dict):
        data = {**data, "items": _as_component(data["items"], f"{base}Item")}
        inner = _component_name(data["items"])
        name = f"{inner}List" if inner and not op.many else None
    elif data.get("type") == "object" and "properties" not in data:
        name = "Empty"
    else:
        data = _as_component(data, f"{base}Data")
        name = _component_name(data)
    if name is None:
        name = base
    properties: dict[str, Any] = {
        "data": {"type": "array", "items": data} if op.many else data,
        "messages": {"type": "array", "items": {"type": "string"}},
    }
    required = ["data", "messages"]
    if op.many:
        properties["pagination"] = pagination_schema()
        required.append("pagination")
    for key, schema in op.extra_response.items():
        properties[key] = schema()
        required.append(key)
    envelope = {
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }
    return named(f"{name}{'Page' if op.many else 'Response'}", lambda: envelope, owner=None)


def _path_schema(view: type[ApiView], name: str, path: str = "") -> dict[str, Any]:
    if name in view.path_schemas:
        return view.path_schemas[name]
    if PATH_PATTERNS.get((path, name)) == r"\d+":
        return ID_PATH
    spec = BY_COLLECTION.get(path.split("/")[2]) if path.count("/") >= 2 else None
    if spec is not None and name in ("lookup_key", "lookup_value"):
        return spec.path_schemas()[name]
    if name == "language":
        return {"type": "string", "enum": list(settings.CATALOGUE_LANGUAGES)}
    return {"type": "string", "minLength": 1, "pattern": r"^[^/\u0000]+$"}


def _query_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Empty query values are refused everywhere ("omit the parameter instead"), and so is
    U+0000 (where no pattern already says what a value is)."""
    if schema.get("type") != "string" or "enum" in schema:
        return schema
    return {"minLength": 1, "pattern": NUL_FREE, **schema}


#: request headers the service reads, declared once
REQUEST_HEADERS: dict[str, dict[str, Any]] = {
    "IfMatch": {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "description": 'The version you last read, quoted as its ETag ("3"); a stale one is '
        "refused with 412 (10009) and nothing is written. * matches any version.",
        "schema": {"type": "string", "minLength": 1, "pattern": NUL_FREE, "examples": ['"3"']},
    },
    "Prefer": {
        "name": "Prefer",
        "in": "header",
        "required": False,
        "description": "respond-async (RFC 7240): run the request as a job and answer 202 at "
        "once, with the job and its URL in Location; the item limit is then ASYNC_BULK_MAX_ITEMS.",
        "schema": {
            "type": "string",
            "minLength": 1,
            "pattern": NUL_FREE,
            "examples": ["respond-async"],
        },
    },
    "IdempotencyKey": {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "Makes a POST safe to retry: the first completed answer for the key is "
        "replayed for 24 hours; the same key with another request is refused (422).",
        "schema": {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "pattern": r"^[^\u0000]*[^\s\u0000][^\u0000]*$",
        },
    },
    "RequestId": {
        "name": "X-Request-ID",
        "in": "header",
        "required": False,
        "description": "Your id for the request (1-64 of A-Za-z0-9._-), echoed in the answer "
        "and the logs; any other value is replaced by one made for the request.",
        "schema": {"type": "string", "pattern": NUL_FREE},
    },
}

#: response headers, declared once (``#/components/headers``)
RESPONSE_HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "The request's id (yours, or one made for it).",
        "schema": {"type": "string"},
    },
    "ETag": {
        "description": 'The record\'s version, quoted ("3"): send it back in If-Match.',
        "required": True,
        "schema": {"type": "string"},
    },
    "Location": {
        "description": "The URL of the record the request created.",
        "required": True,
        "schema": {"type": "string", "format": "uri"},
    },
    "Preference-Applied": {
        "description": "respond-async: the request became a job (RFC 7240).",
        "required": True,
        "schema": {"type": "string", "enum": ["respond-async"]},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "RateLimit-Limit": {
        "description": "Requests the client may make per window.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "RateLimit-Remaining": {
        "description": "Requests left in the current window.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "RateLimit-Reset": {
        "description": "Seconds until the window resets.",
        "schema": {"type": "integer", "minimum": 0},
    },
}
RATE_LIMIT_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


def _request_headers(method: str, op: Operation) -> list[dict[str, Any]]:
    """What the service reads from the request's headers for this operation: ``If-Match``
    where a stale version can be refused (412), ``Idempotency-Key`` on an authenticated POST."""
    names = ["RequestId"]
    if errors.PreconditionFailed in op.errors:
        names.append("IfMatch")
    if _takes_idempotency_key(method, op):
        names.append("IdempotencyKey")
    if op.job is not None:
        names.append("Prefer")
    # written out, not referenced: tools that read parameters by ``name`` see them like any
    return [REQUEST_HEADERS[name] for name in names]


def _takes_idempotency_key(method: str, op: Operation) -> bool:
    return method == "POST" and bool(op.scopes)  # ``idempotency.claim``, after authentication


def _response_headers(op: Operation, status: int, data: dict[str, Any]) -> dict[str, Any]:
    names = ["X-Request-ID"]
    if op.scopes:
        names += RATE_LIMIT_HEADERS  # once the token is known (not on a 401)
    if status in (429, 503):
        names.append("Retry-After")
    if 200 <= status < 300 and _is_record(data):
        names.append("ETag")
    if status == 201 or (status == 202 and _data_component(data) == "Job"):
        names.append("Location")  # the record made; the job to follow
    if status == 202 and op.job is not None:
        names.append("Preference-Applied")
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def _is_record(envelope: dict[str, Any]) -> bool:
    """Whether a success envelope carries one versioned record (``responses.record`` adds its
    ``ETag``)."""
    data = _components().schemas.get(_data_component(envelope) or "", {})
    return "version" in data.get("required", ())


def _data_component(envelope: dict[str, Any]) -> str | None:
    """The component name of a success envelope's ``data`` (``Job``, ``Product``…)."""
    body = _components().schemas.get(_component_name(envelope) or "", {})
    return _component_name(body.get("properties", {}).get("data", {}))


def _components():
    from records.components import _active

    components = _active.get()
    assert components is not None, "only while build_schema runs"
    return components


def _operation(path: str, view: type[ApiView], method: str, op: Operation) -> dict[str, Any]:
    operation_id = f"{view.__name__.removesuffix('View')}_{method.lower()}"
    base = pascal(operation_id)
    params: list[dict[str, Any]] = [
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
    if _takes_idempotency_key(method, op):
        failures |= set(IDEMPOTENCY_ERRORS)
    success = _success(op, base)
    if op.raw_response is not None and op.response is not None:
        content = {op.raw_response: {"schema": _as_component(op.response(), f"{base}Line")}}
    else:
        content = {"application/json": {"schema": success}}
    responses: dict[str, Any] = {
        str(op.status): {
            "description": op.summary,
            "headers": _response_headers(op, op.status, success),
            "content": content,
        }
    }
    if op.job is not None:
        accepted = _success(Operation(op.scopes, op.summary, response=op.job), f"{base}Job")
        responses["202"] = {
            "description": "Prefer: respond-async: the request runs as a job (GET Location).",
            "headers": _response_headers(op, 202, accepted),
            "content": {"application/json": {"schema": accepted}},
        }
    for status in sorted({e.status for e in failures}):
        kinds = sorted((e for e in failures if e.status == status), key=lambda e: e.code)
        responses[str(status)] = {
            "description": "; ".join(f"{e.code} {e.type_name()}" for e in kinds),
            "headers": _response_headers(op, status, {}),
            "content": {
                "application/json": {"schema": error_schema()},
                # with ``Accept: application/problem+json`` (RFC 9457)
                "application/problem+json": {"schema": problem_schema()},
            },
        }
    for status, description in op.also:
        schema = success
        if str(status) in responses:  # the same status also carries errors
            description = f"{description}; {responses[str(status)]['description']}"
            schema = {"oneOf": [success, error_schema()]}
        responses[str(status)] = {
            "description": description,
            "headers": _response_headers(op, status, {}),
            "content": {"application/json": {"schema": schema}},
        }
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": op.summary,
        "tags": [view.tag or "API"],
        "parameters": params + _request_headers(method, op),
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
    if op.raw_request:
        operation["requestBody"] = {
            "required": True,
            "content": {
                media: {
                    "schema": _as_component(
                        {
                            "type": "string",
                            "minLength": 1,
                            "pattern": NUL_FREE,
                            "description": "The file.",
                        },
                        f"{base}File",
                    )
                }
                for media in op.raw_request
            },
        }
    if op.request is not None:
        needed = bool(op.request.required) or any("minProperties" in r for r in op.request.rules)
        operation["requestBody"] = {
            # a body whose fields are all optional may be left out (read as ``{}``)
            "required": needed,
            "content": {
                "application/json": {"schema": _as_component(op.request.openapi(), f"{base}Body")}
            },
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
    tags: dict[str, None] = {}
    with collecting() as components:
        for path, view in api_views():
            item = paths.setdefault(path, {})
            tags[view.tag or "API"] = None
            for method, op in view.operations.items():
                item[method.lower()] = _operation(path, view, method, op)
    _add_links(paths)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Product Management API",
            "version": "2.4.4",
            "summary": "System of record for a product catalogue.",
            "description": (
                "System of record for a product catalogue. Every /v2/ call needs an OAuth2 "
                "client-credentials bearer token; each operation lists the scopes it needs. "
                f"Languages: {', '.join(c.upper() for c in settings.CATALOGUE_LANGUAGES)}. "
                "Error codes: /docs/errors."
            ),
            "contact": {
                "name": "Catalogue API",
                **({"url": f"{base_url}/docs/"} if base_url else {}),
            },
            "license": {"name": "Proprietary", "identifier": "LicenseRef-Proprietary"},
        },
        "servers": [{"url": base_url or "/"}],
        "tags": [{"name": tag, "description": f"{tag} operations."} for tag in tags],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.schemas.items())),
            "headers": RESPONSE_HEADERS,
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
