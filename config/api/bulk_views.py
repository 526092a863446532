"""The HTTP face of the bulk engine (``records.bulk``): the bulk route's base view, its query
parameters, its OpenAPI shapes and its response."""

from __future__ import annotations

from typing import Any, ClassVar

from django.http import HttpRequest
from rest_framework.response import Response

from config.api import errors
from config.api.outcomes import errors_for
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
from records.filters import check_query_params, parse_bool_param
from records.validation import Obj

BULK_QUERY = (
    QueryParam("dryRun", BOOL, "Compute the exact outcomes and write nothing."),
    QueryParam("atomic", BOOL, "All or nothing: any item error writes nothing (422)."),
)


def outcome_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["index", "action", "id", "lookupKey", "key", "success"],
        "properties": {
            "index": {"type": "integer"},
            "action": {"type": "string", "enum": [*ACTIONS, "error"]},
            "id": {"type": "integer", "nullable": True},
            "lookupKey": {"type": "string"},
            "key": {"nullable": True, "description": "The item's lookup value as sent."},
            "success": {"type": "boolean"},
            "reason": {"type": "string", "enum": [SKIP_UNCHANGED, SKIP_CREATE, ROLLED_BACK]},
            "error": {
                "type": "object",
                "description": "The §4 error object (without requestId).",
                "required": ["status", "code", "type", "messages", "moreInfo"],
                "properties": {
                    "status": {"type": "integer"},
                    "code": {"type": "integer"},
                    "type": {"type": "string"},
                    "messages": {"type": "array", "items": {"type": "string"}},
                    "moreInfo": {"type": "string"},
                    "fields": {
                        "type": "object",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        },
    }


SUMMARY_SCHEMA = {
    "type": "object",
    "required": [*ACTIONS, "error"],
    "properties": {name: {"type": "integer"} for name in (*ACTIONS, "error")},
}


class BulkBody(Obj):
    """The OpenAPI shape of a bulk body; items are validated one by one by ``parse_items``."""

    def __init__(self, resource: BulkResource) -> None:
        super().__init__({})
        self.resource = resource

    def openapi(self, *, for_write: bool = True) -> dict[str, Any]:
        item = self.resource.schema.openapi()
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
        names = list(self.resource.schema.fields)
        field_list = {"type": "array", "items": {"type": "string", "enum": names}}
        return {
            "type": "object",
            "required": [self.resource.items_key],
            "additionalProperties": False,
            "properties": {
                self.resource.items_key: {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": self.resource.max_items,
                    "items": item,
                },
                "directives": {
                    "oneOf": [
                        {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["operation"],
                                "additionalProperties": False,
                                "properties": {
                                    "operation": {"type": "string", "enum": list(DIRECTIVES)},
                                    "fields": field_list,
                                },
                            },
                        },
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                name: field_list
                                if takes_fields
                                else {
                                    "oneOf": [{"type": "boolean"}, {"type": "array", "maxItems": 0}]
                                }
                                for name, takes_fields in DIRECTIVES.items()
                            },
                        },
                    ]
                },
            },
        }


def bulk_operation(resource: BulkResource, scopes: tuple[str, ...], summary: str) -> Operation:
    return Operation(
        scopes,
        summary,
        request=BulkBody(resource),
        response=lambda: {"type": "array", "items": outcome_schema()},
        query=BULK_QUERY,
        errors=(
            errors.InvalidLookupKey,
            errors.BulkLimitExceeded,
            errors.SchemaValidationException,
        ),
        extra_response={"summary": SUMMARY_SCHEMA},
        also=((422, "?atomic=true and an item failed: nothing written, outcomes in data"),),
    )


class BulkView(ApiView):
    """``POST /v2/<resource>/bulk/{lookupKey}``: the route of one bulk resource."""

    resource: ClassVar[BulkResource]

    def resource_for(self, request) -> BulkResource:
        """The resource this request writes (narrowed to what the token may reach, SPEC §11)."""
        return self.resource

    def post(self, request, lookupKey):  # noqa: N803 - the route's parameter name (SPEC §9)
        params = request.query_params
        check_query_params(params, (q.name for q in BULK_QUERY))
        result = run_bulk(
            self.resource_for(request),
            request.data,
            lookup_key=lookupKey,
            dry_run=parse_bool_param(params, "dryRun"),
            atomic=parse_bool_param(params, "atomic"),
        )
        return bulk_response(result, request)


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
