"""Category relationships (SPEC §10.1): which items a category holds, and linking them.

An item sits in one *primary* category (its ``parent``) and in any number of *secondary*
categories. The kinds of items are not known here (taxonomy sits below catalogue and clusters in
the dependency order), so each app registers a ``LinkKind`` for its items from its
``AppConfig.ready()``: catalogue registers ``products``, clusters registers ``clusters``. A kind
the contract names but no app has registered yet answers as if no such item existed: every lookup
is its ``…NotFound`` error, nothing is linked to any category. How the API lists a kind's items
(sorts, filters, representation) is the HTTP side's: ``taxonomy.api.links``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from django.db import transaction

from changes import outbox
from config.api import errors
from records.outcomes import Outcome
from records.rules import ID_REF, SOURCE_REF, describe_ref, ref_key
from records.validation import Errors, OneOfShapes
from taxonomy.models import Category

MAX_LINK_ITEMS = 100
LinkAction = Literal["add", "remove"]


@dataclass(frozen=True)
class Found:
    """A resolved item: its id and its primary category (``None`` when it has none)."""

    id: int
    primary_category_id: int | None


class LinkKind(Protocol):
    """One kind of item that categories can hold.

    ``key`` is the body key and URL segment (``products``), ``item_type`` the outcome ``type``
    (``product``). Every method costs a constant number of queries whatever the item count.
    """

    key: str
    item_type: str
    label: str
    not_found: type[errors.ApiError]
    lookup: OneOfShapes  # the accepted item lookups ({"id"}, {"sourceId", "source"} …)

    def resolve(self, lookups: Sequence[dict]) -> list[Found | errors.ApiError]:
        """One result per lookup, in order: the item, or its ``…NotFound``/``…MultipleFound``."""
        ...

    def secondary_ids(self, category_id: int, item_ids: Collection[int]) -> set[int]:
        """Which of ``item_ids`` hold ``category_id`` as a secondary category."""
        ...

    def link(self, category_id: int, item_ids: Collection[int]) -> None: ...

    def unlink(self, category_id: int, item_ids: Collection[int]) -> None: ...

    def count_linked(self, category_id: int) -> int:
        """Items whose primary or secondary category is ``category_id``."""
        ...


@dataclass
class UnavailableKind:
    """A kind of the contract whose app is not installed yet: it has no items."""

    key: str
    item_type: str
    label: str
    not_found: type[errors.ApiError]
    lookup: OneOfShapes = field(default_factory=lambda: OneOfShapes([ID_REF, SOURCE_REF]))

    def resolve(self, lookups: Sequence[dict]) -> list[Found | errors.ApiError]:
        return [
            self.not_found(f"{self.label} with {describe_ref(lookup)} not found.")
            for lookup in lookups
        ]

    def secondary_ids(self, category_id: int, item_ids: Collection[int]) -> set[int]:
        return set()

    def link(self, category_id: int, item_ids: Collection[int]) -> None:
        """Never reached with items: nothing resolves."""

    def unlink(self, category_id: int, item_ids: Collection[int]) -> None:
        """Never reached with items: nothing resolves."""

    def count_linked(self, category_id: int) -> int:
        return 0


# The kinds SPEC §10.1 names, in the order outcomes and delete messages list them.
_KINDS: dict[str, LinkKind] = {
    "products": UnavailableKind("products", "product", "Product", errors.ProductNotFound),
    "clusters": UnavailableKind("clusters", "cluster", "Cluster", errors.ClusterNotFound),
}


def register_link_kind(kind: LinkKind) -> None:
    """Called from an app's ``ready()``; replaces the placeholder of that kind."""
    if kind.key not in _KINDS:
        raise ValueError(f"Unknown link kind {kind.key!r}; SPEC §10.1 names {', '.join(_KINDS)}.")
    _KINDS[kind.key] = kind


def link_kind(key: str) -> LinkKind:
    return _KINDS[key]


def link_kinds() -> list[LinkKind]:
    return list(_KINDS.values())


def category_link_items(
    *, category_id: int, items: Mapping[str, Sequence[Any]], action: LinkAction
) -> list[Outcome]:
    """Add or remove secondary links between one category and the given items.

    ``items`` maps kind keys (``products``, ``clusters``) to raw lookups, in request order; each
    lookup is validated on its own, so one malformed or failing item never blocks the others.
    Outcome errors: 10007 (malformed lookup), ``…NotFound`` / ``…MultipleFound``, 10020 (the same
    item twice), 30010 (already linked, or the item's primary category), 30011 (not linked),
    30012 (removing the primary category). Raises ``SchemaValidationException`` for no items,
    ``BulkLimitExceeded`` for more than 100 (nothing written) and ``ParentCategoryNotFound``.
    """
    total = sum(len(raw) for raw in items.values())
    if total == 0:
        raise errors.SchemaValidationException(
            fields={"body": ["Send at least one item in products or clusters."]}
        )
    if total > MAX_LINK_ITEMS:
        raise errors.BulkLimitExceeded(
            f"{total} items sent; at most {MAX_LINK_ITEMS} per request. Nothing was written."
        )
    with transaction.atomic():
        # The row lock orders this against a concurrent delete of the category.
        category = Category.objects.select_for_update().filter(pk=category_id).first()
        if category is None:
            raise errors.ParentCategoryNotFound(f"Category with id [{category_id}] not found.")
        outcomes: list[Outcome] = []
        for key, raw_items in items.items():
            outcomes += _link_items(link_kind(key), category, raw_items, action)
    return outcomes


def set_item_categories(
    *, key: str, item_id: int, current: Collection[int], wanted: Collection[int]
) -> bool:
    """Make ``wanted`` the secondary categories of one item of kind ``key`` whose links are
    ``current`` now (the back office's inline). Each link added or removed goes through
    ``category_link_items``, so its rules hold: never the item's primary category (30010), never
    a missing category (ParentCategoryNotFound). Raises the first refused link's error (the
    caller's transaction rolls the rest back); returns whether any link changed.
    """
    current, wanted = set(current), set(wanted)
    for action, changed in (("remove", current - wanted), ("add", wanted - current)):
        for category_id in sorted(changed):
            (outcome,) = category_link_items(
                category_id=category_id, items={key: [{"id": item_id}]}, action=action
            )
            if outcome.error is not None:
                raise outcome.error
    return current != wanted


def _link_items(
    kind: LinkKind, category: Category, raw_items: Sequence[Any], action: LinkAction
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    valid: list[tuple[Outcome, dict]] = []
    for index, raw in enumerate(raw_items):
        name, value = ref_key(raw)
        outcome = Outcome(index, action, lookup_key=name, key=value, extra={"type": kind.item_type})
        outcomes.append(outcome)
        problems: Errors = {}
        lookup = kind.lookup.clean(raw, f"{kind.key}[{index}]", problems)
        if problems:
            outcome.fail(errors.SchemaValidationException(fields=problems))
        else:
            valid.append((outcome, lookup))

    candidates: list[tuple[Outcome, Found]] = []
    seen: set[int] = set()
    resolved = kind.resolve([lookup for _, lookup in valid])
    for (outcome, _), found in zip(valid, resolved, strict=True):
        if isinstance(found, errors.ApiError):
            outcome.fail(found)
            continue
        outcome.id = found.id
        if found.id in seen:
            outcome.fail(
                errors.DuplicateItemInRequest(
                    f"{kind.label} [{found.id}] appears earlier in this request."
                )
            )
            continue
        seen.add(found.id)
        candidates.append((outcome, found))

    linked = kind.secondary_ids(category.pk, [found.id for _, found in candidates])
    writes: list[int] = []
    for outcome, found in candidates:
        error = _link_rule(kind, category, found, linked, action)
        if error is None:
            writes.append(found.id)
        else:
            outcome.fail(error)
    if writes:
        (kind.link if action == "add" else kind.unlink)(category.pk, writes)
        outbox.links_changed(kind.item_type, category.pk, writes, added=action == "add")
    return outcomes


def _link_rule(
    kind: LinkKind, category: Category, found: Found, linked: set[int], action: LinkAction
) -> errors.ApiError | None:
    item = f"{kind.label} [{found.id}]"
    primary = found.primary_category_id == category.pk
    if action == "add":
        if primary:
            return errors.CategoryRelationExists(
                f"{item} already has category [{category.pk}] as its primary category."
            )
        if found.id in linked:
            return errors.CategoryRelationExists(
                f"{item} is already linked to category [{category.pk}]."
            )
        return None
    if primary:
        return errors.PrimaryCategoryRelation(
            f"Category [{category.pk}] is the primary category of {item}; "
            "change the item's parent instead."
        )
    if found.id not in linked:
        return errors.CategoryRelationNotFound(f"{item} is not linked to category [{category.pk}].")
    return None
