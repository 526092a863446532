"""Bulk upserts and removals of categories (SPEC §10, §14): ``POST /v2/categories/bulk/{lookupKey}``
and ``import_catalogue --entity categories`` run this one implementation.

Keys: ``id`` (never creates) and ``sourceId`` + ``source``. At most 1000 items. A ``parent`` may
name an existing category or another item of the same request, in any order (a child may come
before its parent); a reference that would make a category its own ancestor fails the items on
the cycle (30009), and items hanging under a failed item fail with it.

The whole request runs under the category tree lock. The rows are written set-based and the
nested-set columns of the touched trees are then recomputed in Python from ``parent`` (the single
source of truth) and written with one statement: what mptt's ``partial_rebuild`` does, without
its per-1000-row ``CASE`` updates and keeping each tree's sibling order (moved and new categories
become last children, as in a single move).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count, Max, Model

from config.api import errors
from records.bulk import (
    Item,
)
from records.bulk_records import (
    RecordBulk,
    RecordPlan,
    id_key,
    plain,
    reference_text,
    source_key,
)
from records.bulk_sql import update_rows
from taxonomy.models import Category
from taxonomy.relationships import link_kinds
from taxonomy.schemas import CATEGORY_BODY, CATEGORY_PATCH
from taxonomy.search import category_search_text
from taxonomy.services import (
    CATEGORY,
    SCALAR_FIELDS,
    category_not_empty,
    lock_category_tree,
    number_tree,
)

TREE_COLUMNS = ("parent_id", "lft", "rght", "tree_id", "level")
Node = tuple[str, int]  # ("db", category id) or ("new", item index)


class CategoryBulk(RecordBulk):
    label = "Category"
    items_key = "categories"
    max_items = 1000
    spec = CATEGORY
    schema = CATEGORY_PATCH
    required_on_create = CATEGORY_BODY.required
    not_found = errors.CategoryNotFound
    multiple = errors.CategoryMultipleFound
    scalar_fields = SCALAR_FIELDS
    structural = TREE_COLUMNS
    keys = {"id": id_key(), "sourceId": source_key()}
    search_document = staticmethod(category_search_text)

    def prepare(self, plan: RecordPlan) -> None:
        if plan.lock:
            lock_category_tree()  # every structural tree write is serialised (SPEC §10)
        super().prepare(plan)

    def new_row(self, plan: RecordPlan) -> dict[str, Any]:
        row = super().new_row(plan)
        row.update(parent_id=None, lft=0, rght=0, tree_id=0, level=0)  # set by the tree step
        return row

    def referenced_pairs(self, item: Item):
        parent = item.data.get("parent")
        if parent and "source" in parent:
            yield (parent["source"], parent["sourceId"])

    # --- references --------------------------------------------------------------------------

    def resolve(self, plan: RecordPlan) -> None:
        """Turn every ``parent`` into a node: an existing category or a created item."""
        directives, items = plan.directives, plan.items
        wanted: list[tuple[Item, dict | None]] = []
        for item in plan.live("create", "update"):
            if "parent" not in item.data:
                continue
            if item.result == "update" and (
                directives.skip_move_on_update
                or ("parent" in directives.skip_if_not_empty and item.stored["parent_id"])
            ):
                continue
            wanted.append((item, item.data["parent"]))
        ids = {ref["id"] for _, ref in wanted if ref and "id" in ref}
        existing = dict(plain(Category).filter(pk__oneof=ids).values_list("pk", "tree_id"))
        for item, ref in wanted:
            target: Node | None = None
            if ref is not None and "id" in ref:
                target = ("db", ref["id"]) if ref["id"] in existing else None
            elif ref is not None:
                pair = (ref["source"], ref["sourceId"])
                if pair in plan.pair_owner:
                    target = ("db", plan.pair_owner[pair])
                elif pair in plan.claims:
                    owner = items[plan.claims[pair]]
                    target = ("new", owner.index) if owner.result == "create" else ("db", owner.id)
            if ref is not None and target is None:
                item.fail(
                    errors.ParentCategoryNotFound(f"Category with {reference_text(ref)} not found.")
                )
                continue
            item.scratch["parent"] = target
            if item.result == "update":
                stored = item.stored["parent_id"]
                item.scratch["moves"] = target != (("db", stored) if stored else None)
        self._load_trees(plan)

    def structure_changed(self, item: Item) -> bool:
        return bool(item.scratch.get("moves"))

    def event_changes(self, plan: RecordPlan, item: Item) -> tuple[str | None, dict[str, Any]]:
        """A re-parented category's event is ``moved`` with its parent before and after."""
        node = item.scratch.get("parent")
        if item.result not in ("create", "update") or (
            item.result == "update" and not item.scratch.get("moves")
        ):
            return None, {}
        parent = None if node is None else (node[1] if node[0] == "db" else plan.items[node[1]].id)
        before = item.stored["parent_id"] if item.stored else None
        change = {"parent": {"before": _ref(before), "after": _ref(parent)}}
        return ("moved" if item.result == "update" else None), change

    def _load_trees(self, plan: RecordPlan) -> None:
        """Every node of the trees this request changes: one query."""
        trees: set[int] = set()
        db_targets: set[int] = set()
        for item in plan.live("create", "update", "remove"):
            target = item.scratch.get("parent")
            if target and target[0] == "db":
                db_targets.add(target[1])
            if item.result == "remove" or item.scratch.get("moves"):
                trees.add(item.stored["tree_id"])
        if db_targets:
            trees.update(
                plain(Category).filter(pk__oneof=db_targets).values_list("tree_id", flat=True)
            )
        nodes: dict[int, tuple[int | None, int, int, int, int]] = {}
        if trees:
            rows = plain(Category).filter(tree_id__oneof=trees).values_list("pk", *TREE_COLUMNS)
            for pk, parent, lft, rght, tree_id, level in rows:
                nodes[pk] = (parent, tree_id, lft, rght, level)
        plan.extra["trees"], plan.extra["nodes"] = trees, nodes

    # --- structure ---------------------------------------------------------------------------

    def check(self, plan: RecordPlan) -> None:
        """Cycles (30009), items under failed items (30007), non-empty removals (30008); repeated
        until stable, since each failure leaves the stored structure in place."""
        links = self._linked_counts(plan)
        while True:
            parents = self._final_parents(plan)
            failed = self._fail_cycles(plan, parents)
            failed |= self._fail_orphans(plan)
            failed |= self._fail_non_empty(plan, parents, links)
            if not failed:
                plan.extra["parents"] = parents
                return

    def _final_parents(self, plan: RecordPlan) -> dict[Node, Node | None]:
        parents: dict[Node, Node | None] = {
            ("db", pk): (("db", parent) if parent else None)
            for pk, (parent, *_) in plan.extra["nodes"].items()
        }
        for item in plan.live("create", "update"):
            if "parent" not in item.scratch:
                continue
            node = ("new", item.index) if item.result == "create" else ("db", item.id)
            parents[node] = item.scratch["parent"]
        for item in plan.live("remove"):
            parents.pop(("db", item.id), None)
        for item in plan.live("create"):  # created at the root
            parents.setdefault(("new", item.index), None)
        return parents

    def _fail_cycles(self, plan: RecordPlan, parents: dict[Node, Node | None]) -> bool:
        failed = False
        for item in plan.live("create", "update"):
            if not (item.result == "create" or item.scratch.get("moves")):
                continue
            node = ("new", item.index) if item.result == "create" else ("db", item.id)
            seen, current = {node}, parents.get(node)
            while current is not None and current not in seen:
                seen.add(current)
                current = parents.get(current)
            if current == node:
                item.fail(
                    errors.CategoryCycle(
                        f"The parent {reference_text(item.data['parent'])} would make this "
                        "category its own ancestor."
                    )
                )
                failed = True
        return failed

    def _fail_orphans(self, plan: RecordPlan) -> bool:
        failed = False
        for item in plan.live("create", "update"):
            target = item.scratch.get("parent")
            if target and target[0] == "new" and not plan.items[target[1]].ok:
                item.fail(
                    errors.ParentCategoryNotFound(
                        f"The parent (item {target[1]} of this request) could not be written."
                    )
                )
                failed = True
        return failed

    def _linked_counts(self, plan: RecordPlan) -> dict[int, dict[str, int]]:
        """What still points at each category to remove, per kind of item (``products``,
        ``clusters``), primary and secondary links alike: one query per relation, whatever the
        number of removals. Source links belong to the category and go with it."""
        ids = [item.id for item in plan.live("remove")]
        found: dict[int, dict[str, int]] = {}
        if not ids:
            return found
        for relation in Category._meta.related_objects:
            related = relation.through if relation.many_to_many else relation.related_model
            if related in (Category, self.spec.source_model):
                continue
            fk = next(
                f.attname
                for f in related._meta.concrete_fields
                if f.is_relation and f.related_model is Category
            )
            kind = _item_kind(related)
            rows = plain(related).filter(**{f"{fk}__oneof": ids}).values_list(fk)
            for owner, n in rows.annotate(n=Count("pk")).order_by():
                counts = found.setdefault(owner, dict.fromkeys(_kinds(), 0))
                counts[kind] = counts.get(kind, 0) + n
        return found

    def _fail_non_empty(
        self,
        plan: RecordPlan,
        parents: dict[Node, Node | None],
        links: dict[int, dict[str, int]],
    ) -> bool:
        children: dict[int, int] = defaultdict(int)
        for parent in parents.values():
            if parent and parent[0] == "db":
                children[parent[1]] += 1
        failed = False
        for item in plan.live("remove"):
            linked = links.get(item.id) or dict.fromkeys(_kinds(), 0)
            if children[item.id] or any(linked.values()):
                item.fail(category_not_empty(item.id, children[item.id], linked))
                failed = True
        return failed

    # --- write -------------------------------------------------------------------------------

    def write_extra(self, plan: RecordPlan) -> None:
        """Lay out the touched trees again and write the nested-set columns that changed."""
        layout = _layout(plan)
        if layout:
            update_rows(Category, list(TREE_COLUMNS), layout)


def _ref(pk: int | None) -> dict[str, int] | None:
    return None if pk is None else {"id": pk}


def _layout(plan: RecordPlan) -> list[dict[str, Any]]:
    items, nodes = plan.items, plan.extra["nodes"]
    arrivals = [
        item
        for item in plan.live("create", "update")
        if item.result == "create" or item.scratch.get("moves")
    ]
    if not arrivals and not plan.live("remove"):
        return []

    def pk(node: Node | None) -> int | None:
        if node is None:
            return None
        return node[1] if node[0] == "db" else items[node[1]].id

    parents = {pk(node): pk(parent) for node, parent in plan.extra["parents"].items()}
    arrived = {item.id for item in arrivals}
    # Siblings keep their order; arrivals (new or moved) become last children in request order.
    stay = sorted(
        (n for n in parents if n not in arrived and n in nodes),
        key=lambda n: (nodes[n][1], nodes[n][2]),
    )
    children: dict[int | None, list[int]] = defaultdict(list)
    for node in [*stay, *(item.id for item in arrivals)]:
        children[parents[node]].append(node)
    next_tree = (plain(Category).aggregate(m=Max("tree_id"))["m"] or 0) + 1
    rows: list[dict[str, Any]] = []
    for root in children[None]:
        if root in nodes and nodes[root][0] is None and root not in arrived:
            tree_id = nodes[root][1]  # an existing root keeps its tree
        else:
            tree_id, next_tree = next_tree, next_tree + 1
        for node, (tree, lft, rght, level) in number_tree(root, tree_id, children).items():
            if nodes.get(node) != (parents[node], tree, lft, rght, level):
                rows.append(
                    {"id": node, "parent_id": parents[node], "lft": lft, "rght": rght}
                    | {"tree_id": tree, "level": level}
                )
    return rows


def _kinds() -> list[str]:
    """The kinds of items categories hold, in the order messages list them (SPEC §10.1)."""
    return [kind.key for kind in link_kinds()]


def _item_kind(model: type[Model]) -> str:
    """The kind of item a relation to categories counts (``products``): the model itself when it
    points at its (primary) category, or the item a link table ties to a category: a model unique
    on (category, item), like the secondary links."""
    to_category = next(
        f.name for f in model._meta.concrete_fields if f.is_relation and f.related_model is Category
    )
    for constraint in model._meta.constraints:
        fields = set(getattr(constraint, "fields", ()))
        if len(fields) == 2 and to_category in fields:
            item = model._meta.get_field((fields - {to_category}).pop()).related_model
            if item is not None:
                return str(item._meta.verbose_name_plural)
    return str(model._meta.verbose_name_plural)


CATEGORIES = CategoryBulk()
