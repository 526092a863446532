"""Every write to cluster configs, clusters, their products and options.

Keyword-only, transactional, raising errors from SPEC §4.

Rules held here:

- A product is in at most one cluster and has one primary home: assigning it to a cluster clears
  its ``parent`` and moves it out of any other cluster (clearing that cluster's default product
  when it pointed at it); unassigning it needs a target category or cluster.
- A cluster's (an option's) default product is one of its products.
- Deleting a cluster deletes its options and leaves its products in the catalogue, homeless.
- A product whose cluster or primary category changes gets a new ``version``.

Rows are locked in one order, products → clusters → options → configs, so concurrent writers
wait for each other instead of deadlocking.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Required, TypedDict

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q, QuerySet
from django.utils import timezone

from catalogue.attributes import (
    AttributeInput,
    AttributeWrites,
    Pair,
    as_body,
    pairs,
    same_attributes,
)
from catalogue.models import Product
from catalogue.selectors import resolve_products
from catalogue.services import ProductCreate, product_create
from changes import outbox
from clusters.models import (
    Cluster,
    ClusterCategory,
    ClusterConfig,
    ClusterConfigSetting,
    ClusterOption,
    ClusterOptionSource,
    ClusterProduct,
    ClusterSource,
    OptionProduct,
)
from clusters.search import CLUSTER_TEXT
from clusters.selectors import cluster_by_ref
from clusters.translation import OPTION_LOCALIZED_FIELDS
from config.api import errors
from records.outcomes import Outcome
from records.rules import (
    PageFields,
    RecordFields,
    RecordRef,
    RecordSpec,
    Translations,
    check_if_match,
    create_record,
    delete_record,
    finish_localized,
    localized_input,
    merge_localized,
    ref_key,
    remove_record_translation,
    update_record,
)
from taxonomy.relationships import set_item_categories
from taxonomy.selectors import category_by_ref
from taxonomy.translation import LOCALIZED_FIELDS

CLUSTER = RecordSpec(
    label="Cluster",
    localized=LOCALIZED_FIELDS,
    source_model=ClusterSource,
    source_owner_field="cluster",
    exists_error=errors.ClusterExists,
    search=CLUSTER_TEXT,
)
OPTION = RecordSpec(
    label="Cluster option",
    localized=OPTION_LOCALIZED_FIELDS,
    source_model=ClusterOptionSource,
    source_owner_field="option",
    exists_error=errors.ClusterOptionExists,
)
RECORD_SCALARS = ("language", "hidden", "priority")


# What the writes take: request bodies as their schemas (clusters.schemas) clean them.


class SettingFields(TypedDict, total=False):
    display_type: str
    priority: int


class SettingCreate(SettingFields, total=False):
    attribute_name: Required[str]


class SettingPatch(SettingFields, total=False):
    attribute_name: str


class ClusterConfigPatch(TypedDict, total=False):
    #: the current name or nothing: a config's name cannot change
    name: str
    #: the whole list of settings
    settings: list[SettingCreate]


class ClusterConfigCreate(TypedDict, total=False):
    name: Required[str]
    settings: list[SettingCreate]


class ConfigRef(TypedDict, total=False):
    """A cluster config in a body: ``{"id"}`` or ``{"name"}``."""

    id: int
    name: str


class ProductIdRef(TypedDict):
    """A default product: ``{"id"}`` of one of the owner's products."""

    id: int


class ClusterFields(RecordFields, PageFields, total=False):
    code: str | None
    sku: str | None
    #: the whole attribute list
    attributes: list[AttributeInput]
    #: the primary category; ``None``: none
    parent: RecordRef | None
    default_product: ProductIdRef | None


class ClusterCreate(ClusterFields, total=False):
    name: Required[Translations]
    cluster_config: Required[ConfigRef]


class ClusterPatch(ClusterFields, total=False):
    name: Translations
    cluster_config: ConfigRef


class OptionFields(RecordFields, total=False):
    is_required: bool
    default_product: ProductIdRef | None


class OptionCreate(OptionFields, total=False):
    name: Required[Translations]


class OptionPatch(OptionFields, total=False):
    name: Translations


class UnassignTarget(TypedDict, total=False):
    """Where unassigned products go: ``{"category": ref}`` or ``{"cluster": ref}``."""

    category: RecordRef
    cluster: dict[str, Any]


# Locks and small helpers --------------------------------------------------------------------


def _lock_products(ids: Iterable[int]) -> set[int]:
    """Lock the product rows (ascending ids); returns the ids that still exist."""
    ids = sorted(set(ids))
    if not ids:
        return set()
    rows = Product.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return set(rows.values_list("pk", flat=True))


def _lock_clusters(ids: Iterable[int]) -> dict[int, Cluster]:
    rows = Cluster.objects.select_for_update().filter(pk__in=sorted(set(ids))).order_by("pk")
    return {cluster.pk: cluster for cluster in rows}


def _locked_cluster(cluster_id: int) -> Cluster:
    cluster = _lock_clusters([cluster_id]).get(cluster_id)
    if cluster is None:
        raise errors.ClusterNotFound(f"Cluster with id [{cluster_id}] not found.")
    return cluster


def _locked_option(option_id: int) -> ClusterOption:
    option = ClusterOption.objects.select_for_update().filter(pk=option_id).first()
    if option is None:
        raise errors.ClusterOptionNotFound(f"Cluster option with id [{option_id}] not found.")
    return option


def _locked_config(config_id: int) -> ClusterConfig:
    config = ClusterConfig.objects.select_for_update().filter(pk=config_id).first()
    if config is None:
        raise errors.ClusterConfigNotFound(f"Cluster config with id [{config_id}] not found.")
    return config


def _touch_products(
    ids: Iterable[int], *, was_in: Mapping[int, int], now_in: int | None, **changes: Any
) -> None:
    """Apply ``changes`` to the products and give each a new version (their representation
    changed: cluster or primary category); each gets a ``moved`` event from its cluster in
    ``was_in`` (product id → cluster id, absent: none) to ``now_in``."""
    ids = sorted(set(ids))
    if ids:
        moved = {
            pk: {"cluster": {"before": _ref(was_in.get(pk)), "after": _ref(now_in)}} for pk in ids
        }
        outbox.updated_rows(
            Product.objects.filter(pk__in=ids), changes, action="moved", extra=moved
        )


def _ref(pk: int | None) -> dict[str, int] | None:
    return None if pk is None else {"id": pk}


def _clear_defaults(
    model: type[Cluster] | type[ClusterOption], owner_ids, product_ids, *, events: bool = True
) -> None:
    """Clear a default product that is leaving its cluster (option); the owner gets a new
    version because its representation changed, and an event unless the caller records the
    owner's whole write itself (``events=False``)."""
    if owner_ids and product_ids:
        owners = model.objects.filter(
            pk__in=list(owner_ids), default_product_id__in=list(product_ids)
        )
        if not events:
            owners.update(
                default_product=None, version=F("version") + 1, last_modified_at=timezone.now()
            )
            return
        outbox.updated_rows(owners, {"default_product": None})


def _default_product_id(data: ClusterFields | OptionFields) -> int | None:
    ref = data.get("default_product")
    return ref["id"] if ref else None


def _refuse_default_product(data: ClusterFields | OptionFields, owner: str) -> None:
    """A new cluster (option) has no products yet, so it cannot name a default product."""
    if _default_product_id(data) is not None:
        raise errors.PayloadValidationError(
            f"defaultProduct must be one of the {owner}'s products; a new {owner} has none yet."
        )


def _lock_default_product(data: ClusterFields | OptionFields) -> None:
    """Lock the product an update names as default (products lock before their owners)."""
    default_id = _default_product_id(data)
    _lock_products([default_id] if default_id else [])


def _set_default_product(
    owner: Cluster | ClusterOption,
    data: ClusterFields | OptionFields,
    members: QuerySet,
    label: str,
) -> None:
    """``defaultProduct`` of an update: one of the owner's products (``members``: its product
    links), or null. Raises PayloadValidationError (422) for a product that is not one of them."""
    if "default_product" not in data:
        return
    default_id = _default_product_id(data)
    if default_id and not members.filter(product_id=default_id).exists():
        raise errors.PayloadValidationError(
            f"defaultProduct [{default_id}] is not one of the {label}'s products."
        )
    owner.default_product_id = default_id


# Cluster configs ----------------------------------------------------------------------------


def _bump(instance: ClusterConfig | ClusterOption | Cluster) -> None:
    instance.version += 1
    instance.last_modified_at = timezone.now()
    instance.save(update_fields=["version", "last_modified_at"])


def _check_config_name_free(name: str) -> None:
    if ClusterConfig.objects.filter(name=name).exists():
        raise errors.ClusterConfigExists(f"Cluster config with name [{name}] already exists.")


def _replace_settings(config: ClusterConfig, settings: list[SettingCreate]) -> bool:
    """Make ``settings`` the config's whole list; settings are matched by ``attributeName`` so
    a kept attribute keeps its id. Returns whether anything changed."""
    current = {s.attribute_name: s for s in ClusterConfigSetting.objects.filter(config=config)}
    wanted = {s["attribute_name"]: s for s in settings}
    stale = [s.pk for name, s in current.items() if name not in wanted]
    changed = bool(stale)
    if stale:
        ClusterConfigSetting.objects.filter(pk__in=stale).delete()
    for name, item in wanted.items():
        setting = current.get(name)
        if setting is None:
            ClusterConfigSetting.objects.create(config=config, **_setting_values(item))
            changed = True
            continue
        values = _setting_values(item, setting)
        if any(getattr(setting, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(setting, key, value)
            setting.save()
            changed = True
    return changed


def _setting_values(
    item: SettingCreate | SettingPatch, current: ClusterConfigSetting | None = None
) -> dict[str, Any]:
    """A setting's stored values: what the item says, defaults (create) or the current values."""
    defaults = current or ClusterConfigSetting()
    return {
        "attribute_name": item.get("attribute_name", defaults.attribute_name),
        "display_type": item.get("display_type", defaults.display_type),
        "priority": item.get("priority", defaults.priority),
    }


@transaction.atomic
def cluster_config_create(*, data: ClusterConfigCreate) -> ClusterConfig:
    """Create a config with its settings. Raises ClusterConfigExists (21004)."""
    _check_config_name_free(data["name"])
    config = ClusterConfig(name=data["name"])
    try:  # a concurrent create may take the name after the check: 409, not 500
        with transaction.atomic():
            config.save()
    except IntegrityError as exc:
        raise errors.ClusterConfigExists(
            f"Cluster config with name [{data['name']}] already exists."
        ) from exc
    _replace_settings(config, data.get("settings", []))
    outbox.created(config)
    return config


@transaction.atomic
def cluster_config_update(
    *, config_id: int, data: ClusterConfigPatch, if_match: str | None = None
) -> ClusterConfig:
    """``name`` cannot change (PayloadValidationError, 422); ``settings`` replaces the list."""
    config = _locked_config(config_id)
    check_if_match(if_match, config)
    watch = outbox.watch(config)
    if "name" in data and data["name"] != config.name:
        raise errors.PayloadValidationError(
            f"The name of a cluster config cannot change (it is [{config.name}])."
        )
    changed = "settings" in data and _replace_settings(config, data["settings"])
    if changed:
        _bump(config)
        watch.record()
    return config


@transaction.atomic
def cluster_config_delete(*, config_id: int, if_match: str | None = None) -> None:
    """Raises ClusterConfigInUse (21008) while clusters follow the config."""
    config = _locked_config(config_id)
    check_if_match(if_match, config)
    in_use = Cluster.objects.filter(cluster_config=config).count()
    if in_use:
        raise errors.ClusterConfigInUse(
            f"Cluster config [{config.name}] is used by {in_use} cluster(s); "
            "move them to another config first."
        )
    outbox.deleted(config)
    config.delete()


@transaction.atomic
def cluster_config_setting_create(*, config_id: int, data: SettingCreate) -> ClusterConfigSetting:
    """Add one setting; raises ClusterConfigSettingExists (21006) for a taken attributeName."""
    config = _locked_config(config_id)
    watch = outbox.watch(config)
    _check_attribute_free(config, data["attribute_name"])
    setting = ClusterConfigSetting.objects.create(config=config, **_setting_values(data))
    _bump(config)
    watch.record()
    return setting


@transaction.atomic
def cluster_config_setting_update(
    *, config_id: int, setting_id: int, data: SettingPatch
) -> ClusterConfigSetting:
    config = _locked_config(config_id)
    watch = outbox.watch(config)
    setting = _setting_of(config, setting_id)
    values = _setting_values(data, setting)
    if values["attribute_name"] != setting.attribute_name:
        _check_attribute_free(config, values["attribute_name"])
    if any(getattr(setting, k) != v for k, v in values.items()):
        for key, value in values.items():
            setattr(setting, key, value)
        setting.save()
        _bump(config)
        watch.record()
    return setting


@transaction.atomic
def cluster_config_setting_delete(*, config_id: int, setting_id: int) -> None:
    config = _locked_config(config_id)
    watch = outbox.watch(config)
    _setting_of(config, setting_id).delete()
    _bump(config)
    watch.record()


def _setting_of(config: ClusterConfig, setting_id: int) -> ClusterConfigSetting:
    setting = ClusterConfigSetting.objects.filter(config=config, pk=setting_id).first()
    if setting is None:
        raise errors.ClusterConfigSettingNotFound(
            f"Cluster config [{config.name}] has no setting with id [{setting_id}]."
        )
    return setting


def _check_attribute_free(config: ClusterConfig, attribute_name: str) -> None:
    if ClusterConfigSetting.objects.filter(config=config, attribute_name=attribute_name).exists():
        raise errors.ClusterConfigSettingExists(
            f"Cluster config [{config.name}] already has a setting for [{attribute_name}]."
        )


def config_by_ref(ref: ConfigRef) -> ClusterConfig:
    """``{"id"}`` or ``{"name"}``; raises ClusterConfigNotFound (21005)."""
    if "id" in ref:
        condition, text = Q(pk=ref["id"]), f"id [{ref['id']}]"
    else:
        condition, text = Q(name=ref["name"]), f"name [{ref['name']}]"
    config = ClusterConfig.objects.filter(condition).first()
    if config is None:
        raise errors.ClusterConfigNotFound(f"Cluster config with {text} not found.")
    return config


# Clusters -----------------------------------------------------------------------------------


def _attribute_pairs(cluster: Cluster) -> list[Pair]:
    return [(a["name"], a["value"]) for a in cluster.attributes or []]


def _apply_cluster(cluster: Cluster, data: ClusterCreate | ClusterPatch) -> bool:
    """Copy ``data`` onto ``cluster``; returns whether its attributes changed (a change that
    the snapshot comparison cannot see when only a value's JSON type differs)."""
    attributes_changed = False
    if "attributes" in data:
        wanted = pairs(data["attributes"])
        attributes_changed = not same_attributes(_attribute_pairs(cluster), wanted)
        cluster.attributes = as_body(wanted) or None
    fields: Mapping[str, Any] = data  # by name: the scalar columns are copied alike
    for name in RECORD_SCALARS:
        if name in fields:
            setattr(cluster, name, fields[name])
    if "code" in data:
        code = data["code"] or ""
        if code and Cluster.objects.filter(code=code).exclude(pk=cluster.pk).exists():
            raise errors.ClusterExists(f"Cluster with code [{code}] already exists.")
        cluster.code = code
    if "sku" in data:
        cluster.sku = data["sku"] or ""
    if "cluster_config" in data:
        cluster.cluster_config = config_by_ref(data["cluster_config"])
    if "parent" in data:
        ref = data["parent"]
        cluster.parent = category_by_ref(ref) if ref is not None else None
    merge_localized(cluster, localized_input(data, CLUSTER))
    finish_localized(cluster, CLUSTER)
    return attributes_changed


@transaction.atomic
def cluster_create(*, data: ClusterCreate) -> Cluster:
    """Create a cluster. Raises ClusterExists (code, source pair, slug), ClusterConfigNotFound,
    ParentCategoryNotFound, DefaultTranslationRequired, and PayloadValidationError for a default
    product (a new cluster has no products yet)."""
    _refuse_default_product(data, "cluster")
    cluster = create_record(Cluster(), CLUSTER, data, _apply_cluster)
    outbox.created(cluster)
    return cluster


def _apply_cluster_update(cluster: Cluster, data: ClusterPatch) -> bool:
    attributes_changed = _apply_cluster(cluster, data)
    _set_default_product(cluster, data, ClusterProduct.objects.filter(cluster=cluster), "cluster")
    return attributes_changed


@transaction.atomic
def cluster_update(*, cluster_id: int, data: ClusterPatch, if_match: str | None = None) -> Cluster:
    """Partial update under a row lock. A default product must be one of the cluster's products
    (PayloadValidationError, 422)."""
    _lock_default_product(data)
    cluster = _locked_cluster(cluster_id)
    watch = outbox.watch(cluster)
    update_record(cluster, CLUSTER, data, _apply_cluster_update, if_match=if_match)
    watch.record()
    return cluster


CLUSTER_ATTRIBUTES = AttributeWrites(
    label="Cluster",
    locked=_locked_cluster,
    current=_attribute_pairs,
    update=lambda pk, attributes: cluster_update(cluster_id=pk, data={"attributes": attributes}),
    missing=errors.ClusterAttributeNotFound,
)


@transaction.atomic
def cluster_attributes_upsert(
    *, cluster_id: int, attributes: list[AttributeInput], if_match: str | None = None
) -> Cluster:
    """Set the given attributes' values by name, keeping the others (SPEC §22); a write like
    ``cluster_update`` (version, ``If-Match`` → PreconditionFailed)."""
    return CLUSTER_ATTRIBUTES.upsert(cluster_id, attributes, if_match)


@transaction.atomic
def cluster_attribute_delete(*, cluster_id: int, name: str, if_match: str | None = None) -> Cluster:
    """Remove one attribute by name. Raises ClusterAttributeNotFound, PreconditionFailed."""
    return CLUSTER_ATTRIBUTES.remove(cluster_id, name, if_match)


@transaction.atomic
def cluster_delete(*, cluster_id: int, if_match: str | None = None) -> None:
    """Delete the cluster with its options; its products stay in the catalogue without a home
    (and get a new version)."""
    members = ClusterProduct.objects.filter(cluster_id=cluster_id)
    _lock_products(members.values_list("product_id", flat=True))
    cluster = _locked_cluster(cluster_id)
    check_if_match(if_match, cluster)
    member_ids = list(members.values_list("product_id", flat=True))
    for option in cluster.options.all():
        outbox.deleted(option)
    outbox.deleted(cluster)
    cluster.delete()
    _touch_products(member_ids, was_in=dict.fromkeys(member_ids, cluster_id), now_in=None)


@transaction.atomic
def cluster_remove_translation(*, cluster_id: int, language: str) -> Cluster:
    cluster = _locked_cluster(cluster_id)
    watch = outbox.watch(cluster)
    remove_record_translation(cluster, CLUSTER, language)
    watch.record()
    return cluster


@transaction.atomic
def cluster_set_categories(*, cluster_id: int, category_ids: Collection[int]) -> bool:
    """Make ``category_ids`` the cluster's secondary categories (the back office's inline),
    each link through the category relationship rules (SPEC §10.1). Raises the first refused
    link's error; returns whether any link changed. Links never change the cluster's version
    (as in the API)."""
    current = ClusterCategory.objects.filter(cluster_id=cluster_id).values_list(
        "category_id", flat=True
    )
    return set_item_categories(
        key="clusters", item_id=cluster_id, current=list(current), wanted=category_ids
    )


# Products of a cluster ----------------------------------------------------------------------


@transaction.atomic
def cluster_product_create(*, cluster_id: int, data: ProductCreate) -> Product:
    """Create a product inside the cluster (its primary home, so no ``parent``)."""
    if data.get("parent") is not None:
        raise errors.PayloadValidationError(
            "A product created inside a cluster has the cluster as its primary home; "
            "leave parent out."
        )
    cluster = _locked_cluster(cluster_id)
    product = product_create(data=data)
    ClusterProduct.objects.create(cluster=cluster, product=product)
    return product


def _item_outcomes(
    refs: Sequence[dict[str, Any]], action: str
) -> tuple[list[Outcome], dict[int, Outcome]]:
    """One outcome per reference; resolved items grouped by product id (a product named twice
    fails its later items with DuplicateItemInRequest)."""
    outcomes: list[Outcome] = []
    by_product: dict[int, Outcome] = {}
    for index, (ref, found) in enumerate(zip(refs, resolve_products(refs), strict=True)):
        key, value = ref_key(ref)
        outcome = Outcome(index, action, lookup_key=key, key=value, extra={"type": "product"})
        outcomes.append(outcome)
        if isinstance(found, errors.ApiError):
            outcome.fail(found)
            continue
        outcome.id = found.id
        if found.id in by_product:
            outcome.fail(
                errors.DuplicateItemInRequest(
                    f"Product [{found.id}] already appears at index {by_product[found.id].index}."
                )
            )
            continue
        by_product[found.id] = outcome
    return outcomes, by_product


def _lock_items(by_product: dict[int, Outcome]) -> list[int]:
    """Lock the resolved products; items whose product vanished meanwhile fail (80006)."""
    existing = _lock_products(by_product)
    for pk, outcome in by_product.items():
        if pk not in existing:
            outcome.fail(errors.ProductNotFound(f"Product with id [{pk}] not found."))
    return sorted(existing)


@transaction.atomic
def cluster_products_assign(*, cluster_id: int, refs: Sequence[dict[str, Any]]) -> list[Outcome]:
    """Move existing products into the cluster, one outcome per reference.

    Each product leaves its primary category and any other cluster (whose default product is
    cleared when it pointed at it). Item errors: ProductNotFound, ProductMultipleFound,
    ClusterProductExists (already in this cluster), DuplicateItemInRequest.
    """
    outcomes, by_product = _item_outcomes(refs, "assign")
    product_ids = _lock_items(by_product)
    homes = dict(
        ClusterProduct.objects.filter(product_id__in=product_ids).values_list(
            "product_id", "cluster_id"
        )
    )
    if cluster_id not in _lock_clusters([cluster_id, *homes.values()]):
        raise errors.ParentClusterNotFound(f"Cluster with id [{cluster_id}] not found.")
    assigned: list[int] = []
    for pk in product_ids:
        if homes.get(pk) == cluster_id:
            by_product[pk].fail(
                errors.ClusterProductExists(f"Product [{pk}] is already in cluster [{cluster_id}].")
            )
        else:
            assigned.append(pk)
    moving = [pk for pk in assigned if pk in homes]
    _clear_defaults(Cluster, {homes[pk] for pk in moving}, moving)
    now = timezone.now()
    ClusterProduct.objects.filter(product_id__in=moving).update(
        cluster_id=cluster_id, created_at=now
    )
    ClusterProduct.objects.bulk_create(
        [ClusterProduct(cluster_id=cluster_id, product_id=pk) for pk in assigned if pk not in homes]
    )
    _touch_products(assigned, was_in=homes, now_in=cluster_id, parent=None)
    return outcomes


@transaction.atomic
def cluster_products_unassign(
    *, cluster_id: int, refs: Sequence[dict[str, Any]], target: UnassignTarget
) -> list[Outcome]:
    """Move products out of the cluster to ``target`` (``{"category": ref}`` becomes their
    primary category, ``{"cluster": ref}`` their new cluster), one outcome per reference.

    Request errors: ParentCategoryNotFound (30007), ClusterNotFound (20006), and
    PayloadValidationError when the target is this cluster. Item errors: ProductNotFound,
    ProductMultipleFound, ClusterProductNotFound (not in this cluster), DuplicateItemInRequest.
    The cluster's default product is cleared when it leaves.
    """
    category = category_by_ref(target["category"]) if "category" in target else None
    target_id = cluster_by_ref(target["cluster"]).id if "cluster" in target else None
    if target_id == cluster_id:
        raise errors.PayloadValidationError("The target cluster is the cluster itself.")
    outcomes, by_product = _item_outcomes(refs, "unassign")
    product_ids = _lock_items(by_product)
    members = set(
        ClusterProduct.objects.filter(
            product_id__in=product_ids, cluster_id=cluster_id
        ).values_list("product_id", flat=True)
    )
    locked = _lock_clusters([cluster_id, *([target_id] if target_id else [])])
    if cluster_id not in locked:
        raise errors.ParentClusterNotFound(f"Cluster with id [{cluster_id}] not found.")
    if target_id is not None and target_id not in locked:
        raise errors.ClusterNotFound(f"Cluster with id [{target_id}] not found.")
    for pk in product_ids:
        if pk not in members:
            by_product[pk].fail(
                errors.ClusterProductNotFound(f"Product [{pk}] is not in cluster [{cluster_id}].")
            )
    leaving = sorted(members)
    _clear_defaults(Cluster, [cluster_id], leaving)
    memberships = ClusterProduct.objects.filter(product_id__in=leaving)
    if target_id is not None:
        memberships.update(cluster_id=target_id, created_at=timezone.now())
    else:
        memberships.delete()
    was_in = dict.fromkeys(leaving, cluster_id)
    moved = {"parent": category} if target_id is None else {}
    _touch_products(leaving, was_in=was_in, now_in=target_id, **moved)
    return outcomes


# Options ------------------------------------------------------------------------------------


def _apply_option(option: ClusterOption, data: OptionCreate | OptionPatch) -> None:
    fields: Mapping[str, Any] = data  # by name: the scalar columns are copied alike
    for name in (*RECORD_SCALARS, "is_required"):
        if name in fields:
            setattr(option, name, fields[name])
    merge_localized(option, localized_input(data, OPTION))
    finish_localized(option, OPTION)


@transaction.atomic
def option_create(*, cluster_id: int, data: OptionCreate) -> ClusterOption:
    """Create an option of the cluster. Raises ClusterOptionExists (source pair),
    DefaultTranslationRequired, and PayloadValidationError for a default product (a new option
    has no products yet)."""
    _refuse_default_product(data, "option")
    cluster = _locked_cluster(cluster_id)
    option = create_record(ClusterOption(cluster=cluster), OPTION, data, _apply_option)
    outbox.created(option)
    return option


def _apply_option_update(option: ClusterOption, data: OptionPatch) -> None:
    _apply_option(option, data)
    _set_default_product(option, data, OptionProduct.objects.filter(option=option), "option")


@transaction.atomic
def option_update(
    *, option_id: int, data: OptionPatch, if_match: str | None = None
) -> ClusterOption:
    """Partial update under a row lock; a default product must be one of the option's products
    (PayloadValidationError, 422)."""
    _lock_default_product(data)
    option = _locked_option(option_id)
    watch = outbox.watch(option)
    update_record(option, OPTION, data, _apply_option_update, if_match=if_match)
    watch.record()
    return option


@transaction.atomic
def option_delete(*, option_id: int, if_match: str | None = None) -> None:
    """Delete the option; its selectable products stay in the catalogue."""
    delete_record(_locked_option(option_id), if_match=if_match, events=outbox.deleting_record)


@transaction.atomic
def option_remove_translation(*, option_id: int, language: str) -> ClusterOption:
    option = _locked_option(option_id)
    watch = outbox.watch(option)
    remove_record_translation(option, OPTION, language)
    watch.record()
    return option


@transaction.atomic
def option_products_assign(*, option_id: int, refs: Sequence[dict[str, Any]]) -> list[Outcome]:
    """Append products to the option's selectable products, in request order.

    Item errors: ProductNotFound, ProductMultipleFound, OptionProductExists,
    DuplicateItemInRequest. Products are never moved or changed.
    """
    outcomes, by_product = _item_outcomes(refs, "assign")
    product_ids = set(_lock_items(by_product))
    option = _locked_option(option_id)
    watch = outbox.watch(option)
    present = set(
        OptionProduct.objects.filter(option=option, product_id__in=product_ids).values_list(
            "product_id", flat=True
        )
    )
    position = (
        OptionProduct.objects.filter(option=option).aggregate(m=Max("position"))["m"] or 0
    ) + 1
    links = []
    for outcome in outcomes:  # request order is the selection order
        if not outcome.success or outcome.id not in product_ids:
            continue
        if outcome.id in present:
            outcome.fail(
                errors.OptionProductExists(
                    f"Product [{outcome.id}] is already selectable in option [{option.pk}]."
                )
            )
            continue
        links.append(OptionProduct(option=option, product_id=outcome.id, position=position))
        position += 1
    OptionProduct.objects.bulk_create(links)
    watch.record()
    return outcomes


@transaction.atomic
def option_products_unassign(*, option_id: int, refs: Sequence[dict[str, Any]]) -> list[Outcome]:
    """Remove products from the option's selectable products (the products stay).

    Item errors: ProductNotFound, ProductMultipleFound, OptionProductNotFound,
    DuplicateItemInRequest. The option's default product is cleared when it leaves.
    """
    outcomes, by_product = _item_outcomes(refs, "unassign")
    product_ids = _lock_items(by_product)
    option = _locked_option(option_id)
    watch = outbox.watch(option)
    present = set(
        OptionProduct.objects.filter(option=option, product_id__in=product_ids).values_list(
            "product_id", flat=True
        )
    )
    for pk in product_ids:
        if pk not in present:
            by_product[pk].fail(
                errors.OptionProductNotFound(f"Product [{pk}] is not in option [{option.pk}].")
            )
    OptionProduct.objects.filter(option=option, product_id__in=present).delete()
    _clear_defaults(ClusterOption, [option.pk], present, events=False)
    option.refresh_from_db()
    watch.record()
    return outcomes


@transaction.atomic
def option_products_set(*, option_id: int, product_ids: Sequence[int]) -> bool:
    """Make ``product_ids`` the option's whole list of selectable products, in this order (the
    back office's ordered inline). A default product that leaves is cleared; the products
    themselves never change.

    Raises DuplicateItemInRequest (a product twice), ProductNotFound, ClusterOptionNotFound.
    Returns whether the list changed.
    """
    wanted = list(product_ids)
    twice = sorted({pk for pk in wanted if wanted.count(pk) > 1})
    if twice:
        raise errors.DuplicateItemInRequest(
            f"Product(s) {', '.join(map(str, twice))} appear more than once."
        )
    existing = _lock_products(wanted)
    missing = [pk for pk in wanted if pk not in existing]
    if missing:
        raise errors.ProductNotFound(f"Product with id [{missing[0]}] not found.")
    option = _locked_option(option_id)
    watch = outbox.watch(option)
    links = OptionProduct.objects.filter(option=option)
    current = list(links.order_by("position", "pk").values_list("product_id", flat=True))
    if current == wanted:
        return False
    links.delete()
    OptionProduct.objects.bulk_create(
        OptionProduct(option=option, product_id=pk, position=position)
        for position, pk in enumerate(wanted, start=1)
    )
    _clear_defaults(ClusterOption, [option.pk], set(current) - set(wanted), events=False)
    option.refresh_from_db()
    watch.record()
    return True
