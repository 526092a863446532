"""Every write to the category tree, serialised by one tree lock.

Each service opens a transaction, takes the tree lock first, and only then reads the rows it
changes (lft/rght are computed in Python from what it read: a read before the lock is stale).
Errors come from SPEC §4: ParentCategoryNotFound, CategoryExists, CategoryCycle,
CategoryNotEmpty, DefaultTranslationRequired, PreconditionFailed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Required

from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    Case,
    DateTimeField,
    F,
    IntegerField,
    ProtectedError,
    Q,
    Value,
    When,
)
from django.utils import timezone

from changes import outbox
from config.api import errors
from records.bulk_records import plain
from records.rules import (
    PageFields,
    RecordFields,
    RecordRef,
    RecordSpec,
    Translations,
    check_if_match,
    create_record,
    finish_localized,
    localized_input,
    merge_localized,
    remove_record_translation,
    update_record,
)
from taxonomy.models import Category, CategorySource
from taxonomy.querysets import is_in_subtree
from taxonomy.relationships import link_kinds
from taxonomy.search import CATEGORY_TEXT
from taxonomy.selectors import category_by_ref
from taxonomy.translation import LOCALIZED_FIELDS

TREE_LOCK_KEY = 0x43415447  # "CATG": one advisory lock for the whole category forest
POSITIONS = ("first-child", "last-child", "left", "right")
Position = Literal["first-child", "last-child", "left", "right"]

CATEGORY = RecordSpec(
    label="Category",
    localized=LOCALIZED_FIELDS,
    source_model=CategorySource,
    source_owner_field="category",
    exists_error=errors.CategoryExists,
    search=CATEGORY_TEXT,
)
SCALAR_FIELDS = ("language", "hidden", "priority")


class CategoryFields(RecordFields, PageFields, total=False):
    """A category's create and update fields, as ``CATEGORY_BODY`` and ``CATEGORY_PATCH`` clean
    them."""

    #: the parent category; ``None``: a root
    parent: RecordRef | None


class CategoryCreate(CategoryFields, total=False):
    name: Required[Translations]


class CategoryPatch(CategoryFields, total=False):
    name: Translations


def lock_category_tree() -> None:
    """Take the tree lock for the rest of the current transaction (PostgreSQL; no-op on SQLite).

    mptt computes lft/rght in Python from values it read earlier; two concurrent writers corrupt
    the tree without this (spike §4: 18 duplicate positions). SQLite serialises writers itself.
    The lock also serialises slug generation, so two new categories never race for one slug.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TREE_LOCK_KEY])


def _apply(category: Category, data: CategoryCreate | CategoryPatch) -> None:
    fields: Mapping[str, Any] = data  # by name: the scalar columns are copied alike
    for name in SCALAR_FIELDS:
        if name in fields:
            setattr(category, name, fields[name])
    merge_localized(category, localized_input(data, CATEGORY))
    finish_localized(category, CATEGORY)


def _reference(ref: Mapping[str, Any] | None) -> Category | None:
    return category_by_ref(ref) if ref is not None else None


def _locked(category_id: int) -> Category:
    """Re-read the category under the tree lock (callers hold it)."""
    category = Category.objects.select_for_update().filter(pk=category_id).first()
    if category is None:
        raise errors.CategoryNotFound(f"Category with id [{category_id}] not found.")
    return category


@transaction.atomic
def category_create(*, data: CategoryCreate) -> Category:
    """Create a category as the last child of ``parent`` (or the last root).

    Raises ParentCategoryNotFound, CategoryExists, DefaultTranslationRequired.
    """
    lock_category_tree()
    category = create_record(
        Category(parent=_reference(data.get("parent"))), CATEGORY, data, _apply
    )
    outbox.created(category)
    return category


def _apply_update(category: Category, data: CategoryPatch) -> None:
    if "parent" in data:
        parent = _reference(data["parent"])
        if (parent.pk if parent else None) != category.parent_id:
            _move(category, parent, "last-child")
    _apply(category, data)


@transaction.atomic
def category_update(
    *, category_id: int, data: CategoryPatch, if_match: str | None = None
) -> Category:
    """Partial update; a new ``parent`` moves the category (with its subtree) to its last child.

    A write that changes nothing keeps ``version`` and ``lastModifiedAt``. Raises
    CategoryNotFound, PreconditionFailed, ParentCategoryNotFound, CategoryCycle, CategoryExists,
    DefaultTranslationRequired.
    """
    lock_category_tree()
    category = _locked(category_id)
    watch = outbox.watch(category)
    parent_before = category.parent_id
    update_record(category, CATEGORY, data, _apply_update, if_match=if_match)
    watch.record("moved" if category.parent_id != parent_before else None)
    return category


@transaction.atomic
def category_move(
    *,
    category_id: int,
    target: dict | None,
    position: Position = "last-child",
    if_match: str | None = None,
) -> Category:
    """Move a category (with its subtree) relative to ``target``.

    ``first-child`` / ``last-child`` of the target, or its ``left`` / ``right`` sibling; a
    ``None`` target makes a root (``last-child``: the last root, ``first-child``: the first).
    A move that leaves the category where it was keeps its version; otherwise the one UPDATE
    of the move also bumps the category's version and lastModifiedAt. Raises
    CategoryNotFound, PreconditionFailed, ParentCategoryNotFound (target), CategoryCycle (target
    inside the category's own subtree), SchemaValidationException (``left``/``right`` without
    a target).
    """
    if position not in POSITIONS:
        raise errors.SchemaValidationException(
            fields={"position": [f"Must be one of {', '.join(POSITIONS)}."]}
        )
    if target is None and position in ("left", "right"):
        raise errors.SchemaValidationException(
            fields={"position": ["Without a target use first-child or last-child (a new root)."]}
        )
    lock_category_tree()
    category = _locked(category_id)
    check_if_match(if_match, category)
    watch = outbox.watch(category)
    target_category = _reference(target)
    if _move(category, target_category, position, stamp=True):
        where = {"position": position, "target": target_category and {"id": target_category.pk}}
        watch.record("moved", extra={"position": {"before": None, "after": where}})
    return category


# The largest lft/rght/tree_id (the columns are 32-bit integers): "to the end" of a range.
MAX_POSITION = 2**31 - 1


@dataclass(frozen=True)
class MovePlan:
    """Where a move puts the category's subtree, and how the other rows make room.

    The subtree goes to tree ``tree_id`` with ``shift`` added to its lft/rght and
    ``level_shift`` to its levels; each gap ``(tree_id, low, high, delta)`` adds ``delta`` to
    the other rows' lft/rght within ``low..high`` in that tree; ``trees`` ``(low, high, delta)``
    renumbers the other rows' tree_id (roots are ordered by tree_id).
    """

    parent_id: int | None
    tree_id: int
    shift: int = 0
    level_shift: int = 0
    gaps: tuple[tuple[int, int, int, int], ...] = ()
    trees: tuple[int, int, int] | None = None

    def moves(self, category: Category) -> bool:
        return (self.parent_id, self.tree_id, self.shift, self.level_shift) != (
            category.parent_id,
            category.tree_id,
            0,
            0,
        )


def _move(
    category: Category, target: Category | None, position: Position, *, stamp: bool = False
) -> bool:
    """Move under the held lock with one nested-set UPDATE; whether the category moved.

    The numbering is django-mptt's (``TreeManager.move_node``, which the tests compare against):
    one tree per root, roots ordered by tree_id. ``category`` is updated in memory to its new
    place; with ``stamp`` the same UPDATE bumps its version and lastModifiedAt (callers that save
    the record afterwards leave that to ``save_record``).
    """
    if target is not None and is_in_subtree(target, category):
        relation = "next to" if position in ("left", "right") else "under"
        raise errors.CategoryCycle(
            f"Category [{category.pk}] cannot be moved {relation} category [{target.pk}]: "
            "that is the category itself or one of its descendants."
        )
    if target is None or (target.parent_id is None and position in ("left", "right")):
        plan = _root_level_plan(category, target, position)
    else:
        plan = _subtree_plan(category, target, position)
    if plan is None or not plan.moves(category):
        return False
    _write_move(category, plan, stamp=stamp)
    return True


def _subtree_plan(category: Category, target: Category, position: Position) -> MovePlan:
    """A child of ``target``, or a sibling of a non-root ``target``: into its tree."""
    width = category.rght - category.lft + 1
    if position in ("first-child", "last-child"):
        parent_id, level = target.pk, target.level + 1
        after = target.lft if position == "first-child" else target.rght - 1
    else:
        parent_id, level = target.parent_id, target.level
        after = target.lft - 1 if position == "left" else target.rght
    # ``after``: the position (in the target tree as it is) the subtree is inserted after.
    level_shift = level - category.level
    if target.tree_id != category.tree_id:  # closes the gap behind, opens one in the target tree
        return MovePlan(
            parent_id,
            target.tree_id,
            after + 1 - category.lft,
            level_shift,
            gaps=(
                (category.tree_id, category.rght + 1, MAX_POSITION, -width),
                (target.tree_id, after + 1, MAX_POSITION, width),
            ),
        )
    if after >= category.rght:  # to the right: the positions in between move left
        new_left = after - width + 1
        gap = (category.tree_id, category.rght + 1, after, -width)
    else:  # to the left: the positions in between move right
        new_left = after + 1
        gap = (category.tree_id, after + 1, category.lft - 1, width)
    return MovePlan(parent_id, category.tree_id, new_left - category.lft, level_shift, (gap,))


def _root_level_plan(
    category: Category, target: Category | None, position: Position
) -> MovePlan | None:
    """A root next to the root ``target`` (``None``: before the first / after the last root).

    ``None`` when there is no other root to stand next to.
    """
    roots: list[tuple[int, int]] | None = None
    if target is None:
        roots = _roots()
        others = [tree_id for pk, tree_id in roots if pk != category.pk]
        if not others:
            return None  # the only root stays the only root
        target_tree = others[0] if position == "first-child" else others[-1]
        position = "left" if position == "first-child" else "right"
    else:
        target_tree = target.tree_id
    if category.parent_id is not None:
        # A new tree beside the target's: the trees from there on move up one.
        new_tree = target_tree if position == "left" else target_tree + 1
        width = category.rght - category.lft + 1
        return MovePlan(
            None,
            new_tree,
            1 - category.lft,
            -category.level,
            gaps=((category.tree_id, category.rght + 1, MAX_POSITION, -width),),
            trees=(new_tree, MAX_POSITION, 1),
        )
    # A root between other roots: the trees in between move one place towards its old one.
    tree_ids = [tree_id for _, tree_id in (roots if roots is not None else _roots())]
    current = category.tree_id
    if target_tree > current:
        new_tree = target_tree
        if position == "left":
            new_tree = max(tree_id for tree_id in tree_ids if tree_id < target_tree)
        trees = (current, new_tree, -1)
    else:
        new_tree = target_tree
        if position == "right":
            new_tree = min(tree_id for tree_id in tree_ids if tree_id > target_tree)
        trees = (new_tree, current, 1)
    return MovePlan(None, new_tree, trees=trees)


def _roots() -> list[tuple[int, int]]:
    """``(pk, tree_id)`` of every root, in order."""
    return list(
        Category.objects.filter(parent=None).order_by("tree_id").values_list("pk", "tree_id")
    )


def _write_move(category: Category, plan: MovePlan, *, stamp: bool) -> None:
    """The one UPDATE of a move (every expression reads the rows as they were)."""
    moving = Q(tree_id=category.tree_id, lft__range=(category.lft, category.rght))
    touched = moving
    for tree_id, low, high, _ in plan.gaps:
        touched |= Q(tree_id=tree_id, lft__range=(low, high))
        touched |= Q(tree_id=tree_id, rght__range=(low, high))

    def positions(column: str) -> Case:
        return Case(
            When(moving, then=F(column) + plan.shift),
            *(
                When(
                    Q(tree_id=tree_id, **{f"{column}__range": (low, high)}), then=F(column) + delta
                )
                for tree_id, low, high, delta in plan.gaps
            ),
            default=F(column),
            output_field=IntegerField(),
        )

    tree_ids = [When(moving, then=Value(plan.tree_id))]
    if plan.trees is not None:
        low, high, delta = plan.trees
        tree_ids.append(When(tree_id__range=(low, high), then=F("tree_id") + delta))
        touched |= Q(tree_id__range=(low, high))
    itself = Q(pk=category.pk)
    values: dict[str, Any] = {
        "lft": positions("lft"),
        "rght": positions("rght"),
        "tree_id": Case(*tree_ids, default=F("tree_id"), output_field=IntegerField()),
        "level": Case(
            When(moving, then=F("level") + plan.level_shift),
            default=F("level"),
            output_field=IntegerField(),
        ),
        "parent_id": Case(
            When(itself, then=Value(plan.parent_id)),
            default=F("parent_id"),
            output_field=BigIntegerField(),
        ),
    }
    now = timezone.now()  # one instant for the row and the instance
    if stamp:
        values["version"] = Case(
            When(itself, then=F("version") + 1), default=F("version"), output_field=IntegerField()
        )
        values["last_modified_at"] = Case(
            When(itself, then=Value(now, output_field=DateTimeField())),
            default=F("last_modified_at"),
        )
    plain(Category).filter(touched).update(**values)
    category.parent_id = plan.parent_id
    category.tree_id = plan.tree_id
    category.lft += plan.shift
    category.rght += plan.shift
    category.level += plan.level_shift
    category._mptt_meta.update_mptt_cached_fields(category)
    if stamp:
        category.version += 1
        category.last_modified_at = now


def category_delete_refusal(category: Category) -> errors.CategoryNotEmpty | None:
    """Why ``category`` cannot be deleted (its children and linked items, counted), or None.

    ``category_delete`` asks under the tree lock; the back office also asks before showing its
    confirmation page (advisory there: the delete itself asks again).
    """
    children = Category.objects.filter(parent=category).count()
    linked = {kind.key: kind.count_linked(category.pk) for kind in link_kinds()}
    if not children and not any(linked.values()):
        return None
    return category_not_empty(category.pk, children, linked)


@transaction.atomic
def category_delete(*, category_id: int, if_match: str | None = None) -> None:
    """Delete a category that holds nothing.

    Raises CategoryNotFound, PreconditionFailed, and CategoryNotEmpty (409) while it has
    children or products or clusters linked to it (primary or secondary), counting each.
    """
    lock_category_tree()
    category = _locked(category_id)
    check_if_match(if_match, category)
    refusal = category_delete_refusal(category)
    if refusal is not None:
        raise refusal
    outbox.deleted(category)
    try:
        with transaction.atomic():
            category.delete()
    except ProtectedError as exc:  # a relation no link kind reports yet
        raise errors.CategoryNotEmpty(
            f"Category [{category.pk}] cannot be deleted: other records still refer to it."
        ) from exc


def category_not_empty(category_id: int, children: int, linked: dict[str, int]) -> errors.ApiError:
    """The 30008 refusal, counting what the category still holds (``linked``: per link kind)."""
    held = [f"{children} {'child' if children == 1 else 'children'}"] + [
        f"{count} {key}" for key, count in linked.items()
    ]
    return errors.CategoryNotEmpty(
        f"Category [{category_id}] cannot be deleted: it holds {', '.join(held[:-1])} "
        f"and {held[-1]}."
    )


@transaction.atomic
def category_remove_translation(*, category_id: int, language: str) -> Category:
    """Clear every localized value of ``language`` (SPEC §6)."""
    lock_category_tree()
    category = _locked(category_id)
    watch = outbox.watch(category)
    remove_record_translation(category, CATEGORY, language)
    watch.record()
    return category


@transaction.atomic
def rebuild_category_tree() -> int:
    """Recompute lft/rght/tree_id/level from ``parent`` (the source of truth); returns how many
    rows changed.

    Unlike ``TreeManager.rebuild()`` this keeps the current order of roots and siblings (by
    tree_id and lft), so a repair does not shuffle the catalogue. Raises
    PayloadValidationError when parent links form a cycle (nothing can be rebuilt then).
    """
    lock_category_tree()
    rows = list(
        Category.objects.order_by("tree_id", "lft", "pk").values_list(
            "pk", "parent_id", "tree_id", "lft", "rght", "level"
        )
    )
    children: dict[int | None, list[int]] = defaultdict(list)
    for pk, parent_id, *_ in rows:
        children[parent_id].append(pk)
    wanted: dict[int, tuple[int, int, int, int]] = {}
    for tree_id, root in enumerate(children[None], start=1):
        wanted.update(number_tree(root, tree_id, children))
    unreachable = [pk for pk, *_ in rows if pk not in wanted]
    if unreachable:
        raise errors.PayloadValidationError(
            f"Categories {unreachable[:20]} do not lead to a root (their parents form a cycle)."
        )
    changed: list[Category] = []
    for pk, _, *current in rows:
        tree_id, left, right, level = wanted[pk]
        if tuple(current) != wanted[pk]:
            changed.append(Category(pk=pk, tree_id=tree_id, lft=left, rght=right, level=level))
    Category.objects.bulk_update(changed, ["tree_id", "lft", "rght", "level"], batch_size=500)
    return len(changed)


def number_tree(
    root: int, tree_id: int, children: Mapping[int | None, Sequence[int]]
) -> dict[int, tuple[int, int, int, int]]:
    """Nested-set positions of one tree from its children lists (in sibling order):
    ``{pk: (tree_id, lft, rght, level)}``. Iterative, so depth is not bounded by recursion."""
    positions: dict[int, tuple[int, int, int, int]] = {}
    lefts: dict[int, int] = {}
    counter = 0
    stack: list[tuple[int, int, bool]] = [(root, 0, False)]
    while stack:
        pk, level, closing = stack.pop()
        counter += 1
        if closing:
            positions[pk] = (tree_id, lefts[pk], counter, level)
            continue
        lefts[pk] = counter
        stack.append((pk, level, True))
        stack.extend((child, level + 1, False) for child in reversed(children.get(pk, ())))
    return positions
