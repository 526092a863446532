"""Attribute lists, ``[{"name": "COLOR", "value": …}, …]``, as products and clusters hold them.

One merge rule for both (SPEC §22): the attribute routes upsert values by name, keeping every
other attribute and the list's order (a new name goes last, in request order), and remove one
name. The services apply the result as a whole-list write, so version, ``If-Match`` and change
detection are those of any other write.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypedDict, TypeVar

from django.db.models import Model

from config.api import errors
from records.rules import check_if_match

Pair = tuple[str, Any]


class AttributeInput(TypedDict):
    """One attribute of a body: ``{"name": "COLOR", "value": …}`` (a value is a string, a
    number, a boolean or an array of strings)."""

    name: str
    value: Any


#: the most attributes one record holds (a body's ``attributes`` takes as many)
MAX_ATTRIBUTES = 500


def typed(pairs: Iterable[Pair]) -> list[tuple[str, str]]:
    """Pairs compared as JSON: ``1``, ``1.0`` and ``true`` are equal in Python, not in JSON."""
    return [(name, json.dumps(value, sort_keys=True)) for name, value in pairs]


def same_attributes(a: Iterable[Pair], b: Iterable[Pair]) -> bool:
    return typed(a) == typed(b)


def upserted(current: list[Pair], changes: Iterable[Pair]) -> list[Pair]:
    """``current`` with each change's value set by name: an existing name keeps its place, a new
    one is appended. More than ``MAX_ATTRIBUTES`` in all → PayloadValidationError."""
    result = list(current)
    where = {name: index for index, (name, _) in enumerate(result)}
    for name, value in changes:
        if name in where:
            result[where[name]] = (name, value)
        else:
            where[name] = len(result)
            result.append((name, value))
    if len(result) > MAX_ATTRIBUTES:
        raise errors.PayloadValidationError(
            f"A record holds at most {MAX_ATTRIBUTES} attributes; this would make {len(result)}."
        )
    return result


def without(current: list[Pair], name: str) -> list[Pair] | None:
    """``current`` less the attribute ``name``; ``None`` when it has no such attribute."""
    kept = [pair for pair in current if pair[0] != name]
    return kept if len(kept) < len(current) else None


def as_body(pairs: Iterable[Pair]) -> list[AttributeInput]:
    return [{"name": name, "value": value} for name, value in pairs]


def pairs(attributes: Iterable[AttributeInput]) -> list[Pair]:
    """``(name, value)`` pairs of a body's attribute list."""
    return [(a["name"], a["value"]) for a in attributes]


Holder = TypeVar("Holder", bound=Model)


@dataclass(frozen=True)
class AttributeWrites(Generic[Holder]):
    """The attribute routes' writes of one record type that holds attributes (SPEC §22): set
    values by name, or remove one name, applied as a whole-list update so that version,
    ``If-Match`` and change detection are the record's own."""

    label: str  # "Product"
    #: the record, locked for the rest of the transaction (its NotFound when missing)
    locked: Callable[[int], Holder]
    #: the record's attributes as pairs, in order
    current: Callable[[Holder], list[Pair]]
    #: the record type's update with a new whole attribute list
    update: Callable[[int, list[AttributeInput]], Holder]
    missing: type[errors.ApiError]

    def upsert(self, pk: int, attributes: list[AttributeInput], if_match: str | None) -> Holder:
        """Raises PreconditionFailed, PayloadValidationError (too many attributes)."""
        record = self.locked(pk)
        check_if_match(if_match, record)
        return self.update(pk, as_body(upserted(self.current(record), pairs(attributes))))

    def remove(self, pk: int, name: str, if_match: str | None) -> Holder:
        """Raises PreconditionFailed, and ``missing`` when the record has no attribute ``name``."""
        record = self.locked(pk)
        check_if_match(if_match, record)
        kept = without(self.current(record), name)
        if kept is None:
            raise self.missing(f"{self.label} [{pk}] has no attribute [{name}].")
        return self.update(pk, as_body(kept))
