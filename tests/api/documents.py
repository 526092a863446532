"""Walking the OpenAPI document in tests."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import orjson  # schemathesis validates with it (pinned with schemathesis)


def objects(node: Any) -> Iterator[dict]:
    """Every JSON object in ``node``, outermost first (a caller may change one's children
    before they are visited)."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from objects(value)


def operations(document: dict) -> Iterator[dict]:
    for item in document["paths"].values():
        yield from item.values()


def validator(document: dict, schema: dict) -> Any:
    """A JSON Schema 2020-12 validator (the dialect of OpenAPI 3.1) of one schema of
    ``document``: its ``$ref``s resolve against the document's components."""
    return jsonschema_rs.Draft202012Validator(
        {**schema, "components": document["components"]}, validate_formats=True
    )


@functools.cache
def _document(languages: tuple[str, ...]) -> dict:
    from config.api.openapi import build_schema

    return build_schema("http://testserver")


@functools.cache
def _operations(languages: tuple[str, ...]) -> dict[type, tuple[str, dict[str, dict]]]:
    """Each ``/v2/`` view class → its path template and its operations as documented."""
    from config.api.routing import api_views

    document = _document(languages)
    return {view: (path, document["paths"][path]) for path, view in api_views()}


@functools.cache
def _validator(languages: tuple[str, ...], path: str, method: str, status: str, kind: str):
    document = _document(languages)
    response = document["paths"][path][method]["responses"][status]
    return validator(document, response["content"][kind]["schema"])


def check_response(method: str, response: Any) -> None:
    """The response hook of the HTTP tests: an answer of a ``/v2/`` route must be one its
    operation documents (status, body, required headers), as any client generated from the
    document expects it."""
    from django.conf import settings

    match = getattr(response, "resolver_match", None)
    view = getattr(match.func, "view_class", None) if match else None
    languages = tuple(settings.CATALOGUE_LANGUAGES)
    documented = _operations(languages).get(view) if view is not None else None
    if documented is None:
        return  # not a /v2/ API route (token endpoint, docs, health, unknown paths)
    path, item = documented
    method = "get" if method == "head" else method
    if method not in item or response.status_code == 405:
        return  # a method the route does not have: answered 405 before any operation
    operation = item[method]
    status = str(response.status_code)
    assert status in operation["responses"], (
        f"{method.upper()} {path} answered {status}, which its operation does not document "
        f"({', '.join(operation['responses'])})"
    )
    declared = operation["responses"][status]
    document = _document(languages)
    for name, header in declared.get("headers", {}).items():
        header = document["components"]["headers"][name] if "$ref" in header else header
        if header.get("required"):
            assert response.has_header(name), f"{method.upper()} {path} {status}: no {name}"
    if method == "head" or (not response.streaming and not response.content):
        return
    kind = response["Content-Type"].split(";")[0].strip()
    assert kind in declared["content"], f"{method.upper()} {path} {status}: {kind} undocumented"
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if response.streaming:  # read once here: hand the test the same bytes
        response.streaming_content = [content]
    # NDJSON text (a job's error report): the schema is one line's
    bodies = (
        [orjson.loads(line) for line in content.splitlines() if line.strip()]
        if kind in ("application/x-ndjson", "text/plain")
        else [orjson.loads(content)]
    )
    check = _validator(languages, path, method, status, kind)
    errors = [
        f"{'/'.join(map(str, e.instance_path))}: {e.message}"
        for body in bodies
        for e in check.iter_errors(body)
    ]
    assert not errors, f"{method.upper()} {path} {status} breaks its schema: {errors[:5]}"


def inlined(document: dict) -> dict:
    """``document`` with every ``$ref`` to a schema replaced by the schema (a schema that
    contains itself keeps its reference), for tests that read a body's shape in place."""
    schemas = document["components"]["schemas"]

    def expand(node: Any, seen: frozenset[str]) -> Any:
        if isinstance(node, list):
            return [expand(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        target = node.get("$ref", "")
        if target.startswith("#/components/schemas/"):
            name = target.rsplit("/", 1)[1]
            if name not in seen:
                rest = {k: v for k, v in node.items() if k != "$ref"}
                return expand({**schemas[name], **rest}, seen | {name})
        return {key: expand(value, seen) for key, value in node.items()}

    return {**document, "paths": expand(document["paths"], frozenset())}
