"""Cluster configs, clusters and options as the API answers them: representations and their
OpenAPI schemas."""

from __future__ import annotations

from typing import Any

from catalogue.api.representations import product_representation, product_schema
from clusters.models import Cluster, ClusterConfig, ClusterConfigSetting, ClusterOption
from clusters.readiness import PROBLEM_CODES
from clusters.schemas import (
    OPTION_API_NAMES,
    SETTING_FIELDS,
    ConfigName,
    attribute_fields,
    cluster_fields,
    config_fields,
    option_fields,
)
from config.api.outcomes import outcome_schema
from records.components import component, or_null
from records.localized import localized_output
from records.rules import (
    ID_REF,
    LOCALIZED_API_NAMES,
    bookkeeping_output,
    related_schema,
    representation_schema,
)
from records.sources import sources_output
from records.validation import Id, Obj


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


@component("ClusterConfigSetting")
def setting_schema() -> dict[str, Any]:
    return representation_schema(SETTING_FIELDS)


@component("ClusterConfig")
def config_schema() -> dict[str, Any]:
    return representation_schema(
        config_fields(), properties={"settings": {"type": "array", "items": setting_schema()}}
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


@component("Cluster")
def cluster_schema() -> dict[str, Any]:
    brief = Obj(
        {"id": Id(), "name": ConfigName()}, required=("id", "name"), name="ClusterConfigRef"
    )
    return representation_schema(
        {**cluster_fields(), **attribute_fields()},
        optional=("products", "categories", "options"),
        properties={
            "clusterConfig": {
                "description": "{id, name}; the whole config with ?expands=clusterConfig",
                "oneOf": [brief.openapi(), config_schema()],
            },
            "parent": related_schema(),
            "defaultProduct": or_null(
                {
                    "description": "{id} or null; the whole product with ?expands=defaultProduct",
                    "oneOf": [ID_REF.openapi(), product_schema()],
                }
            ),
            "products": {
                "type": "array",
                "items": product_schema(),
                "description": "With ?expands=products.",
            },
            "options": {
                "type": "array",
                "items": option_schema(),
                "description": "With ?expands=options (each with its products).",
            },
        },
    )


@component("ClusterReadiness")
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


@component("AssignOutcome")
def assign_outcome_schema() -> dict[str, Any]:
    return outcome_schema({"type": {"type": "string", "enum": ["product"]}})


def assign_outcomes_schema() -> dict[str, Any]:
    """``data`` of assign/unassign: one outcome per item, in request order."""
    return {"type": "array", "items": assign_outcome_schema()}


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


@component("ClusterOption")
def option_schema() -> dict[str, Any]:
    return representation_schema(
        option_fields(),
        optional=("products",),
        properties={"cluster": ID_REF.openapi(), "defaultProduct": related_schema()},
    )
