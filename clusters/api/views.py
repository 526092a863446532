"""Cluster config, cluster, cluster product and cluster option routes (SPEC §11, §12).

Views parse, call a selector or service, render.
"""

from __future__ import annotations

from typing import Any, cast

from catalogue import services as product_services
from catalogue.api.representations import product_representation, product_schema
from catalogue.api.views import PRODUCT_FILTERS
from catalogue.schemas import ATTRIBUTES_BODY, PRODUCT_BODY, PRODUCT_PATCH
from catalogue.selectors import PRODUCT_SORTS, product_by_id
from changes.api.views import history_view
from clusters import selectors, services
from clusters.api.representations import (
    assign_outcomes_schema,
    cluster_representation,
    cluster_schema,
    config_representation,
    config_schema,
    option_representation,
    option_schema,
    report_schema,
    setting_representation,
    setting_schema,
)
from clusters.models import ClusterConfigSetting
from clusters.readiness import cluster_report
from clusters.schemas import (
    ASSIGN_BODY,
    CLUSTER_BODY,
    CLUSTER_PATCH,
    CONFIG_BODY,
    CONFIG_PATCH,
    MAX_LINK_ITEMS,
    OPTION_BODY,
    OPTION_PATCH,
    SETTING_BODY,
    SETTING_PATCH,
    UNASSIGN_BODY,
)
from config.api import errors
from config.api.outcomes import errors_for
from config.api.pagination import paginate_request
from config.api.params import (
    BOOL,
    ID,
    ID_PATH,
    IDS_PARAM,
    STRING,
    TERM,
    expands_param,
    language_param,
    lookup_params,
    paging_params,
    record_filter_params,
)
from config.api.responses import deleted, listing, ok, record
from config.api.routing import ApiView, Operation, QueryParam
from config.api.views import (
    attribute_views,
    body,
    if_match,
    nested_list_params,
    translation_removal_view,
)
from records.filters import parse_expands, parse_language_param
from records.outcomes import Outcome, count_actions
from records.validation import Obj

CLUSTERS_READ, CLUSTERS_WRITE = ("clusters:read",), ("clusters:write",)
CONFIGS_READ, CONFIGS_WRITE = ("cluster-configs:read",), ("cluster-configs:write",)
OPTIONS_READ, OPTIONS_WRITE = ("cluster-options:read",), ("cluster-options:write",)

BODY_ERRORS = (
    errors.SchemaValidationException,
    errors.InvalidJSONPayload,
    errors.UnsupportedMediaType,
)
CONFIG_LOOKUP_ERRORS = (errors.InvalidLookupKey, errors.ClusterConfigNotFound)
CLUSTER_LOOKUP_ERRORS = (
    errors.InvalidLookupKey,
    errors.ClusterNotFound,
    errors.ClusterMultipleFound,
    errors.SchemaValidationException,
)
PARENT_LOOKUP_ERRORS = (
    errors.InvalidLookupKey,
    errors.ParentClusterNotFound,
    errors.ClusterMultipleFound,
    errors.SchemaValidationException,
)
OPTION_LOOKUP_ERRORS = (
    errors.InvalidLookupKey,
    errors.ClusterOptionNotFound,
    errors.ClusterOptionMultipleFound,
    errors.SchemaValidationException,
)
CLUSTER_WRITE_ERRORS = (
    *BODY_ERRORS,
    errors.ClusterExists,
    errors.ClusterConfigNotFound,
    errors.ParentCategoryNotFound,
    errors.DefaultTranslationRequired,
    errors.PayloadValidationError,
)
OPTION_WRITE_ERRORS = (
    *BODY_ERRORS,
    errors.ClusterOptionExists,
    errors.DefaultTranslationRequired,
    errors.PayloadValidationError,
)
PRODUCT_WRITE_ERRORS = (
    *BODY_ERRORS,
    errors.ProductExists,
    errors.ParentCategoryNotFound,
    errors.DefaultTranslationRequired,
    errors.PayloadValidationError,
)
ITEM_ERRORS = (*BODY_ERRORS, errors.BulkLimitExceeded)

SOURCE_PARAM = lookup_params("source")
CONFIG_PATHS = selectors.CONFIG_LOOKUP.path_schemas()
CLUSTER_PATHS = selectors.CLUSTER_LOOKUP.path_schemas()
OPTION_PATHS = selectors.OPTION_LOOKUP.path_schemas()
CLUSTER_EXPANDS_PARAM = expands_param(
    selectors.CLUSTER_EXPANDS,
    f"{', '.join(selectors.CLUSTER_EXPANDS)} (categories: the secondary category ids)",
)
OPTION_EXPANDS_PARAM = expands_param(
    selectors.OPTION_EXPANDS, "products (the selectable product ids)"
)
CLUSTER_FILTERS = (
    *record_filter_params(),
    QueryParam("code", STRING),
    QueryParam("sku", STRING),
    QueryParam("clusterConfig", ID, "Cluster config id."),
    QueryParam("category", ID, "Primary category id."),
    QueryParam("includeDescendants", BOOL, "With category: the whole subtree."),
)
OPTION_FILTERS = (*record_filter_params(), QueryParam("isRequired", BOOL))
CONFIG_FILTERS = (
    IDS_PARAM,
    QueryParam("name", STRING),
    QueryParam("q", TERM, "Text in the name."),
    QueryParam("attributeName", STRING, "Configs with a setting for this attribute."),
    *record_filter_params()[-4:],  # the date ranges
)
SETTING_FILTERS = (
    IDS_PARAM,
    QueryParam("attributeName", STRING),
    QueryParam("displayType", {"type": "string", "enum": ClusterConfigSetting.DisplayType.values}),
)


def _items(request, schema: Obj) -> dict[str, Any]:
    """The body of an assign/unassign request: over MAX_LINK_ITEMS items → 413 before anything."""
    items = request.data.get("products") if isinstance(request.data, dict) else None
    if isinstance(items, list) and len(items) > MAX_LINK_ITEMS:
        raise errors.BulkLimitExceeded(
            f"At most {MAX_LINK_ITEMS} products per request; got {len(items)}."
        )
    return body(request, schema)


def _outcomes(request, outcomes: list[Outcome], verb: str):
    counts = count_actions(outcomes)
    return ok(
        [o.as_dict(errors_for(request)) for o in outcomes],
        f"{len(outcomes) - counts['error']} {verb}, {counts['error']} failed",
    )


# Cluster configs ----------------------------------------------------------------------------


def _config_path(config) -> str:
    return f"/v2/clusterconfigs/id/{config.pk}"


class ClusterConfigCollectionView(ApiView):
    tag = "Cluster configs"
    operations = {
        "GET": Operation(
            CONFIGS_READ,
            "List cluster configs",
            response=config_schema,
            many=True,
            query=(*paging_params(list(selectors.CONFIG_SORTS)), *CONFIG_FILTERS),
            errors=(errors.SchemaValidationException, errors.PaginatedResponseException),
        ),
        "POST": Operation(
            CONFIGS_WRITE,
            "Create a cluster config with its settings",
            request=CONFIG_BODY,
            response=config_schema,
            status=201,
            errors=(*BODY_ERRORS, errors.ClusterConfigExists),
        ),
    }

    def get(self, request):
        page = paginate_request(
            request, selectors.config_list(request.query_params), selectors.CONFIG_SORTS
        )
        return listing(page, [config_representation(c) for c in page.rows])

    def post(self, request):
        data = cast(services.ClusterConfigCreate, body(request, CONFIG_BODY))
        config = services.cluster_config_create(data=data)
        config = selectors.config_by_id(config.pk)
        return record(
            config_representation(config),
            "Cluster config created",
            status=201,
            location=request.build_absolute_uri(_config_path(config)),
        )


class ClusterConfigDetailView(ApiView):
    tag = "Cluster configs"
    path_schemas = CONFIG_PATHS
    operations = {
        "GET": Operation(
            CONFIGS_READ,
            "Get a cluster config",
            response=config_schema,
            errors=CONFIG_LOOKUP_ERRORS,
        ),
        "PATCH": Operation(
            CONFIGS_WRITE,
            "Update a cluster config (settings replace the list; name cannot change)",
            request=CONFIG_PATCH,
            response=config_schema,
            errors=(
                *CONFIG_LOOKUP_ERRORS,
                *BODY_ERRORS,
                errors.PayloadValidationError,
                errors.PreconditionFailed,
            ),
        ),
        "DELETE": Operation(
            CONFIGS_WRITE,
            "Delete a cluster config (refused while clusters use it)",
            errors=(*CONFIG_LOOKUP_ERRORS, errors.ClusterConfigInUse, errors.PreconditionFailed),
        ),
    }

    def get(self, request, lookup_key, lookup_value):
        return record(config_representation(selectors.config_get(lookup_key, lookup_value)))

    def patch(self, request, lookup_key, lookup_value):
        config = selectors.config_get(lookup_key, lookup_value)
        data = cast(services.ClusterConfigPatch, body(request, CONFIG_PATCH, partial=True))
        services.cluster_config_update(config_id=config.pk, data=data, if_match=if_match(request))
        config = selectors.config_by_id(config.pk)
        return record(config_representation(config), "Cluster config updated")

    def delete(self, request, lookup_key, lookup_value):
        config = selectors.config_get(lookup_key, lookup_value, with_settings=False)
        services.cluster_config_delete(config_id=config.pk, if_match=if_match(request))
        return deleted("Cluster config deleted")


class ClusterConfigSettingCollectionView(ApiView):
    tag = "Cluster configs"
    path_schemas = CONFIG_PATHS
    operations = {
        "GET": Operation(
            CONFIGS_READ,
            "List the settings of a cluster config",
            response=setting_schema,
            many=True,
            query=(*paging_params(list(selectors.SETTING_SORTS)), *SETTING_FILTERS),
            errors=(
                *CONFIG_LOOKUP_ERRORS,
                errors.SchemaValidationException,
                errors.PaginatedResponseException,
            ),
        ),
        "POST": Operation(
            CONFIGS_WRITE,
            "Add a setting to a cluster config",
            request=SETTING_BODY,
            response=setting_schema,
            status=201,
            errors=(*CONFIG_LOOKUP_ERRORS, *BODY_ERRORS, errors.ClusterConfigSettingExists),
        ),
    }

    def get(self, request, lookup_key, lookup_value):
        config = selectors.config_get(lookup_key, lookup_value, with_settings=False)
        queryset = selectors.config_setting_list(config, request.query_params)
        page = paginate_request(request, queryset, selectors.SETTING_SORTS)
        return listing(page, [setting_representation(s) for s in page.rows])

    def post(self, request, lookup_key, lookup_value):
        config = selectors.config_get(lookup_key, lookup_value, with_settings=False)
        data = cast(services.SettingCreate, body(request, SETTING_BODY))
        setting = services.cluster_config_setting_create(config_id=config.pk, data=data)
        return ok(
            setting_representation(setting),
            "Cluster config setting created",
            status=201,
            headers={
                "Location": request.build_absolute_uri(
                    f"{_config_path(config)}/settings/{setting.pk}"
                )
            },
        )


class ClusterConfigSettingDetailView(ApiView):
    tag = "Cluster configs"
    path_schemas = {**CONFIG_PATHS, "setting_id": ID_PATH}
    operations = {
        "GET": Operation(
            CONFIGS_READ,
            "Get a setting of a cluster config",
            response=setting_schema,
            errors=(*CONFIG_LOOKUP_ERRORS, errors.ClusterConfigSettingNotFound),
        ),
        "PATCH": Operation(
            CONFIGS_WRITE,
            "Update a setting of a cluster config",
            request=SETTING_PATCH,
            response=setting_schema,
            errors=(
                *CONFIG_LOOKUP_ERRORS,
                *BODY_ERRORS,
                errors.ClusterConfigSettingNotFound,
                errors.ClusterConfigSettingExists,
            ),
        ),
        "DELETE": Operation(
            CONFIGS_WRITE,
            "Delete a setting of a cluster config",
            errors=(*CONFIG_LOOKUP_ERRORS, errors.ClusterConfigSettingNotFound),
        ),
    }

    def get(self, request, lookup_key, lookup_value, setting_id):
        config = selectors.config_get(lookup_key, lookup_value, with_settings=False)
        setting = selectors.config_setting_get(config, int(setting_id))
        return ok(setting_representation(setting))

    def patch(self, request, lookup_key, lookup_value, setting_id):
        config = selectors.config_get(lookup_key, lookup_value, with_settings=False)
        data = cast(services.SettingPatch, body(request, SETTING_PATCH, partial=True))
        setting = services.cluster_config_setting_update(
            config_id=config.pk, setting_id=int(setting_id), data=data
        )
        return ok(setting_representation(setting), "Cluster config setting updated")

    def delete(self, request, lookup_key, lookup_value, setting_id):
        config = selectors.config_get(lookup_key, lookup_value, with_settings=False)
        services.cluster_config_setting_delete(config_id=config.pk, setting_id=int(setting_id))
        return deleted("Cluster config setting deleted")


# Clusters -----------------------------------------------------------------------------------


def _render_cluster(cluster, request, expands) -> dict:
    language = parse_language_param(request.query_params)
    return cluster_representation(cluster, language=language, expands=expands)


def _cluster_expands(request) -> set[str]:
    return parse_expands(request.query_params, selectors.CLUSTER_EXPANDS)


def _parent_cluster(request, lookup_key, lookup_value):
    return selectors.cluster_find(lookup_key, lookup_value, request.query_params, parent=True)


class ClusterCollectionView(ApiView):
    tag = "Clusters"
    operations = {
        "GET": Operation(
            CLUSTERS_READ,
            "List clusters",
            response=cluster_schema,
            many=True,
            query=(
                *paging_params(list(selectors.CLUSTER_SORTS)),
                *CLUSTER_FILTERS,
                language_param(),
                CLUSTER_EXPANDS_PARAM,
            ),
            errors=(errors.SchemaValidationException, errors.PaginatedResponseException),
        ),
        "POST": Operation(
            CLUSTERS_WRITE,
            "Create a cluster",
            request=CLUSTER_BODY,
            response=cluster_schema,
            status=201,
            query=(language_param(), CLUSTER_EXPANDS_PARAM),
            errors=CLUSTER_WRITE_ERRORS,
        ),
    }

    def get(self, request):
        expands = _cluster_expands(request)
        queryset = selectors.cluster_list(request.query_params, expands=expands)
        page = paginate_request(request, queryset, selectors.CLUSTER_SORTS)
        return listing(page, [_render_cluster(c, request, expands) for c in page.rows])

    def post(self, request):
        expands = _cluster_expands(request)
        data = cast(services.ClusterCreate, body(request, CLUSTER_BODY))
        cluster = services.cluster_create(data=data)
        cluster = selectors.cluster_by_id(cluster.pk, expands=expands)
        location = request.build_absolute_uri(f"/v2/clusters/id/{cluster.pk}")
        return record(
            _render_cluster(cluster, request, expands),
            "Cluster created",
            status=201,
            location=location,
        )


class ClusterDetailView(ApiView):
    tag = "Clusters"
    path_schemas = CLUSTER_PATHS
    operations = {
        "GET": Operation(
            CLUSTERS_READ,
            "Get a cluster",
            response=cluster_schema,
            query=(*SOURCE_PARAM, language_param(), CLUSTER_EXPANDS_PARAM),
            errors=CLUSTER_LOOKUP_ERRORS,
        ),
        "PATCH": Operation(
            CLUSTERS_WRITE,
            "Update a cluster (partial)",
            request=CLUSTER_PATCH,
            response=cluster_schema,
            query=(*SOURCE_PARAM, language_param(), CLUSTER_EXPANDS_PARAM),
            errors=(*CLUSTER_LOOKUP_ERRORS, *CLUSTER_WRITE_ERRORS, errors.PreconditionFailed),
        ),
        "DELETE": Operation(
            CLUSTERS_WRITE,
            "Delete a cluster and its options (its products stay, without a cluster)",
            query=SOURCE_PARAM,
            errors=(*CLUSTER_LOOKUP_ERRORS, errors.PreconditionFailed),
        ),
    }

    def get(self, request, lookup_key, lookup_value):
        expands = _cluster_expands(request)
        cluster = selectors.cluster_get(
            lookup_key, lookup_value, request.query_params, expands=expands
        )
        return record(_render_cluster(cluster, request, expands))

    def patch(self, request, lookup_key, lookup_value):
        expands = _cluster_expands(request)
        cluster = selectors.cluster_find(lookup_key, lookup_value, request.query_params)
        data = cast(services.ClusterPatch, body(request, CLUSTER_PATCH, partial=True))
        services.cluster_update(cluster_id=cluster.pk, data=data, if_match=if_match(request))
        cluster = selectors.cluster_by_id(cluster.pk, expands=expands)
        return record(_render_cluster(cluster, request, expands), "Cluster updated")

    def delete(self, request, lookup_key, lookup_value):
        cluster = selectors.cluster_find(lookup_key, lookup_value, request.query_params)
        services.cluster_delete(cluster_id=cluster.pk, if_match=if_match(request))
        return deleted("Cluster deleted")


def _render_cluster_id(pk: int, request) -> dict:
    return _render_cluster(selectors.cluster_by_id(pk), request, set())


ClusterTranslationView = translation_removal_view(
    "ClusterTranslationView",
    tag="Clusters",
    scopes=CLUSTERS_WRITE,
    response=cluster_schema,
    query=SOURCE_PARAM,
    lookup_errors=CLUSTER_LOOKUP_ERRORS,
    path_schemas=CLUSTER_PATHS,
    find=lambda request, key, value: selectors.cluster_find(key, value, request.query_params),
    remove=lambda pk, language: services.cluster_remove_translation(
        cluster_id=pk, language=language
    ),
    render=_render_cluster_id,
)
ClusterHistoryView = history_view(
    "ClusterHistoryView",
    entity="cluster",
    tag="Clusters",
    scopes=CLUSTERS_READ,
    query=SOURCE_PARAM,
    lookup_errors=CLUSTER_LOOKUP_ERRORS,
    path_schemas=CLUSTER_PATHS,
    find=lambda request, key, value: selectors.cluster_find(key, value, request.query_params),
)
ClusterConfigHistoryView = history_view(
    "ClusterConfigHistoryView",
    entity="clusterConfig",
    tag="Cluster configs",
    scopes=CONFIGS_READ,
    query=(),
    lookup_errors=CONFIG_LOOKUP_ERRORS,
    path_schemas=CONFIG_PATHS,
    find=lambda request, key, value: selectors.config_get(key, value, with_settings=False),
)
ClusterAttributesView, ClusterAttributeView = attribute_views(
    "Cluster",
    tag="Clusters",
    scopes=CLUSTERS_WRITE,
    request=ATTRIBUTES_BODY,
    response=cluster_schema,
    query=SOURCE_PARAM,
    lookup_errors=CLUSTER_LOOKUP_ERRORS,
    not_found=errors.ClusterAttributeNotFound,
    path_schemas=CLUSTER_PATHS,
    find=lambda request, key, value: selectors.cluster_find(key, value, request.query_params),
    upsert=lambda pk, attributes, version: services.cluster_attributes_upsert(
        cluster_id=pk, attributes=attributes, if_match=version
    ),
    remove=lambda pk, name, version: services.cluster_attribute_delete(
        cluster_id=pk, name=name, if_match=version
    ),
    render=_render_cluster_id,
)


class ClusterValidateView(ApiView):
    tag = "Clusters"
    path_schemas = CLUSTER_PATHS
    operations = {
        "GET": Operation(
            CLUSTERS_READ,
            "Readiness report of a cluster",
            response=report_schema,
            query=SOURCE_PARAM,
            errors=CLUSTER_LOOKUP_ERRORS,
        ),
    }

    def get(self, request, lookup_key, lookup_value):
        cluster = selectors.cluster_find(lookup_key, lookup_value, request.query_params)
        return ok(cluster_report(cluster))


# Products of a cluster ----------------------------------------------------------------------

CLUSTER_PRODUCT_PARAMS = (*SOURCE_PARAM, language_param())


def _render_product(product, request) -> dict:
    return product_representation(product, language=parse_language_param(request.query_params))


class ClusterProductCollectionView(ApiView):
    tag = "Clusters"
    path_schemas = CLUSTER_PATHS
    operations = {
        "GET": Operation(
            CLUSTERS_READ,
            "List the products of a cluster",
            response=product_schema,
            many=True,
            query=(*paging_params(list(PRODUCT_SORTS)), *PRODUCT_FILTERS, language_param()),
            errors=(*PARENT_LOOKUP_ERRORS, errors.PaginatedResponseException),
        ),
        "POST": Operation(
            CLUSTERS_WRITE,
            "Create a product inside the cluster",
            request=PRODUCT_BODY,
            response=product_schema,
            status=201,
            query=CLUSTER_PRODUCT_PARAMS,
            errors=(*PARENT_LOOKUP_ERRORS, *PRODUCT_WRITE_ERRORS),
        ),
    }

    def get(self, request, lookup_key, lookup_value):
        cluster = _parent_cluster(request, lookup_key, lookup_value)
        queryset = selectors.cluster_product_list(cluster, nested_list_params(request, lookup_key))
        page = paginate_request(request, queryset, PRODUCT_SORTS)
        return listing(page, [_render_product(p, request) for p in page.rows])

    def post(self, request, lookup_key, lookup_value):
        cluster = _parent_cluster(request, lookup_key, lookup_value)
        data = cast(product_services.ProductCreate, body(request, PRODUCT_BODY))
        product = services.cluster_product_create(cluster_id=cluster.pk, data=data)
        product = product_by_id(product.pk)
        return record(
            _render_product(product, request),
            "Product created",
            status=201,
            location=request.build_absolute_uri(
                f"/v2/clusters/id/{cluster.pk}/products/{product.pk}"
            ),
        )


class ClusterProductDetailView(ApiView):
    tag = "Clusters"
    path_schemas = {**CLUSTER_PATHS, "product_id": ID_PATH}
    operations = {
        "GET": Operation(
            CLUSTERS_READ,
            "Get a product of the cluster",
            response=product_schema,
            query=CLUSTER_PRODUCT_PARAMS,
            errors=(*PARENT_LOOKUP_ERRORS, errors.ClusterProductNotFound),
        ),
        "PATCH": Operation(
            CLUSTERS_WRITE,
            "Update a product of the cluster (partial)",
            request=PRODUCT_PATCH,
            response=product_schema,
            query=CLUSTER_PRODUCT_PARAMS,
            errors=(
                *PARENT_LOOKUP_ERRORS,
                *PRODUCT_WRITE_ERRORS,
                errors.ClusterProductNotFound,
                errors.PreconditionFailed,
            ),
        ),
        "DELETE": Operation(
            CLUSTERS_WRITE,
            "Detach and delete a product of the cluster",
            query=SOURCE_PARAM,
            errors=(
                *PARENT_LOOKUP_ERRORS,
                errors.ClusterProductNotFound,
                errors.PreconditionFailed,
            ),
        ),
    }

    def _product(self, request, lookup_key, lookup_value, product_id):
        cluster = _parent_cluster(request, lookup_key, lookup_value)
        return cluster, selectors.cluster_product_get(cluster, int(product_id))

    def get(self, request, lookup_key, lookup_value, product_id):
        _, product = self._product(request, lookup_key, lookup_value, product_id)
        return record(_render_product(product, request))

    def patch(self, request, lookup_key, lookup_value, product_id):
        _, product = self._product(request, lookup_key, lookup_value, product_id)
        data = cast(product_services.ProductPatch, body(request, PRODUCT_PATCH, partial=True))
        product_services.product_update(
            product_id=product.pk, data=data, if_match=if_match(request)
        )
        product = product_by_id(product.pk)
        return record(_render_product(product, request), "Product updated")

    def delete(self, request, lookup_key, lookup_value, product_id):
        _, product = self._product(request, lookup_key, lookup_value, product_id)
        product_services.product_delete(product_id=product.pk, if_match=if_match(request))
        return deleted("Product deleted")


class ClusterProductAssignView(ApiView):
    tag = "Clusters"
    path_schemas = CLUSTER_PATHS
    operations = {
        "POST": Operation(
            # It takes products out of their category or other cluster: their own scope too (§11).
            (*CLUSTERS_WRITE, "products:write"),
            "Move existing products into the cluster (per-item outcomes)",
            request=ASSIGN_BODY,
            response=assign_outcomes_schema,
            query=SOURCE_PARAM,
            errors=(*PARENT_LOOKUP_ERRORS, *ITEM_ERRORS),
        ),
    }

    def post(self, request, lookup_key, lookup_value):
        cluster = _parent_cluster(request, lookup_key, lookup_value)
        data = _items(request, ASSIGN_BODY)
        outcomes = services.cluster_products_assign(cluster_id=cluster.pk, refs=data["products"])
        return _outcomes(request, outcomes, "assigned")


class ClusterProductUnassignView(ApiView):
    tag = "Clusters"
    path_schemas = CLUSTER_PATHS
    operations = {
        "POST": Operation(
            CLUSTERS_WRITE,
            "Move products out of the cluster to a target category or cluster (per-item outcomes)",
            request=UNASSIGN_BODY,
            response=assign_outcomes_schema,
            query=SOURCE_PARAM,
            errors=(
                *PARENT_LOOKUP_ERRORS,
                *ITEM_ERRORS,
                errors.ParentCategoryNotFound,
                errors.ClusterNotFound,
                errors.PayloadValidationError,
            ),
        ),
    }

    def post(self, request, lookup_key, lookup_value):
        cluster = _parent_cluster(request, lookup_key, lookup_value)
        data = _items(request, UNASSIGN_BODY)
        outcomes = services.cluster_products_unassign(
            cluster_id=cluster.pk, refs=data["products"], target=data["target"]
        )
        return _outcomes(request, outcomes, "unassigned")


# Options ------------------------------------------------------------------------------------


def _option_expands(request) -> set[str]:
    return parse_expands(request.query_params, selectors.OPTION_EXPANDS)


def _render_option(option, request, expands) -> dict:
    language = parse_language_param(request.query_params)
    return option_representation(option, language=language, expands=expands)


class OptionOperations:
    """GET / PATCH / DELETE of one option; subclasses say how the URL finds it."""

    def find_option(self, request, expands=(), **kwargs):
        raise NotImplementedError

    def get(self, request, **kwargs):
        expands = _option_expands(request)
        return record(
            _render_option(self.find_option(request, expands, **kwargs), request, expands)
        )

    def patch(self, request, **kwargs):
        expands = _option_expands(request)
        option = self.find_option(request, **kwargs)
        data = cast(services.OptionPatch, body(request, OPTION_PATCH, partial=True))
        services.option_update(option_id=option.pk, data=data, if_match=if_match(request))
        option = selectors.option_by_id(option.pk, expands=expands)
        return record(_render_option(option, request, expands), "Cluster option updated")

    def delete(self, request, **kwargs):
        option = self.find_option(request, **kwargs)
        services.option_delete(option_id=option.pk, if_match=if_match(request))
        return deleted("Cluster option deleted")


OPTION_DETAIL_QUERY = (language_param(), OPTION_EXPANDS_PARAM)


def _option_operations(lookup_errors: tuple, query: tuple) -> dict[str, Operation]:
    return {
        "GET": Operation(
            OPTIONS_READ,
            "Get a cluster option",
            response=option_schema,
            query=(*query, *OPTION_DETAIL_QUERY),
            errors=lookup_errors,
        ),
        "PATCH": Operation(
            OPTIONS_WRITE,
            "Update a cluster option (partial)",
            request=OPTION_PATCH,
            response=option_schema,
            query=(*query, *OPTION_DETAIL_QUERY),
            errors=(*lookup_errors, *OPTION_WRITE_ERRORS, errors.PreconditionFailed),
        ),
        "DELETE": Operation(
            OPTIONS_WRITE,
            "Delete a cluster option (its products stay)",
            query=query,
            errors=(*lookup_errors, errors.PreconditionFailed),
        ),
    }


class ClusterOptionCollectionView(ApiView):
    tag = "Cluster options"
    path_schemas = CLUSTER_PATHS
    operations = {
        "GET": Operation(
            OPTIONS_READ,
            "List the options of a cluster",
            response=option_schema,
            many=True,
            query=(
                *paging_params(list(selectors.OPTION_SORTS)),
                *OPTION_FILTERS,
                *OPTION_DETAIL_QUERY,
            ),
            errors=(*PARENT_LOOKUP_ERRORS, errors.PaginatedResponseException),
        ),
        "POST": Operation(
            OPTIONS_WRITE,
            "Create an option of the cluster",
            request=OPTION_BODY,
            response=option_schema,
            status=201,
            query=(*SOURCE_PARAM, *OPTION_DETAIL_QUERY),
            errors=(*PARENT_LOOKUP_ERRORS, *OPTION_WRITE_ERRORS),
        ),
    }

    def get(self, request, lookup_key, lookup_value):
        cluster = _parent_cluster(request, lookup_key, lookup_value)
        expands = _option_expands(request)
        params = nested_list_params(request, lookup_key)
        queryset = selectors.option_list(cluster, params, expands=expands)
        page = paginate_request(request, queryset, selectors.OPTION_SORTS)
        return listing(page, [_render_option(o, request, expands) for o in page.rows])

    def post(self, request, lookup_key, lookup_value):
        cluster = _parent_cluster(request, lookup_key, lookup_value)
        expands = _option_expands(request)
        data = cast(services.OptionCreate, body(request, OPTION_BODY))
        option = services.option_create(cluster_id=cluster.pk, data=data)
        option = selectors.option_by_id(option.pk, expands=expands)
        return record(
            _render_option(option, request, expands),
            "Cluster option created",
            status=201,
            location=request.build_absolute_uri(f"/v2/clusteroptions/id/{option.pk}"),
        )


class ClusterOptionNestedDetailView(OptionOperations, ApiView):
    tag = "Cluster options"
    path_schemas = {**CLUSTER_PATHS, "option_id": ID_PATH}
    operations = _option_operations(
        (*PARENT_LOOKUP_ERRORS, errors.ClusterOptionNotFound), SOURCE_PARAM
    )

    def find_option(self, request, expands=(), *, lookup_key, lookup_value, option_id):
        cluster = _parent_cluster(request, lookup_key, lookup_value)
        return selectors.option_in_cluster(cluster, int(option_id), expands=expands)


class ClusterOptionDetailView(OptionOperations, ApiView):
    tag = "Cluster options"
    path_schemas = OPTION_PATHS
    operations = _option_operations(OPTION_LOOKUP_ERRORS, SOURCE_PARAM)

    def find_option(self, request, expands=(), *, lookup_key, lookup_value):
        return selectors.option_get(lookup_key, lookup_value, request.query_params, expands=expands)


ClusterOptionTranslationView = translation_removal_view(
    "ClusterOptionTranslationView",
    tag="Cluster options",
    scopes=OPTIONS_WRITE,
    response=option_schema,
    query=SOURCE_PARAM,
    lookup_errors=OPTION_LOOKUP_ERRORS,
    path_schemas=OPTION_PATHS,
    find=lambda request, key, value: selectors.option_find(key, value, request.query_params),
    remove=lambda pk, language: services.option_remove_translation(option_id=pk, language=language),
    render=lambda pk, request: _render_option(selectors.option_by_id(pk), request, set()),
)


ClusterOptionHistoryView = history_view(
    "ClusterOptionHistoryView",
    entity="clusterOption",
    tag="Cluster options",
    scopes=OPTIONS_READ,
    query=SOURCE_PARAM,
    lookup_errors=OPTION_LOOKUP_ERRORS,
    path_schemas=OPTION_PATHS,
    find=lambda request, key, value: selectors.option_find(key, value, request.query_params),
)


class OptionProductCollectionView(ApiView):
    tag = "Cluster options"
    path_schemas = OPTION_PATHS
    operations = {
        "GET": Operation(
            OPTIONS_READ,
            "List the selectable products of an option, in order",
            response=product_schema,
            many=True,
            query=(
                *paging_params(list(selectors.OPTION_PRODUCT_SORTS)),
                *PRODUCT_FILTERS,
                language_param(),
            ),
            errors=(*OPTION_LOOKUP_ERRORS, errors.PaginatedResponseException),
        ),
    }

    def get(self, request, lookup_key, lookup_value):
        option = selectors.option_find(lookup_key, lookup_value, request.query_params)
        queryset = selectors.option_product_list(option, nested_list_params(request, lookup_key))
        page = paginate_request(
            request, queryset, selectors.OPTION_PRODUCT_SORTS, default_sort="position"
        )
        return listing(page, [_render_product(link.product, request) for link in page.rows])


class OptionProductAssignView(ApiView):
    tag = "Cluster options"
    path_schemas = OPTION_PATHS
    operations = {
        "POST": Operation(
            OPTIONS_WRITE,
            "Make products selectable in the option, appended in request order",
            request=ASSIGN_BODY,
            response=assign_outcomes_schema,
            query=SOURCE_PARAM,
            errors=(*OPTION_LOOKUP_ERRORS, *ITEM_ERRORS),
        ),
    }

    def post(self, request, lookup_key, lookup_value):
        option = selectors.option_find(lookup_key, lookup_value, request.query_params)
        data = _items(request, ASSIGN_BODY)
        outcomes = services.option_products_assign(option_id=option.pk, refs=data["products"])
        return _outcomes(request, outcomes, "assigned")


class OptionProductUnassignView(ApiView):
    tag = "Cluster options"
    path_schemas = OPTION_PATHS
    operations = {
        "POST": Operation(
            OPTIONS_WRITE,
            "Remove products from the option (the products stay)",
            request=ASSIGN_BODY,
            response=assign_outcomes_schema,
            query=SOURCE_PARAM,
            errors=(*OPTION_LOOKUP_ERRORS, *ITEM_ERRORS),
        ),
    }

    def post(self, request, lookup_key, lookup_value):
        option = selectors.option_find(lookup_key, lookup_value, request.query_params)
        data = _items(request, ASSIGN_BODY)
        outcomes = services.option_products_unassign(option_id=option.pk, refs=data["products"])
        return _outcomes(request, outcomes, "unassigned")
