"""Identifier resolution (``POST /v2/resolve``, SPEC §13): records named by their lookup keys,
one query per (type, key) whatever the number of items. Each app registers its resolve types
from its ``AppConfig.ready()`` (``register_resolvers``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, Q

from records.validation import INVALID, Errors, Field, Id, Language, ListOf, Obj, Str, add_error

# The resolve types of SPEC §13, in the spec's order.
RESOLVE_TYPES = ("product", "cluster", "category", "clusterOption")

#: fields a resolve item may name besides ``type``, with their JSON types
RESOLVE_FIELDS: dict[str, Field] = {
    "id": Id(),
    "sourceId": Str(min_length=1, max_length=255),
    "source": Str(min_length=1, max_length=64),
    "sku": Str(min_length=1, max_length=128),
    "supplierCode": Str(min_length=1, max_length=255),
    "supplier": Str(min_length=1, max_length=255),
    "code": Str(min_length=1, max_length=64),
    "slug": Str(min_length=1, max_length=255),
    "language": Language(),
}
Fetch = Callable[[list[dict[str, Any]]], list[list[int]]]


@dataclass(frozen=True)
class ResolveKey:
    """One way to name a record in ``/v2/resolve``: the fields it takes and a set-based fetch.

    ``fetch`` receives every item of the request using this key and returns, per item in the
    same order, the ids of the matching records; it runs one query whatever the item count.
    """

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    fetch: Fetch

    def accepts(self, keys: set[str]) -> bool:
        return set(self.required) <= keys <= set(self.required) | set(self.optional)

    def shape(self) -> str:
        return "{" + ", ".join([*self.required, *(f"{k}?" for k in self.optional)]) + "}"


@dataclass(frozen=True)
class Resolver:
    type: str  # "product"
    keys: tuple[ResolveKey, ...]

    def key_for(self, keys: set[str]) -> ResolveKey | None:
        return next((key for key in self.keys if key.accepts(keys)), None)


def id_key(model: type[Model]) -> ResolveKey:
    def fetch(items: list[dict[str, Any]]) -> list[list[int]]:
        found = set(
            model._default_manager.filter(pk__in={i["id"] for i in items}).values_list(
                "pk", flat=True
            )
        )
        return [[item["id"]] if item["id"] in found else [] for item in items]

    return ResolveKey("id", ("id",), (), fetch)


def source_key(link_model: type[Model], owner_field: str) -> ResolveKey:
    """``sourceId`` with an optional ``source``; without it every source's match counts."""

    def fetch(items: list[dict[str, Any]]) -> list[list[int]]:
        by_source: dict[str | None, set[str]] = {}
        for item in items:
            by_source.setdefault(item.get("source"), set()).add(item["sourceId"])
        condition = Q(pk__in=[])
        for source, source_ids in by_source.items():
            if source is None:
                condition |= Q(source_id__in=source_ids)
            else:
                condition |= Q(source=source, source_id__in=source_ids)
        links: dict[str, list[tuple[str, int]]] = {}
        for source, source_id, owner in link_model._default_manager.filter(condition).values_list(
            "source", "source_id", f"{owner_field}_id"
        ):
            links.setdefault(source_id, []).append((source, owner))
        return [
            sorted(
                {
                    owner
                    for source, owner in links.get(item["sourceId"], [])
                    if item.get("source") in (None, source)
                }
            )
            for item in items
        ]

    return ResolveKey("sourceId", ("sourceId",), ("source",), fetch)


def field_key(
    model: type[Model],
    name: str,
    column: str,
    qualifier: tuple[str, str] | None = None,
) -> ResolveKey:
    """A plain column (``sku``); ``qualifier`` is an optional (item field, column) narrowing it."""

    def fetch(items: list[dict[str, Any]]) -> list[list[int]]:
        extra = [qualifier[1]] if qualifier else []
        rows = model._default_manager.filter(
            **{f"{column}__in": {i[name] for i in items}}
        ).values_list(column, "pk", *extra)
        found: dict[str, list[tuple[int, Any]]] = {}
        for value, pk, *qualified in rows:
            found.setdefault(value, []).append((pk, qualified[0] if qualified else None))
        out = []
        for item in items:
            wanted = item.get(qualifier[0]) if qualifier else None
            out.append(sorted(pk for pk, q in found.get(item[name], []) if wanted in (None, q)))
        return out

    return ResolveKey(name, (name,), (qualifier[0],) if qualifier else (), fetch)


def slug_key(model: type[Model], default_language: Callable[[], str]) -> ResolveKey:
    """``slug`` with an optional ``language`` (default: the catalogue default language)."""

    def fetch(items: list[dict[str, Any]]) -> list[list[int]]:
        wanted: dict[str, set[str]] = {}
        for item in items:
            wanted.setdefault(item.get("language") or default_language(), set()).add(item["slug"])
        condition = Q(pk__in=[])
        for language, slugs in wanted.items():
            condition |= Q(**{f"slug_{language}__in": slugs})
        columns = [f"slug_{language}" for language in wanted]
        found: dict[tuple[str, str], int] = {}
        for pk, *slugs in model._default_manager.filter(condition).values_list("pk", *columns):
            for language, slug in zip(wanted, slugs, strict=True):
                if slug is not None:
                    found[(language, slug)] = pk
        return [
            [pk]
            if (pk := found.get((item.get("language") or default_language(), item["slug"])))
            else []
            for item in items
        ]

    return ResolveKey("slug", ("slug",), ("language",), fetch)


class ResolveItem(Field):
    """``{"type": …, <lookup fields>}``: the type must be a SPEC type, the fields one key of it."""

    json_type = "object"

    def convert(self, value: Any, path: str, errors: Errors) -> Any:
        if not isinstance(value, dict):
            return add_error(errors, path, "Expected an object.")
        kind = value.get("type")
        if kind not in RESOLVE_TYPES:
            return add_error(
                errors,
                f"{path}.type",
                f"Unknown type {kind!r}; use one of {', '.join(RESOLVE_TYPES)}.",
            )
        before = len(errors)
        cleaned: dict[str, Any] = {"type": kind}
        for key, raw in value.items():
            if key == "type":
                continue
            spec = RESOLVE_FIELDS.get(key)
            if spec is None:
                add_error(errors, f"{path}.{key}", f"Unknown field '{key}'.")
                continue
            cleaned[key] = spec.clean(raw, f"{path}.{key}", errors)
        if len(errors) > before:
            return INVALID
        resolver = _RESOLVERS.get(kind)
        keys = set(cleaned) - {"type"}
        if resolver is not None and resolver.key_for(keys) is None:
            shapes = " or ".join(key.shape() for key in resolver.keys)
            return add_error(errors, path, f"A {kind} is named by {shapes}.")
        if resolver is None and not keys:
            return add_error(errors, path, "Name the record by a lookup key (id, sourceId …).")
        return cleaned

    def openapi(self) -> dict:
        """One shape per type and key (``{"type": "product", "sku"}`` …): exactly one matches
        an item the service accepts."""
        shapes = []
        for kind in RESOLVE_TYPES:
            resolver = _RESOLVERS.get(kind)
            keys = resolver.keys if resolver else ()
            for key in keys:
                names = (*key.required, *key.optional)
                shapes.append(
                    {
                        "type": "object",
                        "title": f"{kind} by {key.shape()}",
                        "required": ["type", *key.required],
                        "properties": {
                            "type": {"type": "string", "enum": [kind]},
                            **{name: RESOLVE_FIELDS[name].openapi() for name in names},
                        },
                        "additionalProperties": False,
                    }
                )
        return {
            "oneOf": shapes,
            "description": "A record named by its type and one of its lookup keys.",
        }


MAX_RESOLVE_ITEMS = 1000
RESOLVE_BODY = Obj(
    {"items": ListOf(ResolveItem(), max_items=MAX_RESOLVE_ITEMS, min_items=1)},
    required=("items",),
    name="Resolve",
)


def resolve(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One answer per item, in order; one query per (type, key) present, whatever the count.

    A type whose resource is not installed yet (no registered resolver) answers ``found: false``.
    """
    groups: dict[tuple[str, str], list[int]] = {}
    for index, item in enumerate(items):
        resolver = _RESOLVERS.get(item["type"])
        if resolver is None:
            continue
        key = resolver.key_for(set(item) - {"type"})
        groups.setdefault((item["type"], key.name), []).append(index)
    matches: dict[int, list[int]] = {}
    for (kind, key_name), indexes in groups.items():
        key = next(k for k in _RESOLVERS[kind].keys if k.name == key_name)
        for index, ids in zip(indexes, key.fetch([items[i] for i in indexes]), strict=True):
            matches[index] = ids
    answers = []
    for index in range(len(items)):
        ids = matches.get(index, [])
        answer: dict[str, Any] = {"index": index, "found": bool(ids)}
        if len(ids) == 1:
            answer["id"] = ids[0]
        elif ids:
            answer["ids"] = ids
        answers.append(answer)
    return answers


_RESOLVERS: dict[str, Resolver] = {}


def register_resolvers(*resolvers: Resolver) -> None:
    """Called from an app's ``AppConfig.ready()``: adds its resolve types."""
    for resolver in resolvers:
        if resolver.type not in RESOLVE_TYPES:
            raise ValueError(f"Unknown resolve type {resolver.type!r}")
        _RESOLVERS[resolver.type] = resolver
