"""Walking the OpenAPI document in tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


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
