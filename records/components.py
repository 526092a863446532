"""Named schemas of the OpenAPI document (``#/components/schemas``) and how the document says null.

A declaration that several operations share (a representation, a write body, a bulk item) is
given a name where it is declared: ``Obj(…, name="ProductCreate")`` or ``@component("Product")``
on the function that builds a representation. While ``config.api.openapi.build_schema`` runs,
such a schema is collected once and every use of it becomes ``{"$ref": …}``; a schema that refers
to itself (a tree node's ``children``) gets a reference to the name it is being built under.

Outside a document build (a test validating a body against one schema) a named schema comes back
standalone: a ``$ref`` beside the ``components`` it needs, so any JSON Schema validator resolves it
against its own root.

The document is OpenAPI 3.1 (JSON Schema 2020-12): null is a type (``"type": ["string", "null"]``
or a ``{"type": "null"}`` branch), which validators, linters and client generators all read; 3.0's
``nullable`` beside a ``$ref`` or a ``oneOf`` is ignored by most of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any, Protocol, cast

Schema = dict[str, Any]
REF_PREFIX = "#/components/schemas/"


def pascal(text: str) -> str:
    """A component name from words: ``"Cluster option"`` → ``ClusterOption``."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text))


def ref(name: str) -> Schema:
    return {"$ref": REF_PREFIX + name}


class Components:
    """The named schemas collected while one document is built."""

    def __init__(self) -> None:
        self.schemas: dict[str, Schema] = {}
        self._owners: dict[str, object] = {}
        self._building: set[str] = set()

    def add(self, name: str, build: Callable[[], Schema], owner: object) -> Schema:
        """``build()`` under ``name`` (once), answered as a reference. Another declaration may
        use the name only for the same schema: two different ones would silently share it."""
        if name in self._building:
            return ref(name)  # a schema that contains itself
        known = self._owners.setdefault(name, owner)
        if name not in self.schemas:
            self._building.add(name)
            try:
                self.schemas[name] = build()
            finally:
                self._building.discard(name)
        elif known is not owner and build() != self.schemas[name]:
            raise ValueError(
                f"Two different schemas claim the OpenAPI component name {name!r}: "
                f"{self.schemas[name]} and {build()}"
            )
        return ref(name)


_active: ContextVar[Components | None] = ContextVar("openapi_components", default=None)


@contextmanager
def collecting() -> Iterator[Components]:
    """Collect the named schemas that are used inside the block."""
    components = Components()
    token = _active.set(components)
    try:
        yield components
    finally:
        _active.reset(token)


def named(name: str, build: Callable[[], Schema], owner: object | None = None) -> Schema:
    """The schema ``build()`` makes, as a reference to ``#/components/schemas/<name>``.

    ``owner`` identifies the declaration (default: ``build`` itself); outside a document build
    the answer is standalone (the reference beside the components it needs)."""
    components = _active.get()
    if components is not None:
        return components.add(name, build, build if owner is None else owner)
    with collecting() as components:
        top = components.add(name, build, build if owner is None else owner)
    return {**top, "components": {"schemas": components.schemas}}


class NamedSchema(Protocol):
    """What ``@component`` makes of a builder: called, the reference; ``build()``, the schema."""

    build: Callable[[], Schema]
    component_name: str

    def __call__(self) -> Schema: ...


def component(name: str) -> Callable[[Callable[[], Schema]], NamedSchema]:
    """Name the schema a function builds (``@component("Product")``); the plain builder stays
    reachable as ``fn.build`` for a schema that extends it."""

    def decorate(build: Callable[[], Schema]) -> NamedSchema:
        @wraps(build)
        def named_schema() -> Schema:
            return named(name, build)

        named_schema.build = build  # type: ignore[attr-defined]
        named_schema.component_name = name  # type: ignore[attr-defined]
        return cast(NamedSchema, named_schema)

    return decorate


def or_null(schema: Schema) -> Schema:
    """``schema`` or null: a ``null`` type beside a plain type, else a ``{"type": "null"}``
    branch (a reference, a ``oneOf``)."""
    kind = schema.get("type")
    if isinstance(kind, str) and "$ref" not in schema:
        nullable = {**schema, "type": [kind, "null"]}
        if "enum" in schema and None not in schema["enum"]:
            nullable["enum"] = [*schema["enum"], None]
        return nullable
    if isinstance(kind, list):
        return schema if "null" in kind else {**schema, "type": [*kind, "null"]}
    if "oneOf" in schema and set(schema) <= {"oneOf", "description", "title", "readOnly"}:
        return {**schema, "oneOf": [*schema["oneOf"], {"type": "null"}]}
    outer = {k: schema[k] for k in ("description", "readOnly") if k in schema}
    inner = {k: v for k, v in schema.items() if k not in outer}
    return {"oneOf": [inner, {"type": "null"}], **outer}
