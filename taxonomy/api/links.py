"""How the API lists the items of a category (SPEC §10.1): one ``LinkedItems`` per link kind.

The link kinds themselves (resolving, linking, counting) are the domain's, in
``taxonomy.relationships``; each app registers the listing of its kind here from its
``AppConfig.ready()`` (catalogue: products, clusters: clusters). A kind no app has registered
lists no items.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db.models import QuerySet

from config.api.routing import QueryParam
from records.filters import COMMON_SORTS
from taxonomy.relationships import link_kind


class LinkedItems(Protocol):
    """The linked-items list of one link kind (``key`` as in ``taxonomy.relationships``)."""

    key: str
    sorts: Mapping[str, str]  # the ``sort`` fields of the linked-items list
    query: tuple[QueryParam, ...]  # extra query parameters of the linked-items list

    def linked(self, category_ids: QuerySet, params: Mapping[str, str]) -> QuerySet | None:
        """Items linked (primary or secondary) to any of ``category_ids`` (a ``values("pk")``
        queryset), filtered by the list ``params``, ready to render, annotated with a boolean
        ``is_primary``; ``None`` when the kind holds no items at all."""
        ...

    def represent(self, item: Any, params: Mapping[str, str]) -> dict[str, Any]: ...

    def schema(self) -> dict[str, Any]: ...


@dataclass
class NoLinkedItems:
    """The list of a kind whose app is not installed yet: it has no items."""

    key: str
    sorts: Mapping[str, str] = field(default_factory=lambda: dict(COMMON_SORTS))
    query: tuple[QueryParam, ...] = ()

    def linked(self, category_ids: QuerySet, params: Mapping[str, str]) -> QuerySet | None:
        return None

    def represent(self, item: Any, params: Mapping[str, str]) -> dict[str, Any]:
        raise NotImplementedError("an unavailable kind has no items")

    def schema(self) -> dict[str, Any]:
        return {"type": "object", "properties": {"id": {"type": "integer"}}}


_LISTS: dict[str, LinkedItems] = {}


def register_linked_items(items: LinkedItems) -> None:
    """Called from an app's ``ready()``, beside ``taxonomy.relationships.register_link_kind``."""
    link_kind(items.key)  # a kind SPEC §10.1 names (KeyError otherwise)
    _LISTS[items.key] = items


def linked_items(key: str) -> LinkedItems:
    return _LISTS.get(key) or NoLinkedItems(key)
