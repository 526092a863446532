"""Bulk upserts of clusters, their products and options (SPEC §14), set-based.

- ``POST /v2/clusters/bulk/{lookupKey}`` (id, sourceId, code, sku; 1000 clusters): items may nest
  ``products`` and ``options`` (options may nest ``products``); at most 2000 nested products
  (cluster and option products together) and 1000 options per request (413 otherwise).
- ``POST /v2/clusters/{lk}/{lv}/products/bulk``, ``…/options/bulk`` and
  ``/v2/clusteroptions/{lk}/{lv}/products/bulk``: the same resources with a fixed owner.

Nested items are matched by the same kind of key as the URL (``id`` items only update;
``sourceId`` + ``source`` items upsert; under ``code`` and ``sku`` nested items use ``sourceId`` +
``source``, as options have neither and products no code). All nested products of a request are one product bulk
(one set of reads and writes, repeated keys across clusters and options → 10020); all nested
options one option bulk. A nested product is made a member of its cluster (it leaves its
primary category and any other cluster, whose default product is cleared when it pointed at it)
or a selectable product of its option (appended in request order).
"""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace
from typing import Any

from django.db.models import F, Max, Q
from django.utils import timezone

from catalogue.bulk import ProductBulk
from catalogue.models import Product, ProductSource
from catalogue.schemas import PRODUCT_PATCH
from changes import outbox
from clusters.models import (
    Cluster,
    ClusterConfig,
    ClusterOption,
    ClusterProduct,
    OptionProduct,
)
from clusters.schemas import CLUSTER_BODY, OPTION_BODY, cluster_fields, option_fields
from clusters.search import cluster_search_text
from clusters.services import CLUSTER, OPTION
from config.api import errors
from records.bulk import (
    SKIP_CREATE,
    SKIP_UNCHANGED,
    BulkKey,
    BulkResult,
    Item,
    parse_items,
)
from records.bulk_records import (
    RecordBulk,
    RecordPlan,
    id_key,
    plain,
    reference_text,
    source_key,
)
from records.bulk_sql import insert_rows, rows_by_pairs
from records.outcomes import ErrorRenderer
from records.rules import check_sources
from records.validation import Errors, Field, Obj, Str, add_error
from taxonomy.models import Category, CategorySource

MAX_NESTED_PRODUCTS = 2000
MAX_NESTED_OPTIONS = 1000
MEMBER, SELECTABLE = "member", "selectable"


class Nested(Field):
    """A list of nested bulk items, kept raw: each item is validated on its own later."""

    json_type = "array"

    def __init__(self, item_schema: Obj, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.item_schema = item_schema

    def convert(self, value: Any, path: str, errs: Errors) -> Any:
        if not isinstance(value, list):
            return add_error(errs, path, "Expected an array.")
        return value

    def openapi(self) -> dict:
        schema = super().openapi()
        schema["items"] = self.item_schema.openapi()  # bodies without required keys
        return schema


def _check(cleaned: dict, path: str, errs: Errors) -> None:
    check_sources(cleaned, path, errs)


OPTION_ITEM = Obj(
    {
        **option_fields(),
        "products": Nested(PRODUCT_PATCH, description="Products made selectable in the option."),
    },
    check=_check,
    name="ClusterOptionNestedItem",
)
CLUSTER_ITEM = Obj(
    {
        **cluster_fields(),
        "products": Nested(PRODUCT_PATCH, description="Products made members of the cluster."),
        "options": Nested(OPTION_ITEM, description="Options of the cluster (may nest products)."),
    },
    check=_check,
)


def nested_key(name: str) -> BulkKey:
    """The key of nested items: the URL's kind (``code``, ``sku`` → ``sourceId``)."""
    return id_key() if name == "id" else source_key()


def _owner_failed(item: Item, owner: Item, label: str) -> None:
    """A nested item whose owner is not written: skipped with it, or failed."""
    if owner.ok and owner.result == "skip" and owner.reason == SKIP_CREATE:
        item.result, item.reason, item.row = "skip", SKIP_CREATE, None
        return
    if owner.ok and owner.result == "remove":
        item.fail(errors.PayloadValidationError(f"A removed {label} takes no nested items."))
        return
    item.fail(
        errors.PayloadValidationError(
            f"The {label} of this item failed (see its outcome); nothing was written for it."
        )
    )


def _owner_live(owner: Any) -> bool:
    """Whether the owner will exist after the write (not yet planned counts as alive)."""
    return (
        getattr(owner, "ok", True)
        and getattr(owner, "result", None) != "remove"
        and getattr(owner, "reason", None) != SKIP_CREATE
    )


def _nested_product_ids(items: list[Item]) -> dict[int, set[int]]:
    """Ids of the existing products nested items name, by owner (one query for source pairs)."""
    pairs = {(i.key[1], i.key[0]) for i in items if i.ok and i.lookup_key == "sourceId"}
    found = rows_by_pairs(
        ProductSource, ("source", "source_id"), pairs, ["source", "source_id", "product_id"]
    )
    by_pair = {(s, i): p for s, i, p in found}
    ids: dict[int, set[int]] = defaultdict(set)
    for item in items:
        if not item.ok or item.action == "remove":
            continue
        owner = id(item.scratch["owner"])
        pk = item.key[0] if item.lookup_key == "id" else by_pair.get((item.key[1], item.key[0]))
        if pk is not None:
            ids[owner].add(pk)
    return ids


def _check_defaults(
    owners: list[Item],
    link_model: type,
    owner_field: str,
    nested: dict[int, set[int]],
    label: str,
    keep_stored: bool = False,
) -> None:
    """``defaultProduct`` must be one of the owner's products: stored or nested in the item."""
    wanted = [
        o
        for o in owners
        if o.ok
        and o.result in ("create", "update")
        and "default_product" in o.data
        and not (keep_stored and o.stored and o.stored["default_product_id"])
    ]
    refs = {o.data["default_product"]["id"] for o in wanted if o.data["default_product"]}
    owner_ids = [o.id for o in wanted if o.id]
    stored: set[tuple[int, int]] = set()
    if refs and owner_ids:
        stored = set(
            link_model.objects.filter(
                **{f"{owner_field}__in": owner_ids, "product_id__oneof": refs}
            ).values_list(owner_field, "product_id")
        )
    for owner in wanted:
        ref = owner.data["default_product"]
        if ref is None:
            owner.row["default_product_id"] = None
            continue
        pk = ref["id"]
        if (owner.id, pk) in stored:
            owner.row["default_product_id"] = pk
        elif pk in nested.get(id(owner), ()):
            owner.row["default_product_id"] = pk
            owner.scratch["default_nested"] = pk
        else:
            owner.fail(
                errors.PayloadValidationError(
                    f"defaultProduct [{pk}] is not one of the {label}'s products."
                )
            )


# --- products inside a cluster or an option ---------------------------------------------------


class LinkedProductBulk(ProductBulk):
    """Products upserted as members of a cluster or selectable products of an option.

    Each item's ``scratch["owner"]`` is the owner (a planned item, or a fixed record with an
    ``id``) and ``scratch["role"]`` says which link it gets.

    The scope rule (SPEC §11, §12), for a token without ``products:write``
    (``products_write=False``): a member item may create a product inside its cluster or update
    a product that already is a member of it, never bring in a product from outside; a
    selectable item may make an existing product selectable, never create a product nor carry
    product fields. A refused item fails with InsufficientScope (10002) and nothing of it is
    written.

    ``remove`` of a member deletes the product (it must be a member of the cluster, whose
    default product is cleared). ``remove`` of a selectable product only makes it unselectable
    (it must be selectable in the option, whose default product is cleared): products are never
    deleted through an option. Making a product selectable does not change the product.
    """

    def __init__(self, *, products_write: bool = True) -> None:
        self.products_write = products_write

    def resolve(self, plan: RecordPlan) -> None:
        for item in plan.live("create", "update"):
            if item.scratch["role"] == MEMBER and item.data.get("parent") is not None:
                item.fail(
                    errors.PayloadValidationError(
                        "A product in a cluster has the cluster as its primary home; "
                        "leave parent out."
                    )
                )
        super().resolve(plan)
        matched = [i for i in plan.live("update", "remove")]
        member_ids = [i.id for i in matched if i.scratch["role"] == MEMBER]
        homes = (
            dict(
                ClusterProduct.objects.filter(product_id__oneof=member_ids).values_list(
                    "product_id", "cluster_id"
                )
            )
            if member_ids
            else {}
        )
        selectable_ids = [i.id for i in matched if i.scratch["role"] == SELECTABLE]
        option_ids = {i.scratch["owner"].id for i in matched if i.scratch["role"] == SELECTABLE}
        selected = (
            {
                (option_id, product_id): pk
                for pk, option_id, product_id in OptionProduct.objects.filter(
                    product_id__oneof=selectable_ids, option_id__in=option_ids
                ).values_list("pk", "option_id", "product_id")
            }
            if selectable_ids
            else {}
        )
        for item in plan.live("create", "update", "remove"):
            if item.scratch["role"] == MEMBER:
                self._plan_member(item, homes)
            else:
                self._plan_selectable(item, selected, plan.key)

    def _plan_member(self, item: Item, homes: dict[int, int]) -> None:
        owner = item.scratch["owner"]
        member = owner.id is not None and homes.get(item.id) == owner.id
        if item.result == "remove":
            if not member:
                item.fail(
                    errors.ClusterProductNotFound(f"Product [{item.id}] is not in this cluster.")
                )
            return
        if item.result == "update" and not member and not self.products_write:
            item.fail(
                errors.InsufficientScope(
                    f"Product [{item.id}] is not a member of this cluster; bringing it in needs "
                    "the scope products:write."
                )
            )
            return
        item.row["parent_id"] = None
        if not member:
            item.scratch["extra_changed"] = True
            item.scratch["old_home"] = homes.get(item.id)
            item.scratch["link"] = True

    def _plan_selectable(self, item: Item, selected: dict[tuple, int], key: BulkKey) -> None:
        owner = item.scratch["owner"]
        link = selected.get((owner.id, item.id)) if owner.id is not None else None
        if item.result == "remove":
            if link is None:
                item.fail(
                    errors.OptionProductNotFound(f"Product [{item.id}] is not in this option.")
                )
            else:
                item.scratch["unselect"] = link
            return
        if not self.products_write:
            carried = _product_fields(item, key)
            if item.result == "create":
                item.fail(
                    errors.InsufficientScope(
                        "No product matches this item; creating one needs the scope products:write."
                    )
                )
                return
            if carried:
                item.fail(
                    errors.InsufficientScope(
                        f"The item carries product fields ({', '.join(carried)}); changing "
                        f"product [{item.id}] needs the scope products:write."
                    )
                )
                return
        if link is None:
            item.scratch["link"] = True

    def check(self, plan: RecordPlan) -> None:
        """A product newly made selectable and otherwise unchanged is a link-only update: the
        outcome says ``update``, the product row (and its version) stays as it is."""
        super().check(plan)
        for item in plan.live("skip"):
            if item.reason == SKIP_UNCHANGED and item.scratch.get("link"):
                item.result, item.reason = "update", None
                item.scratch["link_only"] = True

    def rows_to_update(self, plan: RecordPlan) -> list[Item]:
        return [i for i in plan.live("update") if not i.scratch.get("link_only")]

    def event_changes(self, plan: RecordPlan, item: Item) -> tuple[str | None, dict[str, Any]]:
        """A member that gets its home here: ``cluster`` before and after (an existing product
        coming from elsewhere, or from nowhere, is ``moved``), as a single assign says it."""
        action, extra = super().event_changes(plan, item)
        if item.scratch.get("role") != MEMBER or not item.scratch.get("link"):
            return action, extra
        old = item.scratch.get("old_home")
        change = {"before": None if old is None else {"id": old}}
        change["after"] = {"id": item.scratch["owner"].id}
        return ("moved" if item.result == "update" else action), {**extra, "cluster": change}

    def write(self, plan: RecordPlan) -> None:
        """The owners this write changes besides the products — clusters and options whose
        default product leaves, options whose selectable products change — get their events
        from set-based snapshots taken before it (a constant number of statements)."""
        clusters, options = self._owners_changed(plan)
        snapshots = [outbox.Snapshot(Cluster, clusters)] if clusters else []
        if options:
            snapshots.append(outbox.Snapshot(ClusterOption, options))
        super().write(plan)
        for snapshot in snapshots:
            snapshot.record()

    @staticmethod
    def _owners_changed(plan: RecordPlan) -> tuple[set[int], set[int]]:
        """Clusters whose default product may leave (a member removed or brought elsewhere),
        options whose selectable products change. (The options a deleted member leaves get
        their events from the delete itself: ``outbox.deleting``.)"""
        clusters: set[int] = set()
        options: set[int] = set()
        for item in plan.live("create", "update", "remove"):
            owner = item.scratch["owner"].id
            if item.scratch["role"] == SELECTABLE:
                if item.scratch.get("link") or item.scratch.get("unselect"):
                    options.add(owner)
            elif item.result == "remove":
                clusters.add(owner)
            elif item.scratch.get("old_home"):
                clusters.add(item.scratch["old_home"])
        return clusters - {None}, options - {None}

    def records_to_delete(self, plan: RecordPlan) -> list[int]:
        return [i.id for i in plan.live("remove") if i.scratch["role"] == MEMBER]

    def write_extra(self, plan: RecordPlan) -> None:
        super().write_extra(plan)
        linking = [i for i in plan.live("create", "update") if i.scratch.get("link")]
        members = [i for i in linking if i.scratch["role"] == MEMBER]
        selectable = [i for i in linking if i.scratch["role"] == SELECTABLE]
        now = timezone.now()
        if members:
            moving = [i.id for i in members if i.scratch.get("old_home")]
            if moving:
                old = {i.scratch["old_home"] for i in members if i.scratch.get("old_home")}
                Cluster.objects.filter(pk__in=old, default_product_id__oneof=moving).update(
                    default_product=None, version=F("version") + 1, last_modified_at=now
                )
                ClusterProduct.objects.filter(product_id__oneof=moving)._raw_delete(
                    ClusterProduct.objects.db
                )
            rows = [
                {"cluster_id": i.scratch["owner"].id, "product_id": i.id, "created_at": now}
                for i in sorted(members, key=lambda i: i.id)
            ]
            insert_rows(ClusterProduct, ["cluster_id", "product_id", "created_at"], rows)
        if selectable:
            option_ids = {i.scratch["owner"].id for i in selectable}
            last = dict(
                OptionProduct.objects.filter(option_id__in=option_ids)
                .values("option_id")
                .annotate(m=Max("position"))
                .values_list("option_id", "m")
            )
            rows = []
            for item in selectable:  # request order is the selection order
                option_id = item.scratch["owner"].id
                last[option_id] = (last.get(option_id) or 0) + 1
                rows.append(
                    {"option_id": option_id, "product_id": item.id, "position": last[option_id]}
                )
            insert_rows(OptionProduct, ["option_id", "product_id", "position"], rows)
        self._write_removals(plan, now)

    @staticmethod
    def _write_removals(plan: RecordPlan, now: Any) -> None:
        """Before the members are deleted, their cluster's default product is cleared (with a new
        version, as a single unassign does); unselected products leave their option, whose
        default is cleared when it pointed at one of them."""
        removed = plan.live("remove")
        deleted = [i.id for i in removed if i.scratch["role"] == MEMBER]
        if deleted:
            Cluster.objects.filter(default_product_id__oneof=deleted).update(
                default_product=None, version=F("version") + 1, last_modified_at=now
            )
        unselected = [i for i in removed if i.scratch["role"] == SELECTABLE]
        if not unselected:
            return
        OptionProduct.objects.filter(
            pk__oneof=[i.scratch["unselect"] for i in unselected]
        )._raw_delete(OptionProduct.objects.db)
        leaving = {(i.scratch["owner"].id, i.id) for i in unselected}
        defaults = plain(ClusterOption).filter(
            pk__in={option_id for option_id, _ in leaving}, default_product__isnull=False
        )
        cleared = [
            pk
            for pk, default in defaults.values_list("pk", "default_product_id")
            if (pk, default) in leaving
        ]
        if cleared:
            ClusterOption.objects.filter(pk__in=cleared).update(
                default_product=None, version=F("version") + 1, last_modified_at=now
            )


def _product_fields(item: Item, key: BulkKey) -> list[str]:
    """The product fields an item carries beyond its key (with the ``sourceId`` key,
    ``_build_row`` adds the key's pair to ``data`` as ``source``/``sourceId``)."""
    fields = set(item.data)
    if key.name == "sourceId":
        fields -= {"source", "sourceId"}
    return sorted(fields)


LINKED_PRODUCTS = LinkedProductBulk()


# --- options of a cluster ---------------------------------------------------------------------


class OptionBulk(RecordBulk):
    """Options of a cluster (``scratch["owner"]`` is the cluster); options never move."""

    label = "Cluster option"
    items_key = "options"
    max_items = 1000
    spec = OPTION
    schema = OPTION_ITEM
    required_on_create = OPTION_BODY.required
    not_found = errors.ClusterOptionNotFound
    multiple = errors.ClusterOptionMultipleFound
    scalar_fields = ("language", "hidden", "priority", "is_required")
    keys = {"id": id_key(), "sourceId": source_key()}

    def resolve(self, plan: RecordPlan) -> None:
        for item in plan.live("update", "remove"):
            owner = item.scratch["owner"]
            if item.stored["cluster_id"] != owner.id:
                error = (
                    self.not_found(f"Cluster option [{item.id}] is not an option of this cluster.")
                    if plan.key.name == "id"
                    else errors.ClusterOptionExists(
                        f"The source pair of item {item.index} belongs to option [{item.id}] "
                        "of another cluster; options do not move."
                    )
                )
                item.fail(error)
        nested = {id(o): o.scratch.get("nested_products", set()) for o in plan.items}
        skip = "default_product" in plan.directives.skip_if_not_empty
        _check_defaults(plan.live(), OptionProduct, "option_id", nested, "option", skip)

    def write(self, plan: RecordPlan) -> None:
        for item in plan.live("create"):
            item.row["cluster_id"] = item.scratch["owner"].id
        super().write(plan)


OPTIONS = OptionBulk()


# --- clusters ---------------------------------------------------------------------------------


class ClusterBulk(RecordBulk):
    label = "Cluster"
    items_key = "clusters"
    max_items = 1000
    spec = CLUSTER
    schema = CLUSTER_ITEM
    required_on_create = CLUSTER_BODY.required
    not_found = errors.ClusterNotFound
    multiple = errors.ClusterMultipleFound
    scalar_fields = ("language", "hidden", "priority", "code", "sku")
    blank_when_null = frozenset({"code", "sku"})
    column_keys = {"code": ("code", None), "sku": ("sku", None)}
    search_document = staticmethod(cluster_search_text)
    keys = {
        "id": id_key(),
        "sourceId": source_key(),
        "code": BulkKey("code", {"code": Str(min_length=1, max_length=64)}, keep=True),
        # not unique: several matches fail the item (20005), none creates (SPEC §22)
        "sku": BulkKey("sku", {"sku": Str(min_length=1, max_length=128)}, keep=True),
    }

    def __init__(self, *, products_write: bool = True) -> None:
        #: the nested products, under the scope rule of SPEC §11 (``LinkedProductBulk``)
        self.linked = LinkedProductBulk(products_write=products_write)

    def resolve(self, plan: RecordPlan) -> None:
        self._resolve_configs(plan)
        self._resolve_parents(plan)
        self._check_codes(plan)
        self._plan_nested(plan)

    def _resolve_configs(self, plan: RecordPlan) -> None:
        items = [i for i in plan.live("create", "update") if "cluster_config" in i.data]
        ids = {i.data["cluster_config"].get("id") for i in items} - {None}
        names = {i.data["cluster_config"].get("name") for i in items} - {None}
        rows = (
            list(
                plain(ClusterConfig)
                .filter(Q(pk__in=ids) | Q(name__in=names))
                .values_list("pk", "name")
            )
            if items
            else []
        )
        by_id = {pk for pk, _ in rows}
        by_name = {name: pk for pk, name in rows}
        for item in items:
            ref = item.data["cluster_config"]
            pk = (
                (ref["id"] if ref["id"] in by_id else None)
                if "id" in ref
                else by_name.get(ref["name"])
            )
            if pk is None:
                key = "id" if "id" in ref else "name"
                item.fail(
                    errors.ClusterConfigNotFound(
                        f"Cluster config with {key} [{ref[key]}] not found."
                    )
                )
            else:
                item.row["cluster_config_id"] = pk

    def _resolve_parents(self, plan: RecordPlan) -> None:
        d = plan.directives
        wanted = [
            i
            for i in plan.live("create", "update")
            if "parent" in i.data
            and not (
                i.result == "update"
                and (
                    d.skip_move_on_update
                    or ("parent" in d.skip_if_not_empty and i.stored["parent_id"])
                )
            )
        ]
        refs = [i.data["parent"] for i in wanted if i.data["parent"]]
        ids = {r["id"] for r in refs if "id" in r}
        pairs = {(r["source"], r["sourceId"]) for r in refs if "source" in r}
        found_ids = (
            set(plain(Category).filter(pk__oneof=ids).values_list("pk", flat=True))
            if ids
            else set()
        )
        by_pair = {
            (s, i): c
            for s, i, c in rows_by_pairs(
                CategorySource,
                ("source", "source_id"),
                pairs,
                ["source", "source_id", "category_id"],
            )
        }
        for item in wanted:
            ref = item.data["parent"]
            if ref is None:
                item.row["parent_id"] = None
                continue
            pk = (
                (ref["id"] if ref["id"] in found_ids else None)
                if "id" in ref
                else by_pair.get((ref["source"], ref["sourceId"]))
            )
            if pk is None:
                item.fail(
                    errors.ParentCategoryNotFound(f"Category with {reference_text(ref)} not found.")
                )
            else:
                item.row["parent_id"] = pk

    def _check_codes(self, plan: RecordPlan) -> None:
        changing = [
            i
            for i in plan.live("create", "update")
            if i.row["code"] and (i.stored is None or i.stored["code"] != i.row["code"])
        ]
        taken = (
            dict(
                plain(Cluster)
                .filter(code__in={i.row["code"] for i in changing})
                .values_list("code", "pk")
            )
            if changing
            else {}
        )
        seen: dict[str, int] = {}
        for item in changing:
            code = item.row["code"]
            if taken.get(code, item.id) != item.id:
                item.fail(errors.ClusterExists(f"Cluster with code [{code}] already exists."))
            elif code in seen:
                item.fail(
                    errors.DuplicateItemInRequest(
                        f"Code [{code}] is already used by item {seen[code]} of this request."
                    )
                )
            else:
                seen[code] = item.index

    # --- nested items --------------------------------------------------------------------

    def _plan_nested(self, plan: RecordPlan) -> None:
        raw_products: list[tuple[Item, str, Any]] = []  # (owner, role, raw)
        raw_options: list[tuple[Item, Any]] = []
        for item in plan.items:
            for raw in item.data.get("products") or ():
                raw_products.append((item, MEMBER, raw))
            for raw in item.data.get("options") or ():
                raw_options.append((item, raw))
        option_products = sum(
            len(raw.get("products") or ()) if isinstance(raw, dict) else 0 for _, raw in raw_options
        )
        if len(raw_products) + option_products > MAX_NESTED_PRODUCTS:
            raise errors.BulkLimitExceeded(
                f"{len(raw_products) + option_products} nested products sent; at most "
                f"{MAX_NESTED_PRODUCTS} per request. Nothing was written."
            )
        if len(raw_options) > MAX_NESTED_OPTIONS:
            raise errors.BulkLimitExceeded(
                f"{len(raw_options)} nested options sent; at most {MAX_NESTED_OPTIONS} per "
                "request. Nothing was written."
            )
        key = nested_key(plan.key.name)
        options = _parse_nested(raw_options, key, OPTIONS.schema, "options")
        for option in options:
            owner = option.scratch["owner"]
            if not _owner_live(owner):
                _owner_failed(option, owner, "cluster")
        # products of options come after the cluster products, in one product bulk
        for option in options:
            for raw in (option.data.get("products") or ()) if option.ok else ():
                raw_products.append((option, SELECTABLE, raw))
        products = _parse_nested(
            [(owner, raw) for owner, _, raw in raw_products], key, PRODUCT_PATCH, "products"
        )
        for product, (owner, role, _) in zip(products, raw_products, strict=True):
            product.scratch["role"] = role
            if not _owner_live(owner):
                _owner_failed(product, owner, "cluster" if role == MEMBER else "option")
        nested_ids = _nested_product_ids(products)
        skip = "default_product" in plan.directives.skip_if_not_empty
        _check_defaults(plan.live(), ClusterProduct, "cluster_id", nested_ids, "cluster", skip)
        for option in options:
            option.scratch["nested_products"] = nested_ids.get(id(option), set())
        plan.extra["options"] = OPTIONS.plan(
            [o for o in options if o.ok and o.result is None],
            plan.directives,
            key,
            lock=plan.lock,
        )
        for product in products:
            owner = product.scratch["owner"]
            if product.ok and product.result is None and not _owner_live(owner):
                _owner_failed(product, owner, _role_label(product))
        plan.extra["products"] = self.linked.plan(
            [p for p in products if p.ok and p.result is None],
            plan.directives,
            key,
            lock=plan.lock,
        )
        _confirm_defaults([*plan.items, *options], products)
        plan.extra["nested"] = (options, products)

    def check(self, plan: RecordPlan) -> None:
        """Nested items of clusters (options) that failed after nested planning fail with them."""
        options, products = plan.extra["nested"]
        for nested in (options, products):
            for item in nested:
                owner = item.scratch["owner"]
                if item.ok and item.reason != SKIP_CREATE and not _owner_live(owner):
                    _owner_failed(item, owner, _role_label(item))
        for item in plan.items:
            item.scratch["nested"] = {
                "options": [o for o in options if o.scratch["owner"] is item],
                "products": [p for p in products if p.scratch["owner"] is item],
            }
        _number_within_owners(options)
        _number_within_owners(products)
        for option in options:
            option.scratch["nested"] = {
                "products": [p for p in products if p.scratch["owner"] is option]
            }

    def write_extra(self, plan: RecordPlan) -> None:
        OPTIONS.write(plan.extra["options"])
        self.linked.write(plan.extra["products"])
        removed = [i.id for i in plan.live("remove")]
        if removed:  # their options go with them (tombstones first) …
            outbox.deleted_many(
                ClusterOption,
                plain(ClusterOption).filter(cluster_id__oneof=removed).values_list("pk", flat=True),
            )
        if removed:  # … their products stay, homeless, with a new version and a ``moved`` event
            homes = dict(
                ClusterProduct.objects.filter(cluster_id__in=removed).values_list(
                    "product_id", "cluster_id"
                )
            )
            moved = {
                pk: {"cluster": {"before": {"id": c}, "after": None}} for pk, c in homes.items()
            }
            outbox.updated_rows(
                Product.objects.filter(pk__in=list(homes)), {}, action="moved", extra=moved
            )

    # --- outcomes ----------------------------------------------------------------------------

    def nested_failed(self, items: list[Item]) -> bool:
        return any(_failed(item) for item in items)

    def nested_outcomes(
        self, item: Item, result: BulkResult, render_error: ErrorRenderer
    ) -> dict[str, Any]:
        return _nested_outcomes(item, result, render_error)


def _role_label(item: Item) -> str:
    return "option" if item.scratch.get("role") == SELECTABLE else "cluster"


def _confirm_defaults(owners: list[Item], products: list[Item]) -> None:
    """A default product taken from the nested items needs that item to succeed."""
    good = {(id(p.scratch["owner"]), p.id) for p in products if p.ok and p.id}
    for owner in owners:
        pk = owner.scratch.get("default_nested")
        if pk is not None and owner.ok and (id(owner), pk) not in good:
            owner.fail(
                errors.PayloadValidationError(
                    f"defaultProduct [{pk}] is not one of the products of this item."
                )
            )


def _failed(item: Item) -> bool:
    for children in (item.scratch.get("nested") or {}).values():
        for child in children:
            if child.error or _failed(child):
                return True
    return False


def _nested_outcomes(item: Item, result: BulkResult, render_error: ErrorRenderer) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name, children in (item.scratch.get("nested") or {}).items():
        if not children and not item.data.get(name):
            continue
        view = BulkResult(
            LINKED_PRODUCTS if name == "products" else OPTIONS,
            children,
            dry_run=result.dry_run,
            atomic=result.atomic,
            rolled_back=result.rolled_back,
        )
        body[name] = [
            {
                **view.outcome(child, render_error),
                **_nested_outcomes(child, result, render_error),
            }
            for child in children
        ]
    return body


def _parse_nested(owned: list[tuple[Any, Any]], key: BulkKey, schema: Obj, name: str) -> list[Item]:
    """One flat parse: repeated keys across owners → 10020 (naming the flat position)."""
    items = parse_items([raw for _, raw in owned], key, schema)
    for item, (owner, _) in zip(items, owned, strict=True):
        item.scratch["owner"] = owner
    return items


def _number_within_owners(items: list[Item]) -> None:
    """Outcome indexes count within the owner; planning needs them unique (flat) until done."""
    positions: dict[int, int] = defaultdict(int)
    for item in items:
        owner = id(item.scratch["owner"])
        item.index = positions[owner]
        positions[owner] += 1


CLUSTERS = ClusterBulk()


# --- sub-resource bulks: a fixed owner --------------------------------------------------------


class OwnedBulk(RecordBulk):
    """A product or option bulk under one cluster or option of the URL (a fresh one per request)."""

    def __init__(
        self, inner: RecordBulk, owner: Any, role: str | None, items_key: str, max_items: int
    ):
        self.inner, self.owner, self.role = inner, owner, role
        self.items_key, self.max_items = items_key, max_items
        self.keys, self.schema = inner.keys, inner.schema
        self.label = inner.label

    def plan(self, items, directives, key, *, lock):
        for item in items:
            item.scratch["owner"] = self.owner
            if self.role:
                item.scratch["role"] = self.role
        if self.inner is OPTIONS:
            for item in items:
                if item.ok and "products" in item.data:
                    item.fail(
                        errors.SchemaValidationException(
                            fields={
                                "products": [
                                    "Not nested here: use "
                                    "/v2/clusteroptions/{lookupKey}/{lookupValue}/products/bulk."
                                ]
                            }
                        )
                    )
            return OPTIONS.plan(items, directives, key, lock=lock)
        return self.inner.plan(items, directives, key, lock=lock)

    def write(self, plan) -> None:
        self.inner.write(plan)


def cluster_bulk(*, products_write: bool) -> ClusterBulk:
    """Clusters with nested products; without ``products_write`` nested items reach only the
    cluster's own members and create products (SPEC §11)."""
    return CLUSTERS if products_write else ClusterBulk(products_write=False)


def cluster_products_bulk(cluster: Cluster, *, products_write: bool) -> OwnedBulk:
    """Products inside the cluster; without ``products_write`` an item matching a product from
    outside the cluster fails with 10002 (SPEC §11)."""
    linked = LinkedProductBulk(products_write=products_write)
    return OwnedBulk(linked, SimpleNamespace(id=cluster.pk), MEMBER, "products", 2000)


def cluster_options_bulk(cluster: Cluster) -> OwnedBulk:
    return OwnedBulk(OPTIONS, SimpleNamespace(id=cluster.pk), None, "options", 1000)


def option_products_bulk(option: ClusterOption, *, products_write: bool) -> OwnedBulk:
    """Selectable products of the option; without ``products_write`` items may only select
    existing products, neither create nor change them (SPEC §12)."""
    linked = LinkedProductBulk(products_write=products_write)
    return OwnedBulk(linked, SimpleNamespace(id=option.pk), SELECTABLE, "products", 2000)
