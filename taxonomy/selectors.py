"""Read use cases of the category tree.

Every category handed to the representation carries ``child_count`` (an annotation), its
``sources`` and ``path_ids`` (ids from the root down to the parent); each of these costs one
query for a whole page or a whole tree, never one per row. Pages and single categories are model
instances (prefetched sources); the tree is ``values()`` rows (``category_row_fields()``), since
building thousands of instances cost more than the rest of the request.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.conf import settings
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from config.api import errors
from records.bulk_records import plain
from records.filters import COMMON_SORTS, filter_queryset
from records.localized import column, languages
from records.lookups import LookupSpec, by_id, by_source
from taxonomy.filtersets import CategoryFilterSet
from taxonomy.models import Category, CategorySource
from taxonomy.querysets import ancestors_condition, subtree_condition
from taxonomy.translation import LOCALIZED_FIELDS


def by_slug(value: str, params: Mapping[str, str]) -> tuple[Q, str]:
    """``slug`` in the language of the ``language`` parameter (default: the catalogue's)."""
    language = (params.get("language") or settings.CATALOGUE_DEFAULT_LANGUAGE).lower()
    if language not in languages():
        raise errors.SchemaValidationException(
            fields={"language": [f"Unknown language '{params.get('language')}'."]}
        )
    return Q(**{column("slug", language): value}), f"slug [{value}] in language {language.upper()}"


CATEGORY_LOOKUP = LookupSpec(
    label="Category",
    collection="categories",
    keys={"id": by_id, "sourceId": by_source(), "slug": by_slug},
    not_found=errors.CategoryNotFound,
    multiple=errors.CategoryMultipleFound,
)
CATEGORY_SORTS = dict(COMMON_SORTS)
# Children default to tree order (``position``); lft is unique among siblings.
CHILDREN_SORTS = {"position": "lft", **CATEGORY_SORTS}


def category_by_ref(
    ref: Mapping[str, Any], *, missing: type[errors.ApiError] = errors.ParentCategoryNotFound
) -> Category:
    """Resolve a category reference (``{"id"}`` or ``{"sourceId", "source"}``) or raise ``missing``."""
    if "id" in ref:
        condition, text = Q(pk=ref["id"]), f"id [{ref['id']}]"
    else:
        condition = Q(sources__source=ref["source"], sources__source_id=ref["sourceId"])
        text = f"sourceId [{ref['sourceId']}] and source [{ref['source']}]"
    category = Category.objects.filter(condition).first()
    if category is None:
        raise missing(f"Category with {text} not found.")
    return category


def category_row_fields() -> tuple[str, ...]:
    """The columns the representation reads (``values()`` names); a row adds ``child_count``,
    ``path_ids`` and ``sources`` (``[{"source", "sourceId"}]`` in link order)."""
    return (
        "id",
        "version",
        "created_at",
        "last_modified_at",
        "language",
        "parent_id",
        "hidden",
        "priority",
        "level",
        *(column(base, language) for base in LOCALIZED_FIELDS for language in languages()),
    )


def _child_count() -> Coalesce:
    children = (
        Category.objects.filter(parent=OuterRef("pk"))
        .order_by()
        .values("parent")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(children, output_field=IntegerField()), 0)


def categories_for_output() -> QuerySet:
    """Categories with what their representation reads (child count, sources)."""
    return (
        Category.objects.defer("search_text")
        .annotate(child_count=_child_count())
        .prefetch_related(Prefetch("sources", queryset=CategorySource.objects.order_by("pk")))
    )


def attach_paths(rows: Iterable[Category]) -> list[Category]:
    """Set ``path_ids`` on each row with one query for all of them (none when all are roots).

    Siblings share their ancestors, so one condition per distinct parent is enough.
    """
    rows = list(rows)
    representatives: dict[int, Category] = {}
    for row in rows:
        if row.parent_id is not None:
            representatives.setdefault(row.parent_id, row)
    parent_of: dict[int, int | None] = {}
    if representatives:
        condition = Q(pk__in=[])
        for row in representatives.values():
            condition |= ancestors_condition(row)
        parent_of = dict(
            Category.objects.filter(condition).order_by().values_list("pk", "parent_id")
        )
    for row in rows:
        path: list[int] = []
        node = row.parent_id
        while node is not None and len(path) <= len(parent_of):
            path.append(node)
            node = parent_of.get(node)
        row.path_ids = path[::-1]
    return rows


def category_list(params: Mapping[str, str]) -> QuerySet:
    return filter_queryset(CategoryFilterSet, params, categories_for_output())


def category_get(
    key: str,
    value: str,
    params: Mapping[str, str],
    *,
    not_found: type[errors.ApiError] | None = None,
) -> Category:
    """One category by lookup key, ready to render (``not_found``: 30006 unless told)."""
    category = CATEGORY_LOOKUP.get(categories_for_output(), key, value, params, not_found)
    attach_paths([category])
    return category


def category_by_id(pk: int) -> Category:
    """The category with id ``pk``, ready to render (a write's reply)."""
    return category_get("id", str(pk), {})


def category_find(
    key: str,
    value: str,
    params: Mapping[str, str],
    *,
    not_found: type[errors.ApiError] | None = None,
) -> Category:
    """The category of a URL, bare (for writes and sub-resources, which render other rows)."""
    return CATEGORY_LOOKUP.get(Category.objects.all(), key, value, params, not_found)


def category_children(category: Category, params: Mapping[str, str]) -> QuerySet:
    """Direct children, filtered like the list; paginate with ``CHILDREN_SORTS``."""
    return category_list(params).filter(parent=category)


def category_ancestors(category: Category) -> list[Category]:
    """From the root down to the parent (the category itself excluded)."""
    rows = list(categories_for_output().filter(ancestors_condition(category)).order_by("lft"))
    path: list[int] = []
    for row in rows:
        row.path_ids = list(path)
        path.append(row.pk)
    return rows


def category_scope(category: Category, *, include_descendants: bool) -> QuerySet:
    """The ids (``values("pk")``) of the category, or of its whole subtree."""
    if include_descendants:
        return Category.objects.filter(subtree_condition(category)).order_by().values("pk")
    return Category.objects.filter(pk=category.pk).order_by().values("pk")


def category_tree(*, root_id: int | None, depth: int | None) -> list[dict[str, Any]]:
    """The forest (or the subtree of ``root_id``) as nested rows, ``depth`` levels below the top.

    Each row (see ``category_row_fields``) gets ``children``, in tree order. The cost does not
    depend on the size of the tree: one query for the rows, one for their sources, and (for a
    ``root``) one for the root and one for its ancestors.
    """
    scope = plain(Category)
    top_level, top_path = 0, []
    if root_id is not None:
        root = Category.objects.filter(pk=root_id).first()
        if root is None:
            raise errors.CategoryNotFound(f"Category with id [{root_id}] not found.")
        scope = scope.filter(subtree_condition(root))
        top_level = root.level
        top_path = attach_paths([root])[0].path_ids
    if depth is not None:
        scope = scope.filter(level__lte=top_level + depth)
    sources: dict[int, list[dict[str, str]]] = defaultdict(list)
    links = plain(CategorySource).filter(category__in=scope.values("pk")).order_by("pk")
    for owner, source, source_id in links.values_list("category_id", "source", "source_id"):
        sources[owner].append({"source": source, "sourceId": source_id})
    rows = (
        scope.annotate(child_count=_child_count())
        .order_by("tree_id", "lft")
        .values(*category_row_fields(), "child_count")
    )
    tops: list[dict[str, Any]] = []
    by_id: dict[int, dict[str, Any]] = {}
    for row in rows:
        row["sources"] = sources.get(row["id"], [])
        row["children"] = []
        by_id[row["id"]] = row
        parent = by_id.get(row["parent_id"]) if row["level"] > top_level else None
        if parent is None:
            row["path_ids"] = list(top_path)
            tops.append(row)
        else:
            row["path_ids"] = [*parent["path_ids"], parent["id"]]
            parent["children"].append(row)
    return tops


def tree_problems() -> list[str]:
    """Every violated invariant of the nested sets (empty when the tree is sound).

    Per tree: the lft/rght positions are exactly 1..2n without duplicates, lft < rght, one root,
    every interval nests inside its parent's (the nearest enclosing interval *is* the parent) and
    ``level`` is the depth. Together these imply ``rght - lft = 2 × descendants + 1``.
    """
    problems: list[str] = []
    rows = Category.objects.order_by("tree_id", "lft", "pk").values_list(
        "pk", "parent_id", "tree_id", "lft", "rght", "level"
    )
    for tree_id, group in groupby(rows, key=itemgetter(2)):
        nodes = list(group)
        problems += _tree_problems(tree_id, nodes)
    return problems


def _tree_problems(tree_id: int, nodes: list[tuple[Any, ...]]) -> list[str]:
    problems: list[str] = []
    positions = Counter(p for node in nodes for p in (node[3], node[4]))
    duplicates = sum(n - 1 for n in positions.values() if n > 1)
    if duplicates:
        problems.append(f"tree {tree_id}: {duplicates} duplicate lft/rght positions")
    if set(positions) != set(range(1, 2 * len(nodes) + 1)):
        problems.append(f"tree {tree_id}: positions are not exactly 1..{2 * len(nodes)}")
    roots = [node[0] for node in nodes if node[1] is None]
    if len(roots) != 1:
        problems.append(f"tree {tree_id}: {len(roots)} roots instead of 1")
    stack: list[tuple[int, int]] = []  # (pk, rght) of the open intervals
    for pk, parent_id, _, lft, rght, level in nodes:
        if lft >= rght:
            problems.append(f"category {pk}: lft {lft} is not below rght {rght}")
        while stack and stack[-1][1] < lft:
            stack.pop()
        enclosing = stack[-1][0] if stack else None
        if stack and rght > stack[-1][1]:
            problems.append(f"category {pk}: interval overlaps category {enclosing}")
        if enclosing != parent_id:
            problems.append(
                f"category {pk}: parent is {parent_id} but its interval lies under {enclosing}"
            )
        if level != len(stack):
            problems.append(f"category {pk}: level {level} but depth {len(stack)}")
        stack.append((pk, rght))
    return problems
