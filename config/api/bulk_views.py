"""The HTTP face of the bulk engine (``records.bulk``): the bulk route's base view, its query
parameters, its OpenAPI shapes and its response."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from django.http import HttpRequest
from rest_framework.response import Response

from config.api import errors
from config.api.outcomes import errors_for
from config.api.outcomes import outcome_schema as item_outcome_schema
from config.api.params import BOOL
from config.api.routing import ApiView, Operation, QueryParam
from records.bulk import (
    ACTIONS,
    DIRECTIVES,
    REMOVE,
    ROLLED_BACK,
    SKIP_CREATE,
    SKIP_UNCHANGED,
    UPSERT,
    BulkResource,
    BulkResult,
    run_bulk,
)
from records.components import component, named, pascal
from records.filters import check_query_params, parse_bool_param
from records.validation import Obj

BULK_QUERY = (
    QueryParam("dryRun", BOOL, "Compute the exact outcomes and write nothing."),
    QueryParam("atomic", BOOL, "All or nothing: any item error writes nothing (422)."),
)


@component("BulkOutcome")
def bulk_outcome_schema() -> dict[str, Any]:
    """One item's outcome; the outcomes of items nested in it (a cluster's ``products`` and
    ``options``, an option's ``products``: ``BulkResource.nested_outcomes``) are the same."""
    nested = {
        "type": "array",
        "items": bulk_outcome_schema(),
        "description": "Outcomes of the items nested in this one (cluster bulk), in order.",
    }
    return item_outcome_schema(
        {
            "reason": {"type": "string", "enum": [SKIP_UNCHANGED, SKIP_CREATE, ROLLED_BACK]},
            "products": nested,
            "options": nested,
        },
        actions=ACTIONS,
    )


@component("BulkSummary")
def summary_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": [*ACTIONS, "error"],
        "properties": {name: {"type": "integer", "minimum": 0} for name in (*ACTIONS, "error")},
        "additionalProperties": False,
    }


def directives_schema(field_names: list[str]) -> dict[str, Any]:
    """Both forms of ``directives`` (``parse_directives``) over one resource's field names."""
    field_list = {"type": "array", "items": {"type": "string", "enum": field_names}}
    with_fields = [name for name, takes in DIRECTIVES.items() if takes]
    without_fields = [name for name, takes in DIRECTIVES.items() if not takes]
    return {
        "description": "[{operation, fields}] or {directive: fields | true}. skipIfNotEmpty "
        "takes field names of the item; the others take no fields.",
        "oneOf": [
            {
                "type": "array",
                "items": {
                    "oneOf": [  # fields with the directive that takes them, none with the others
                        {
                            "type": "object",
                            "required": ["operation", "fields"],
                            "additionalProperties": False,
                            "properties": {
                                "operation": {"type": "string", "enum": with_fields},
                                "fields": field_list,
                            },
                        },
                        {
                            "type": "object",
                            "required": ["operation"],
                            "additionalProperties": False,
                            "properties": {"operation": {"type": "string", "enum": without_fields}},
                        },
                    ]
                },
            },
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    name: field_list
                    if takes_fields
                    else {
                        "description": "true (or an empty array) turns it on, false off.",
                        "oneOf": [
                            {"type": "boolean"},
                            {"type": "array", "maxItems": 0, "items": field_list["items"]},
                        ],
                    }
                    for name, takes_fields in DIRECTIVES.items()
                },
            },
        ],
    }


class BulkBody(Obj):
    """The OpenAPI shape of a bulk body; items are validated one by one by ``parse_items``."""

    def __init__(self, resource: BulkResource) -> None:
        super().__init__(
            {}, required=(resource.items_key,), name=f"{pascal(resource.label)}BulkRequest"
        )
        self.resource = resource

    def object_schema(self, *, for_write: bool = True) -> dict[str, Any]:
        return {
            "type": "object",
            "required": [self.resource.items_key],
            "additionalProperties": False,
            "properties": {
                self.resource.items_key: {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": self.resource.max_items,
                    "items": named(f"{pascal(self.resource.label)}BulkItem", self.item_schema),
                },
                "directives": named(
                    f"{pascal(self.resource.label)}BulkDirectives",
                    lambda: directives_schema(list(self.resource.schema.fields)),
                ),
            },
        }

    def item_schema(self) -> dict[str, Any]:
        item = self.resource.schema.object_schema()
        item.pop("required", None)
        props = item["properties"]
        props["action"] = {"type": "string", "enum": [UPSERT, REMOVE], "default": UPSERT}
        props["version"] = {
            "type": "integer",
            "minimum": 1,
            "description": "Optimistic check: a stale value fails the item (10014).",
        }
        for key in self.resource.keys.values():
            for name, validator in key.fields.items():
                props.setdefault(name, validator.openapi())
        item["description"] = (
            "Every item carries the URL's lookup key fields ("
            + "; ".join(f"{k.name}: {' + '.join(k.fields)}" for k in self.resource.keys.values())
            + ")."
        )
        return item


@dataclass
class AsyncBulk:
    """What ``Prefer: respond-async`` needs from the jobs app, plugged in by its ``ready()``
    (the apps below jobs import this module, so it imports no jobs code itself)."""

    submit: Callable[..., Response] | None = None  # (request, resource, route=…) → 202
    schema: Callable[[], dict[str, Any]] | None = None  # the Job component


ASYNC_BULK = AsyncBulk()


def _job_schema() -> dict[str, Any]:
    assert ASYNC_BULK.schema is not None, "the jobs app registers it (jobs.apps)"
    return ASYNC_BULK.schema()


def bulk_operation(resource: BulkResource, scopes: tuple[str, ...], summary: str) -> Operation:
    return Operation(
        scopes,
        summary,
        job=_job_schema,
        request=BulkBody(resource),
        response=lambda: {"type": "array", "items": bulk_outcome_schema()},
        query=BULK_QUERY,
        errors=(
            errors.InvalidLookupKey,
            errors.BulkLimitExceeded,
            errors.SchemaValidationException,
        ),
        extra_response={"summary": summary_schema},
        also=((422, "?atomic=true and an item failed: nothing written, outcomes in data"),),
    )


def wants_async(request: HttpRequest) -> bool:
    """``Prefer: respond-async`` (RFC 7240: comma-separated preferences, each maybe with
    ``=value`` and ``;`` parameters; names are case-insensitive)."""
    for header in request.headers.get("Prefer", "").split(","):
        name = header.split(";")[0].split("=")[0].strip().lower()
        if name == "respond-async":
            return True
    return False


def bulk_or_job(
    request,
    resource: BulkResource,
    *,
    lookup_key: str,
    route: str,
    owner: int | None = None,
) -> Response:
    """The bulk request run now (200/422), or with ``Prefer: respond-async`` a job (202)."""
    params = request.query_params
    dry_run, atomic = parse_bool_param(params, "dryRun"), parse_bool_param(params, "atomic")
    if wants_async(request) and ASYNC_BULK.submit is not None:
        return ASYNC_BULK.submit(
            request,
            resource,
            route=route,
            owner=owner,
            lookup_key=lookup_key,
            dry_run=dry_run,
            atomic=atomic,
        )
    result = run_bulk(resource, request.data, lookup_key=lookup_key, dry_run=dry_run, atomic=atomic)
    return bulk_response(result, request)


class BulkView(ApiView):
    """``POST /v2/<resource>/bulk/{lookupKey}``: the route of one bulk resource."""

    resource: ClassVar[BulkResource]
    #: the route's name for jobs (``jobs.resources``)
    route: ClassVar[str]

    def resource_for(self, request) -> BulkResource:
        """The resource this request writes (narrowed to what the token may reach, SPEC §11)."""
        return self.resource

    def post(self, request, lookupKey):  # noqa: N803 - the route's parameter name (SPEC §9)
        check_query_params(request.query_params, (q.name for q in BULK_QUERY))
        return bulk_or_job(
            request, self.resource_for(request), lookup_key=lookupKey, route=self.route
        )


def bulk_response(result: BulkResult, request: HttpRequest) -> Response:
    return Response(
        {
            "data": result.outcomes(errors_for(request)),
            "messages": result.messages(),
            "summary": result.summary(),
        },
        status=result.status,
    )


def key_schemas(resource: BulkResource) -> dict[str, dict[str, Any]]:
    """``path_schemas`` of a bulk view: the lookup key enum."""
    return {"lookupKey": {"type": "string", "enum": list(resource.keys)}}
