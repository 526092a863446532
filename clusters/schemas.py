"""Cluster configs, clusters and options in JSON: body schemas and representations (§11, §12)."""

from __future__ import annotations

from typing import Any

from catalogue.schemas import (
    ATTRIBUTES,
    CATEGORY_REF,
    PRODUCT_REF,
    check_attribute_names,
    product_representation,
    product_schema,
)
from clusters.models import (
    CONFIG_NAME_PATTERN,
    Cluster,
    ClusterConfig,
    ClusterConfigSetting,
    ClusterOption,
)
from clusters.readiness import PROBLEM_CODES
from config.api.outcomes import outcome_schema
from records.localized import localized_output
from records.rules import (
    ID_REF,
    LOCALIZED_API_NAMES,
    SOURCE_REF,
    SOURCES_RULES,
    bookkeeping_output,
    check_sources,
    common_fields,
    default_name_rule,
    localized_fields,
    source_fields,
)
from records.sources import sources_output
from records.validation import (
    Bool,
    Choice,
    Errors,
    Field,
    Id,
    Int,
    ListOf,
    Obj,
    OneOf,
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


def _without_flat_sources(schema: dict[str, Any]) -> dict[str, Any]:
    for name in ("source", "sourceId"):
        schema["properties"].pop(name, None)
    return schema


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
SETTING_BODY = Obj(SETTING_FIELDS, required=("attributeName",))
SETTING_PATCH = Obj(SETTING_FIELDS)


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


CONFIG_BODY = Obj(config_fields(), required=("name",), check=_check_config)
CONFIG_PATCH = Obj(config_fields(patch=True), check=_check_config)


def setting_representation(setting: ClusterConfigSetting) -> dict[str, Any]:
    return {
        "id": setting.pk,
        "attributeName": setting.attribute_name,
        "displayType": setting.display_type,
        "priority": setting.priority,
    }


def config_representation(config: ClusterConfig) -> dict[str, Any]:
    """Reads the prefetched ``settings`` (ordered by priority, then id)."""
    data = bookkeeping_output(config)
    data["name"] = config.name
    data["settings"] = [setting_representation(s) for s in config.settings.all()]
    return data


def setting_schema() -> dict[str, Any]:
    schema = SETTING_PATCH.openapi(for_write=False)
    schema["required"] = ["id", "attributeName", "displayType", "priority"]
    return schema


def config_schema() -> dict[str, Any]:
    schema = Obj(config_fields()).openapi(for_write=False)
    schema["properties"]["settings"] = {"type": "array", "items": setting_schema()}
    schema["required"] = ["id", "version", "createdAt", "lastModifiedAt", "name", "settings"]
    return schema


# Clusters -----------------------------------------------------------------------------------

CONFIG_REF = OneOf(
    [ID_REF, Obj({"name": Str(min_length=2, max_length=35)}, required=("name",))],
    attr="cluster_config",
    description='{"id": n} or {"name": s}',
)
CODE_REF = Obj({"code": Str(min_length=1, max_length=64)}, required=("code",))
CLUSTER_REF = OneOf(
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
            "type": "object",
            "nullable": True,
            "enum": [None],
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


def _attributes() -> dict[str, Field]:
    """The cluster's attributes (SPEC §22), written whole by create and PATCH (and by name with
    the attribute routes); bulk items do not carry them."""
    return {"attributes": ATTRIBUTES}


CLUSTER_BODY = Obj(
    {**cluster_fields(create=True), **_attributes()},
    required=("names", "clusterConfig"),
    check=_check_cluster,
    rules=(*SOURCES_RULES, default_name_rule()),
)
CLUSTER_PATCH = Obj(
    {**cluster_fields(), **_attributes()}, check=_check_cluster, rules=SOURCES_RULES
)


def cluster_representation(
    cluster: Cluster, *, language: str | None = None, expands: set[str] = frozenset()
) -> dict[str, Any]:
    """Reads what ``selectors.clusters_for_output(expands)`` prefetched."""
    data: dict[str, Any] = bookkeeping_output(cluster)
    config = cluster.cluster_config
    data["code"] = cluster.code or None
    data["sku"] = cluster.sku or None
    data["attributes"] = list(cluster.attributes or [])
    data["clusterConfig"] = (
        config_representation(config)
        if "clusterConfig" in expands
        else {"id": config.pk, "name": config.name}
    )
    data["language"] = cluster.language.upper()
    for api_name, base in LOCALIZED_API_NAMES.items():
        data[api_name] = localized_output(cluster, base, language)
    data["parent"] = {"id": cluster.parent_id} if cluster.parent_id else None
    if "defaultProduct" in expands:
        default = cluster.default_product
        data["defaultProduct"] = (
            product_representation(default, language=language) if default else None
        )
    else:
        data["defaultProduct"] = (
            {"id": cluster.default_product_id} if cluster.default_product_id else None
        )
    data["hidden"] = cluster.hidden
    data["priority"] = cluster.priority
    data["sources"] = sources_output(cluster)
    if "products" in expands:
        data["products"] = [
            product_representation(m.product, language=language) for m in cluster.memberships.all()
        ]
    if "categories" in expands:
        data["categories"] = [link.category_id for link in cluster.category_links.all()]
    if "options" in expands:
        data["options"] = [
            option_representation(o, language=language, expands={"products"})
            for o in cluster.options.all()
        ]
    return data


def cluster_schema() -> dict[str, Any]:
    schema = _without_flat_sources(
        Obj({**cluster_fields(), **_attributes()}).openapi(for_write=False)
    )
    props = schema["properties"]
    props["clusterConfig"] = {
        "description": "{id, name}; the whole config with ?expands=clusterConfig",
        "oneOf": [
            {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
            },
            config_schema(),
        ],
    }
    props["parent"] = {
        "type": "object",
        "nullable": True,
        "properties": {"id": {"type": "integer"}},
    }
    props["defaultProduct"] = {
        "description": "{id} or null; the whole product with ?expands=defaultProduct",
        "nullable": True,
        "oneOf": [
            {"type": "object", "properties": {"id": {"type": "integer"}}},
            product_schema(),
        ],
    }
    props["products"] = {
        "type": "array",
        "items": product_schema(),
        "description": "With ?expands=products.",
    }
    props["options"] = {
        "type": "array",
        "items": option_schema(),
        "description": "With ?expands=options (each with its products).",
    }
    schema["required"] = ["id", "version", "createdAt", "lastModifiedAt", "clusterConfig", "names"]
    return schema


def report_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["valid", "problems"],
        "properties": {
            "valid": {"type": "boolean"},
            "problems": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "message", "productIds"],
                    "properties": {
                        "code": {"type": "string", "enum": list(PROBLEM_CODES)},
                        "message": {"type": "string"},
                        "productIds": {"type": "array", "items": {"type": "integer"}},
                        "optionId": {"type": "integer", "description": "Option problems only."},
                    },
                },
            },
        },
    }


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
    {"category": OneOf(CATEGORY_REF.shapes), "cluster": CLUSTER_REF},
    check=_check_target,
    description="Where the products go: a category (their primary home) or another cluster.",
)
ASSIGN_BODY = Obj({"products": PRODUCT_REFS}, required=("products",), check=_check_items)
UNASSIGN_BODY = Obj(
    {"products": PRODUCT_REFS, "target": TARGET},
    required=("products", "target"),
    check=_check_items,
)


def assign_outcomes_schema() -> dict[str, Any]:
    """``data`` of assign/unassign: one outcome per item, in request order."""
    return {
        "type": "array",
        "items": outcome_schema({"type": {"type": "string", "enum": ["product"]}}),
    }


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


OPTION_BODY = Obj(option_fields(), required=("names",), check=_check_cluster)
OPTION_PATCH = Obj(option_fields(), check=_check_cluster)


def option_representation(
    option: ClusterOption, *, language: str | None = None, expands: set[str] = frozenset()
) -> dict[str, Any]:
    data: dict[str, Any] = bookkeeping_output(option)
    data["cluster"] = {"id": option.cluster_id}
    data["language"] = option.language.upper()
    for api_name, base in OPTION_API_NAMES.items():
        data[api_name] = localized_output(option, base, language)
    data.update(
        {
            "isRequired": option.is_required,
            "hidden": option.hidden,
            "priority": option.priority,
            "defaultProduct": (
                {"id": option.default_product_id} if option.default_product_id else None
            ),
            "sources": sources_output(option),
        }
    )
    if "products" in expands:
        data["products"] = [link.product_id for link in option.product_links.all()]
    return data


def option_schema() -> dict[str, Any]:
    schema = _without_flat_sources(Obj(option_fields()).openapi(for_write=False))
    schema["properties"]["cluster"] = {"type": "object", "properties": {"id": {"type": "integer"}}}
    schema["required"] = ["id", "version", "createdAt", "lastModifiedAt", "cluster", "names"]
    return schema
