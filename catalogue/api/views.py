"""Product routes (SPEC §9): parse, call a selector or service, render."""

from __future__ import annotations

from typing import cast

from catalogue import selectors, services
from catalogue.api.representations import product_representation, product_schema
from catalogue.models import Product
from catalogue.schemas import ATTRIBUTES_BODY, PRODUCT_BODY, PRODUCT_PATCH
from changes.api.views import history_view
from config.api import errors
from config.api.pagination import paginate_request
from config.api.params import (
    BOOL,
    ID,
    STRING,
    expands_param,
    language_param,
    lookup_params,
    paging_params,
    record_filter_params,
)
from config.api.responses import deleted, listing, record
from config.api.routing import ApiView, Operation, QueryParam
from config.api.views import attribute_views, body, if_match, translation_removal_view
from records.filters import parse_expands, parse_language_param

READ, WRITE = ("products:read",), ("products:write",)
#: one status code in the ``status`` filter
STATUS = f"[{''.join(Product.Status.values)}]"
LOOKUP_ERRORS = (
    errors.InvalidLookupKey,
    errors.ProductNotFound,
    errors.ProductMultipleFound,
    errors.SchemaValidationException,
)
WRITE_ERRORS = (
    errors.SchemaValidationException,
    errors.InvalidJSONPayload,
    errors.UnsupportedMediaType,
    errors.ProductExists,
    errors.ParentCategoryNotFound,
    errors.DefaultTranslationRequired,
)
EXPANDS: tuple[str, ...] = ("categories",)
PRODUCT_FILTERS = (
    *record_filter_params(),
    QueryParam("sku", STRING),
    QueryParam("eanCode", STRING),
    QueryParam("supplier", STRING),
    QueryParam("supplierCode", STRING),
    QueryParam("manufacturer", STRING),
    QueryParam(
        "status",
        {"type": "string", "pattern": rf"^{STATUS}(,{STATUS})*$"},
        "Comma-separated statuses.",
    ),
    QueryParam("category", ID, "Category id."),
    QueryParam("includeDescendants", BOOL, "With category: the whole subtree."),
    QueryParam("cluster", ID, "Cluster id."),
)
EXPANDS_PARAM = expands_param(EXPANDS, "categories (the secondary category ids)")
DETAIL_PARAMS = (language_param(), EXPANDS_PARAM, *lookup_params("source", "supplier"))


def _expands(request) -> set[str]:
    return parse_expands(request.query_params, EXPANDS)


def _render(product, request) -> dict:
    return product_representation(
        product, language=parse_language_param(request.query_params), expands=_expands(request)
    )


def _render_id(pk: int, request) -> dict:
    return _render(selectors.product_by_id(pk, expands=_expands(request)), request)


def _reloaded(product, request) -> dict:
    return _render_id(product.pk, request)


class ProductCollectionView(ApiView):
    tag = "Products"
    operations = {
        "GET": Operation(
            READ,
            "List products",
            response=product_schema,
            many=True,
            query=(
                *paging_params(list(selectors.PRODUCT_SORTS)),
                *PRODUCT_FILTERS,
                language_param(),
                EXPANDS_PARAM,
            ),
            errors=(errors.SchemaValidationException, errors.PaginatedResponseException),
        ),
        "POST": Operation(
            WRITE,
            "Create a product",
            request=PRODUCT_BODY,
            response=product_schema,
            status=201,
            errors=WRITE_ERRORS,
        ),
    }

    def get(self, request):
        params = request.query_params
        language = parse_language_param(params)
        expands = parse_expands(params, EXPANDS)
        page = paginate_request(
            request, selectors.product_list(params, expands=expands), selectors.PRODUCT_SORTS
        )
        data = [product_representation(p, language=language, expands=expands) for p in page.rows]
        return listing(page, data)

    def post(self, request):
        data = cast(services.ProductCreate, body(request, PRODUCT_BODY))
        product = services.product_create(data=data)
        location = request.build_absolute_uri(f"/v2/products/id/{product.pk}")
        return record(_reloaded(product, request), "Product created", status=201, location=location)


class ProductDetailView(ApiView):
    tag = "Products"
    path_schemas = selectors.PRODUCT_LOOKUP.path_schemas()
    operations = {
        "GET": Operation(
            READ,
            "Get a product",
            response=product_schema,
            query=DETAIL_PARAMS,
            errors=LOOKUP_ERRORS,
        ),
        "PATCH": Operation(
            WRITE,
            "Update a product (partial)",
            request=PRODUCT_PATCH,
            response=product_schema,
            query=DETAIL_PARAMS,
            errors=(
                *LOOKUP_ERRORS,
                *WRITE_ERRORS,
                errors.PreconditionFailed,
                errors.PayloadValidationError,
            ),
        ),
        "DELETE": Operation(
            WRITE,
            "Delete a product",
            query=lookup_params("source", "supplier"),
            errors=(*LOOKUP_ERRORS, errors.PreconditionFailed),
        ),
    }

    def get(self, request, lookup_key, lookup_value):
        product = selectors.product_get(
            lookup_key, lookup_value, request.query_params, expands=_expands(request)
        )
        return record(_render(product, request))

    def patch(self, request, lookup_key, lookup_value):
        product = selectors.product_get(lookup_key, lookup_value, request.query_params)
        data = cast(services.ProductPatch, body(request, PRODUCT_PATCH, partial=True))
        services.product_update(product_id=product.pk, data=data, if_match=if_match(request))
        return record(_reloaded(product, request), "Product updated")

    def delete(self, request, lookup_key, lookup_value):
        product = selectors.product_get(lookup_key, lookup_value, request.query_params)
        services.product_delete(product_id=product.pk, if_match=if_match(request))
        return deleted("Product deleted")


ProductTranslationView = translation_removal_view(
    "ProductTranslationView",
    tag="Products",
    scopes=WRITE,
    response=product_schema,
    query=DETAIL_PARAMS,
    lookup_errors=LOOKUP_ERRORS,
    path_schemas=selectors.PRODUCT_LOOKUP.path_schemas(),
    find=lambda request, key, value: selectors.product_get(key, value, request.query_params),
    remove=lambda pk, language: services.product_remove_translation(
        product_id=pk, language=language
    ),
    render=_render_id,
)

ProductHistoryView = history_view(
    "ProductHistoryView",
    entity="product",
    tag="Products",
    scopes=READ,
    query=lookup_params("source", "supplier"),
    lookup_errors=LOOKUP_ERRORS,
    path_schemas=selectors.PRODUCT_LOOKUP.path_schemas(),
    find=lambda request, key, value: selectors.product_get(key, value, request.query_params),
)

ProductAttributesView, ProductAttributeView = attribute_views(
    "Product",
    tag="Products",
    scopes=WRITE,
    request=ATTRIBUTES_BODY,
    response=product_schema,
    query=DETAIL_PARAMS,
    lookup_errors=LOOKUP_ERRORS,
    not_found=errors.ProductAttributeNotFound,
    path_schemas=selectors.PRODUCT_LOOKUP.path_schemas(),
    find=lambda request, key, value: selectors.product_get(key, value, request.query_params),
    upsert=lambda pk, attributes, version: services.product_attributes_upsert(
        product_id=pk, attributes=attributes, if_match=version
    ),
    remove=lambda pk, name, version: services.product_attribute_delete(
        product_id=pk, name=name, if_match=version
    ),
    render=_render_id,
)
