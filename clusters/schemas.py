"""Cluster configs, clusters and options in JSON requests: the body schemas a write accepts
(SPEC §11, §12); the representations are the API's, in ``clusters.api.representations``."""

from __future__ import annotations

from catalogue.schemas import ATTRIBUTES, CATEGORY_REF, PRODUCT_REF, check_attribute_names
from clusters.models import CONFIG_NAME_PATTERN, ClusterConfigSetting
from records.rules import (
    ID_REF,
    LOCALIZED_API_NAMES,
    SOURCE_REF,
    SOURCES_RULES,
    check_sources,
    common_fields,
    default_name_rule,
    localized_fields,
    source_fields,
)
from records.validation import (
    Bool,
    Choice,
    Errors,
    Field,
    Id,
    Int,
    ListOf,
    Obj,
    OneOfShapes,
    Str,
    add_error,
)

OPTION_API_NAMES = {
    "names": "name",
    "descriptions": "description",
    "shortDescriptions": "short_description",
}
READ_ONLY_ID = Obj({"id": Int()}, read_only=True)


def _bookkeeping_fields() -> dict[str, Field]:
    common = common_fields()
    return {key: common[key] for key in ("id", "version", "createdAt", "lastModifiedAt")}


# Cluster configs ----------------------------------------------------------------------------

SETTING_FIELDS: dict[str, Field] = {
    "id": Id(read_only=True),
    "attributeName": Str(
        min_length=1,
        max_length=64,
        pattern=r"[A-Z0-9_]+",
        pattern_message="1-64 characters of A-Z0-9_ (upper case), like product attribute names.",
        attr="attribute_name",
    ),
    "displayType": Choice(
        ClusterConfigSetting.DisplayType.values, attr="display_type", description="default dropdown"
    ),
    "priority": Int(),
}
SETTING_BODY = Obj(SETTING_FIELDS, required=("attributeName",), name="ClusterConfigSettingCreate")
SETTING_PATCH = Obj(SETTING_FIELDS, name="ClusterConfigSettingPatch")


def _check_config(cleaned: dict, path: str, errs: Errors) -> None:
    seen: set[str] = set()
    for index, setting in enumerate(cleaned.get("settings") or []):
        name = setting["attribute_name"]
        if name in seen:
            add_error(
                errs, f"settings[{index}].attributeName", f"Attribute '{name}' appears twice."
            )
        seen.add(name)


class ConfigName(Str):
    def __init__(self, *, immutable: bool = False) -> None:
        super().__init__(
            min_length=2,
            max_length=35,
            pattern=CONFIG_NAME_PATTERN,
            pattern_message="2-35 characters of A-Za-z0-9_.",
            description="Unique; cannot change after create"
            + (
                "; a PATCH may repeat the current name, any other is refused (422)."
                if immutable
                else "."
            ),
        )
        self.immutable = immutable

    def openapi(self) -> dict:
        schema = super().openapi()
        if self.immutable:
            schema["readOnly"] = True  # documented as not to be sent: it cannot change
        return schema


def config_fields(*, patch: bool = False) -> dict[str, Field]:
    return {
        **_bookkeeping_fields(),
        "name": ConfigName(immutable=patch),
        "settings": ListOf(SETTING_BODY, max_items=100, description="PATCH replaces the list."),
    }


CONFIG_BODY = Obj(
    config_fields(), required=("name",), check=_check_config, name="ClusterConfigCreate"
)
CONFIG_PATCH = Obj(config_fields(patch=True), check=_check_config, name="ClusterConfigPatch")


# Clusters -----------------------------------------------------------------------------------

CONFIG_REF = OneOfShapes(
    [
        ID_REF,
        Obj({"name": Str(min_length=2, max_length=35)}, required=("name",), name="NameRef"),
    ],
    attr="cluster_config",
    description='{"id": n} or {"name": s}',
)
CODE_REF = Obj({"code": Str(min_length=1, max_length=64)}, required=("code",), name="CodeRef")
CLUSTER_REF = OneOfShapes(
    [ID_REF, SOURCE_REF, CODE_REF], description="{id}, {sourceId, source} or {code}"
)


def _default_product_field(owner: str, kind: type[Obj] = Obj) -> Field:
    return kind(
        {"id": Id()},
        required=("id",),
        nullable=True,
        attr="default_product",
        description=f"{{id}} of one of the {owner}'s products, or null.",
    )


class _NoProductsYet(Obj):
    """A new cluster's ``defaultProduct``: validated like any, but documented as null only, the
    one value a cluster without products can take (anything else: 422 10017)."""

    def openapi(self, *, for_write: bool = True) -> dict:
        return {
            "type": "null",
            "description": "Only null: a new cluster has no products yet (set it with PATCH).",
        }


def cluster_fields(*, create: bool = False) -> dict[str, Field]:
    return {
        **common_fields(),
        "code": Str(min_length=1, max_length=64, nullable=True, description="Unique when set."),
        "sku": Str(min_length=1, max_length=128, nullable=True, description="Not unique."),
        "clusterConfig": CONFIG_REF,
        **localized_fields(LOCALIZED_API_NAMES),
        "parent": CATEGORY_REF,
        "defaultProduct": _default_product_field("cluster", _NoProductsYet if create else Obj),
        **source_fields(),
        "categories": ListOf(
            Int(), read_only=True, description="With ?expands=categories: secondary category ids."
        ),
    }


def _check_cluster(cleaned: dict, path: str, errs: Errors) -> None:
    check_sources(cleaned, path, errs)
    check_attribute_names(cleaned, path, errs)


def attribute_fields() -> dict[str, Field]:
    """The cluster's attributes (SPEC §22), written whole by create and PATCH (and by name with
    the attribute routes); bulk items do not carry them."""
    return {"attributes": ATTRIBUTES}


CLUSTER_BODY = Obj(
    {**cluster_fields(create=True), **attribute_fields()},
    required=("names", "clusterConfig"),
    check=_check_cluster,
    rules=(*SOURCES_RULES, default_name_rule()),
    name="ClusterCreate",
)
CLUSTER_PATCH = Obj(
    {**cluster_fields(), **attribute_fields()},
    check=_check_cluster,
    rules=SOURCES_RULES,
    name="ClusterPatch",
)


# Assign / unassign --------------------------------------------------------------------------

MAX_LINK_ITEMS = 100
PRODUCT_REFS = ListOf(PRODUCT_REF, max_items=MAX_LINK_ITEMS)


def _check_items(cleaned: dict, path: str, errs: Errors) -> None:
    if not cleaned.get("products"):
        add_error(errs, "products", "At least one item.")


def _check_target(cleaned: dict, path: str, errs: Errors) -> None:
    if len(cleaned) != 1:
        add_error(errs, path, 'Expected {"category": lookup} or {"cluster": lookup}.')


TARGET = Obj(
    {"category": OneOfShapes(CATEGORY_REF.shapes), "cluster": CLUSTER_REF},
    check=_check_target,
    description="Where the products go: a category (their primary home) or another cluster.",
)
ASSIGN_BODY = Obj(
    {"products": PRODUCT_REFS}, required=("products",), check=_check_items, name="ProductsAssign"
)
UNASSIGN_BODY = Obj(
    {"products": PRODUCT_REFS, "target": TARGET},
    required=("products", "target"),
    check=_check_items,
    name="ProductsUnassign",
)


# Options ------------------------------------------------------------------------------------


def option_fields() -> dict[str, Field]:
    return {
        **common_fields(),
        "cluster": READ_ONLY_ID,
        **localized_fields(OPTION_API_NAMES),
        "isRequired": Bool(attr="is_required", description="default false"),
        "defaultProduct": _default_product_field("option"),
        **source_fields(),
        "products": ListOf(Int(), read_only=True, description="With ?expands=products, in order."),
    }


OPTION_BODY = Obj(
    option_fields(), required=("names",), check=_check_cluster, name="ClusterOptionCreate"
)
OPTION_PATCH = Obj(option_fields(), check=_check_cluster, name="ClusterOptionPatch")
