"""Category routes (SPEC §10, §10.1): parse, call a selector or service, render."""

from __future__ import annotations

from typing import ClassVar, cast

from changes.api.views import history_view
from config.api import errors
from config.api.outcomes import errors_for
from config.api.pagination import paginate_request
from config.api.params import (
    BOOL,
    ID,
    ID_PATH,
    language_param,
    lookup_params,
    paging_params,
    record_filter_params,
)
from config.api.responses import deleted, listing, ok, record
from config.api.routing import ApiView, Operation, QueryParam
from config.api.views import body, if_match, nested_list_params, translation_removal_view
from records.components import named
from records.filters import check_query_params, parse_bool_param, parse_language_param
from records.outcomes import count_actions
from taxonomy import relationships, selectors, services
from taxonomy.api.links import linked_items
from taxonomy.api.representations import (
    ancestors_schema,
    category_representation,
    category_schema,
    link_outcome_schema,
    tree_node_schema,
    tree_representation,
)
from taxonomy.filtersets import MAX_DEPTH
from taxonomy.schemas import CATEGORY_BODY, CATEGORY_PATCH, MOVE_BODY, link_body

READ, WRITE = ("categories:read",), ("categories:write",)
LINKS_READ, LINKS_WRITE = ("relationships:read",), ("relationships:write",)
LOOKUP_ERRORS = (
    errors.InvalidLookupKey,
    errors.CategoryNotFound,
    errors.CategoryMultipleFound,
    errors.SchemaValidationException,
)
# Sub-resources answer 30007 when the category of the URL does not exist.
PARENT_LOOKUP_ERRORS = (
    errors.InvalidLookupKey,
    errors.ParentCategoryNotFound,
    errors.CategoryMultipleFound,
    errors.SchemaValidationException,
)
WRITE_ERRORS = (
    errors.SchemaValidationException,
    errors.InvalidJSONPayload,
    errors.UnsupportedMediaType,
    errors.CategoryExists,
    errors.ParentCategoryNotFound,
    errors.DefaultTranslationRequired,
)
LOOKUP_QUERY = lookup_params("source")
DETAIL_PARAMS = (language_param(), *LOOKUP_QUERY)
CATEGORY_FILTERS = (
    *record_filter_params(),
    QueryParam(
        "parent",
        {"type": "string", "pattern": r"^([1-9]\d{0,17}|null)$"},
        "Direct children of this category id; null for the roots.",
    ),
    QueryParam(
        "level", {"type": "integer", "minimum": 0, "maximum": MAX_DEPTH}, "Depth (a root is 0)."
    ),
    QueryParam("root", ID, "This category and its subtree."),
)
INCLUDE_DESCENDANTS = QueryParam(
    "includeDescendants", BOOL, "Also items linked to categories below this one."
)


def _render(category, request) -> dict:
    return category_representation(category, language=parse_language_param(request.query_params))


def _find(request, lookup_key, lookup_value):
    """The category the route acts on (30006 when missing)."""
    return selectors.category_find(lookup_key, lookup_value, request.query_params)


def _parent(request, lookup_key, lookup_value):
    """The category of a sub-resource route (30007 when missing)."""
    return selectors.category_find(
        lookup_key,
        lookup_value,
        request.query_params,
        not_found=errors.ParentCategoryNotFound,
    )


def _reloaded(category, request) -> dict:
    return _render(selectors.category_by_id(category.pk), request)


def _unique(params: tuple[QueryParam, ...]) -> tuple[QueryParam, ...]:
    """Each parameter once (``source`` both filters lists and disambiguates lookups)."""
    first: dict[str, QueryParam] = {}
    for param in params:
        first.setdefault(param.name, param)
    return tuple(first.values())


class CategoryCollectionView(ApiView):
    tag = "Categories"
    operations = {
        "GET": Operation(
            READ,
            "List categories",
            response=category_schema,
            many=True,
            query=(
                *paging_params(list(selectors.CATEGORY_SORTS)),
                *CATEGORY_FILTERS,
                language_param(),
            ),
            errors=(errors.SchemaValidationException, errors.PaginatedResponseException),
        ),
        "POST": Operation(
            WRITE,
            "Create a category (the last child of its parent, or a new root)",
            request=CATEGORY_BODY,
            response=category_schema,
            status=201,
            errors=WRITE_ERRORS,
        ),
    }

    def get(self, request):
        language = parse_language_param(request.query_params)
        page = paginate_request(
            request, selectors.category_list(request.query_params), selectors.CATEGORY_SORTS
        )
        rows = selectors.attach_paths(page.rows)
        return listing(page, [category_representation(c, language=language) for c in rows])

    def post(self, request):
        data = cast(services.CategoryCreate, body(request, CATEGORY_BODY))
        category = services.category_create(data=data)
        location = request.build_absolute_uri(f"/v2/categories/id/{category.pk}")
        return record(
            _reloaded(category, request), "Category created", status=201, location=location
        )


class CategoryTreeView(ApiView):
    tag = "Categories"
    operations = {
        "GET": Operation(
            READ,
            "The category tree, nested",
            response=lambda: {"type": "array", "items": tree_node_schema()},
            query=(
                QueryParam("root", ID_PATH, "Only this subtree."),
                QueryParam(
                    "depth",
                    {"type": "integer", "minimum": 0, "maximum": MAX_DEPTH},
                    "Levels kept below the top nodes (0: the top nodes only); no limit by default.",
                ),
                language_param(),
            ),
            errors=(errors.SchemaValidationException, errors.CategoryNotFound),
        ),
    }

    def get(self, request):
        params = request.query_params
        check_query_params(params, ("root", "depth", "language"))
        language = parse_language_param(params)
        tops = selectors.category_tree(
            root_id=_int_param(params, "root", minimum=1, maximum=ID_PATH["maximum"]),
            depth=_int_param(params, "depth", minimum=0, maximum=MAX_DEPTH),
        )
        return ok([tree_representation(node, language=language) for node in tops])


def _int_param(params, name: str, *, minimum: int, maximum: int) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or not minimum <= int(raw) <= maximum:
        raise errors.SchemaValidationException(
            fields={name: [f"Must be an integer from {minimum} to {maximum}."]}
        )
    return int(raw)


class CategoryDetailView(ApiView):
    tag = "Categories"
    operations = {
        "GET": Operation(
            READ,
            "Get a category",
            response=category_schema,
            query=DETAIL_PARAMS,
            errors=LOOKUP_ERRORS,
        ),
        "PATCH": Operation(
            WRITE,
            "Update a category (partial); a new parent makes it that parent's last child",
            request=CATEGORY_PATCH,
            response=category_schema,
            query=DETAIL_PARAMS,
            errors=(
                *LOOKUP_ERRORS,
                *WRITE_ERRORS,
                errors.CategoryCycle,
                errors.PreconditionFailed,
            ),
        ),
        "DELETE": Operation(
            WRITE,
            "Delete an empty category",
            query=DETAIL_PARAMS,
            errors=(*LOOKUP_ERRORS, errors.CategoryNotEmpty, errors.PreconditionFailed),
        ),
    }

    def get(self, request, lookup_key, lookup_value):
        category = selectors.category_get(lookup_key, lookup_value, request.query_params)
        return record(_render(category, request))

    def patch(self, request, lookup_key, lookup_value):
        category = _find(request, lookup_key, lookup_value)
        data = cast(services.CategoryPatch, body(request, CATEGORY_PATCH, partial=True))
        services.category_update(category_id=category.pk, data=data, if_match=if_match(request))
        return record(_reloaded(category, request), "Category updated")

    def delete(self, request, lookup_key, lookup_value):
        category = _find(request, lookup_key, lookup_value)
        services.category_delete(category_id=category.pk, if_match=if_match(request))
        return deleted("Category deleted")


CategoryTranslationView = translation_removal_view(
    "CategoryTranslationView",
    tag="Categories",
    scopes=WRITE,
    response=category_schema,
    query=DETAIL_PARAMS,
    lookup_errors=LOOKUP_ERRORS,
    find=_find,
    remove=lambda pk, language: services.category_remove_translation(
        category_id=pk, language=language
    ),
    render=lambda pk, request: _render(selectors.category_by_id(pk), request),
)


CategoryHistoryView = history_view(
    "CategoryHistoryView",
    entity="category",
    tag="Categories",
    scopes=READ,
    query=LOOKUP_QUERY,
    lookup_errors=LOOKUP_ERRORS,
    find=_find,
)


class CategoryMoveView(ApiView):
    tag = "Categories"
    operations = {
        "POST": Operation(
            WRITE,
            "Move a category with its subtree",
            request=MOVE_BODY,
            response=category_schema,
            query=DETAIL_PARAMS,
            errors=(
                *LOOKUP_ERRORS,
                errors.ParentCategoryNotFound,
                errors.CategoryCycle,
                errors.PreconditionFailed,
            ),
        ),
    }

    def post(self, request, lookup_key, lookup_value):
        category = _find(request, lookup_key, lookup_value)
        data = body(request, MOVE_BODY)
        services.category_move(
            category_id=category.pk,
            target=data["target"],
            position=data.get("position", "last-child"),
            if_match=if_match(request),
        )
        return record(_reloaded(category, request), "Category moved")


class CategoryChildrenView(ApiView):
    tag = "Categories"
    operations = {
        "GET": Operation(
            READ,
            "Direct children (tree order unless sorted)",
            response=category_schema,
            many=True,
            query=_unique(
                (
                    *paging_params(list(selectors.CHILDREN_SORTS)),
                    *record_filter_params(),
                    language_param(),
                    *LOOKUP_QUERY,
                )
            ),
            errors=(*PARENT_LOOKUP_ERRORS, errors.PaginatedResponseException),
        ),
    }

    def get(self, request, lookup_key, lookup_value):
        category = _parent(request, lookup_key, lookup_value)
        params = nested_list_params(request, lookup_key)
        page = paginate_request(
            request,
            selectors.category_children(category, params),
            selectors.CHILDREN_SORTS,
            default_sort="position",
        )
        language = parse_language_param(params)
        rows = selectors.attach_paths(page.rows)
        return listing(page, [category_representation(c, language=language) for c in rows])


class CategoryAncestorsView(ApiView):
    tag = "Categories"
    operations = {
        "GET": Operation(
            READ,
            "Ancestors from the root down to the parent (breadcrumb)",
            response=ancestors_schema,
            query=DETAIL_PARAMS,
            errors=PARENT_LOOKUP_ERRORS,
        ),
    }

    def get(self, request, lookup_key, lookup_value):
        category = _parent(request, lookup_key, lookup_value)
        language = parse_language_param(request.query_params)
        return ok(
            [
                category_representation(c, language=language)
                for c in selectors.category_ancestors(category)
            ]
        )


class LinkedItemsView(ApiView):
    """``GET /categories/{lk}/{lv}/<kind>``: items linked to the category, with ``primary``."""

    tag = "Category relationships"
    kind_key: ClassVar[str] = ""

    def get(self, request, lookup_key, lookup_value):
        category = _parent(request, lookup_key, lookup_value)
        params = nested_list_params(request, lookup_key)
        kind = linked_items(self.kind_key)
        scope = selectors.category_scope(
            category, include_descendants=parse_bool_param(params, "includeDescendants")
        )
        items = kind.linked(scope, params)
        page = paginate_request(request, items, kind.sorts)  # None: a kind that holds no items
        data = [{**kind.represent(item, params), "primary": item.is_primary} for item in page.rows]
        return listing(page, data)


def linked_items_view(key: str) -> type[LinkedItemsView]:
    kind, items = relationships.link_kind(key), linked_items(key)

    def linked() -> dict:
        item = items.schema()
        item.setdefault("properties", {})["primary"] = {
            "type": "boolean",
            "description": "Whether this category (or, with includeDescendants, one below it) "
            "is the item's primary category.",
        }
        item.setdefault("required", []).append("primary")
        return item

    def schema() -> dict:
        return named(f"Linked{kind.label}", linked, owner=kind)

    operation = Operation(
        LINKS_READ,
        f"{kind.label}s linked to the category (primary and secondary)",
        response=schema,
        many=True,
        query=_unique(
            (
                *paging_params(list(items.sorts)),
                INCLUDE_DESCENDANTS,
                *items.query,
                language_param(),
                *LOOKUP_QUERY,
            )
        ),
        errors=(*PARENT_LOOKUP_ERRORS, errors.PaginatedResponseException),
    )
    name = f"Category{kind.label}sView"
    return type(name, (LinkedItemsView,), {"kind_key": key, "operations": {"GET": operation}})


class LinkItemsView(ApiView):
    """``POST …/add-products-clusters`` and ``…/remove-products-clusters`` (SPEC §10.1)."""

    tag = "Category relationships"
    action: ClassVar[relationships.LinkAction] = "add"

    def post(self, request, lookup_key, lookup_value):
        category = _parent(request, lookup_key, lookup_value)
        items = body(request, self.operations["POST"].request)
        outcomes = relationships.category_link_items(
            category_id=category.pk, items=items, action=self.action
        )
        counts = count_actions(outcomes)
        done = "added" if self.action == "add" else "removed"
        return ok(
            [o.as_dict(errors_for(request)) for o in outcomes],
            f"{counts[self.action]} {done}, {counts['error']} failed",
        )


def link_items_view(action: relationships.LinkAction) -> type[LinkItemsView]:
    verb = "Link" if action == "add" else "Unlink"
    operation = Operation(
        LINKS_WRITE,
        f"{verb} products and clusters (secondary categories); one outcome per item",
        request=link_body(),
        response=lambda: {"type": "array", "items": link_outcome_schema()},
        query=LOOKUP_QUERY,
        errors=(
            *PARENT_LOOKUP_ERRORS,
            errors.InvalidJSONPayload,
            errors.UnsupportedMediaType,
            errors.BulkLimitExceeded,
        ),
    )
    name = f"Category{verb}ItemsView"
    return type(name, (LinkItemsView,), {"action": action, "operations": {"POST": operation}})
