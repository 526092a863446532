"""``/v2/webhooks`` (SPEC §20): the client's own subscriptions, a test event, the deliveries log
and the replay of a delivery. Views parse, call a service or selector, render."""

from __future__ import annotations

from typing import Any, cast

import orjson
from django.http import HttpResponse
from django.utils import timezone

from config.api import errors, idempotency
from config.api.pagination import paginate_request
from config.api.params import ID_PATH, paging_params
from config.api.responses import deleted, listing, ok
from config.api.routing import ApiView, Operation, QueryParam
from config.api.views import body
from records.components import component
from records.context import client_id_var
from records.filters import check_query_params
from records.rules import timestamp
from records.validation import Bool, Choice, ListOf, Obj, Str
from webhooks import events, services
from webhooks.models import Delivery, Subscription

READ, WRITE = ("webhooks:read",), ("webhooks:write",)
TAG = "Webhooks"
BODY_ERRORS = (
    errors.SchemaValidationException,
    errors.InvalidJSONPayload,
    errors.UnsupportedMediaType,
)
PATHS = {"webhook_id": ID_PATH}
DELIVERY_PATHS = {**PATHS, "delivery_id": ID_PATH}

FIELDS = {
    "url": Str(
        min_length=1,
        max_length=2000,
        pattern=r"[A-Za-z][A-Za-z0-9+.\-]*://\S+",
        pattern_message="Must be an absolute https URL.",
        format="uri",
        description="https only; must not resolve to a private, loopback or link-local address.",
    ),
    "events": ListOf(
        Choice(events.patterns()),
        min_items=1,
        max_items=100,
        description="Event types (entity.action) or entity.*; each entity needs its read scope.",
    ),
    "description": Str(max_length=500),
    "active": Bool(),
}
CREATE = Obj(FIELDS, required=("url", "events"), name="WebhookCreate")
#: the test and replay routes take no fields: send no body or ``{}``
NO_FIELDS = Obj({}, name="WebhookNoFields", description="No fields: send no body or {}.")
PATCH = Obj(FIELDS, name="WebhookPatch")

_STAMP = {"type": "string", "format": "date-time"}
_STAMP_OR_NULL = {"type": ["string", "null"], "format": "date-time"}


def _webhook_properties() -> dict[str, Any]:
    return {
        "id": {"type": "integer"},
        "url": {"type": "string"},
        "events": {"type": "array", "items": {"type": "string", "enum": events.patterns()}},
        "description": {"type": "string"},
        "active": {"type": "boolean"},
        "createdAt": _STAMP,
        "updatedAt": _STAMP,
        "failingSince": {**_STAMP_OR_NULL, "description": "First failure since the last success."},
        "deactivatedAt": _STAMP_OR_NULL,
        "deactivatedReason": {"type": ["string", "null"]},
        "previousSecretExpiresAt": {
            **_STAMP_OR_NULL,
            "description": "After a secret rotation: until then deliveries carry a second "
            "signature, made with the replaced secret.",
        },
    }


def _closed(properties: dict[str, Any]) -> dict[str, Any]:
    """An answer object: every property present, nothing else."""
    return {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }


@component("Webhook")
def webhook_schema() -> dict[str, Any]:
    properties = _webhook_properties()
    return _closed(properties)


@component("WebhookWithSecret")
def webhook_created_schema() -> dict[str, Any]:
    properties = {
        **_webhook_properties(),
        "secret": {
            "type": ["string", "null"],
            "pattern": "^whsec_[A-Za-z0-9+/=]+$",
            "description": "The signing secret (Standard Webhooks), shown in this answer only "
            "(of a create or a rotation); null in a replay of it (Idempotency-Key): the secret "
            "is never kept in clear.",
        },
    }
    return _closed(properties)


@component("WebhookDelivery")
def delivery_schema() -> dict[str, Any]:
    properties = {
        "id": {"type": "integer"},
        "eventId": {"type": "string", "description": "The webhook-id header: the event's id."},
        "type": {"type": "string"},
        "status": {"type": "string", "enum": list(Delivery.Status.values)},
        "attempt": {"type": "integer", "minimum": 0, "description": "Attempts made so far."},
        "statusCode": {"type": ["integer", "null"]},
        "durationMs": {"type": ["integer", "null"]},
        "error": {"type": ["string", "null"]},
        "nextRetryAt": _STAMP_OR_NULL,
        "createdAt": _STAMP,
        "lastAttemptAt": _STAMP_OR_NULL,
        "deliveredAt": _STAMP_OR_NULL,
    }
    return _closed(properties)


def _stamp(value) -> str | None:
    return timestamp(value) if value is not None else None


def webhook_representation(subscription: Subscription) -> dict[str, Any]:
    return {
        "id": subscription.pk,
        "url": subscription.url,
        "events": subscription.events,
        "description": subscription.description,
        "active": subscription.active,
        "createdAt": timestamp(subscription.created_at),
        "updatedAt": timestamp(subscription.updated_at),
        "failingSince": _stamp(subscription.failing_since),
        "deactivatedAt": _stamp(subscription.deactivated_at),
        "deactivatedReason": subscription.deactivated_reason or None,
        "previousSecretExpiresAt": _overlap_end(subscription),
    }


def _overlap_end(subscription: Subscription) -> str | None:
    return _stamp(subscription.overlap_until(timezone.now()))


def delivery_representation(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.pk,
        "eventId": delivery.event_id,
        "type": delivery.event_type,
        "status": delivery.status,
        "attempt": delivery.attempts,
        "statusCode": delivery.last_status_code,
        "durationMs": delivery.last_duration_ms,
        "error": delivery.last_error or None,
        "nextRetryAt": _stamp(delivery.next_attempt_at)
        if delivery.status == Delivery.Status.PENDING
        else None,
        "createdAt": timestamp(delivery.created_at),
        "lastAttemptAt": _stamp(delivery.last_attempt_at),
        "deliveredAt": _stamp(delivery.delivered_at),
    }


def _check_params(request, operation: Operation) -> None:
    """Unknown or empty query parameters are 400 (10007), as on every list."""
    check_query_params(request.query_params, {param.name for param in operation.query})


def _granted(request) -> list[str]:
    return request.auth.scope.split() if request.auth is not None else []


def _location(request, subscription: Subscription) -> str:
    return request.build_absolute_uri(f"/v2/webhooks/{subscription.pk}")


WEBHOOK_SORTS = {"id": "id", "createdAt": "created_at"}
DELIVERY_SORTS = {"id": "id", "createdAt": "created_at"}
DELIVERY_FILTERS = (QueryParam("status", {"type": "string", "enum": list(Delivery.Status.values)}),)
WRITE_ERRORS = (*BODY_ERRORS, errors.WebhookUrlRefused, errors.InsufficientScope)


def _with_secret(
    view: ApiView,
    subscription: Subscription,
    secret: str,
    message: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """The answer that shows a secret once. The kept answer a retry with the same
    Idempotency-Key replays must not hold the secret in clear: it is kept with ``null``."""
    shown = webhook_representation(subscription)
    if view.idempotency_claim is not None:
        claim, view.idempotency_claim = view.idempotency_claim, None
        kept = HttpResponse(
            orjson.dumps({"data": {**shown, "secret": None}, "messages": [message]}),
            status=status,
            content_type="application/json",
            headers=headers,
        )
        idempotency.store(claim, kept)
    return ok({**shown, "secret": secret}, message, status=status, headers=headers)


class WebhookCollectionView(ApiView):
    tag = TAG
    operations = {
        "GET": Operation(
            READ,
            "List the client's webhook subscriptions",
            response=webhook_schema,
            many=True,
            query=paging_params(list(WEBHOOK_SORTS)),
            errors=(errors.SchemaValidationException, errors.PaginatedResponseException),
        ),
        "POST": Operation(
            WRITE,
            "Subscribe to events (the answer shows the signing secret, once)",
            request=CREATE,
            response=webhook_created_schema,
            status=201,
            errors=WRITE_ERRORS,
        ),
    }

    def get(self, request):
        _check_params(request, self.operations["GET"])
        queryset = Subscription.objects.filter(client_id=client_id_var.get())
        page = paginate_request(request, queryset, WEBHOOK_SORTS)
        return listing(page, [webhook_representation(s) for s in page.rows])

    def post(self, request):
        data = cast(services.SubscriptionData, body(request, CREATE))
        subscription, secret = services.subscription_create(
            client_id=client_id_var.get(), data=data, granted=_granted(request)
        )
        message = "Webhook created; keep the secret, it is not shown again"
        headers = {"Location": _location(request, subscription)}
        return _with_secret(self, subscription, secret, message, status=201, headers=headers)


class WebhookDetailView(ApiView):
    tag = TAG
    path_schemas = PATHS
    operations = {
        "GET": Operation(
            READ, "Get a webhook subscription", response=webhook_schema,
            errors=(errors.WebhookNotFound,),
        ),
        "PATCH": Operation(
            WRITE,
            "Change a webhook subscription (active: true restarts a deactivated one)",
            request=PATCH,
            response=webhook_schema,
            errors=(errors.WebhookNotFound, *WRITE_ERRORS),
        ),
        "DELETE": Operation(
            WRITE, "Delete a webhook subscription and its deliveries",
            errors=(errors.WebhookNotFound,),
        ),
    }  # fmt: skip

    def get(self, request, webhook_id):
        found = services.subscription_for(client_id_var.get(), int(webhook_id))
        return ok(webhook_representation(found))

    def patch(self, request, webhook_id):
        data = cast(services.SubscriptionData, body(request, PATCH, partial=True))
        subscription = services.subscription_update(
            client_id=client_id_var.get(),
            subscription_id=int(webhook_id),
            data=data,
            granted=_granted(request),
        )
        return ok(webhook_representation(subscription), "Webhook updated")

    def delete(self, request, webhook_id):
        services.subscription_delete(client_id=client_id_var.get(), subscription_id=int(webhook_id))
        return deleted("Webhook deleted")


class WebhookTestView(ApiView):
    tag = TAG
    path_schemas = PATHS
    operations = {
        "POST": Operation(
            WRITE,
            "Send a webhook.test event to the subscription (answers with its delivery)",
            request=NO_FIELDS,
            response=delivery_schema,
            status=202,
            errors=(errors.WebhookNotFound, errors.PayloadValidationError),
        )
    }

    def post(self, request, webhook_id):
        body(request, NO_FIELDS)
        made = services.send_test(client_id=client_id_var.get(), subscription_id=int(webhook_id))
        return ok(delivery_representation(made), "Test event queued", status=202)


class WebhookSecretView(ApiView):
    tag = TAG
    path_schemas = PATHS
    operations = {
        "POST": Operation(
            WRITE,
            "Rotate the signing secret (the answer shows the new one, once); the old one "
            "keeps signing beside it for WEBHOOK_SECRET_OVERLAP_SECONDS (24 h)",
            request=NO_FIELDS,
            response=webhook_created_schema,
            errors=(errors.WebhookNotFound, *BODY_ERRORS),
        )
    }

    def post(self, request, webhook_id):
        body(request, NO_FIELDS)
        subscription, secret = services.rotate_secret(
            client_id=client_id_var.get(), subscription_id=int(webhook_id)
        )
        message = "Secret rotated; keep the new one, it is not shown again"
        return _with_secret(self, subscription, secret, message)


class WebhookDeliveriesView(ApiView):
    tag = TAG
    path_schemas = PATHS
    operations = {
        "GET": Operation(
            READ,
            "The subscription's deliveries, newest first: attempts, status code, duration, "
            "error, next retry",
            response=delivery_schema,
            many=True,
            query=(*paging_params(list(DELIVERY_SORTS)), *DELIVERY_FILTERS),
            errors=(
                errors.WebhookNotFound,
                errors.SchemaValidationException,
                errors.PaginatedResponseException,
            ),
        )
    }

    def get(self, request, webhook_id):
        _check_params(request, self.operations["GET"])
        subscription = services.subscription_for(client_id_var.get(), int(webhook_id))
        queryset = Delivery.objects.filter(subscription=subscription)
        status = request.query_params.get("status")
        if status is not None:
            queryset = queryset.filter(status=status)
        page = paginate_request(request, queryset, DELIVERY_SORTS, default_sort="-id")
        return listing(page, [delivery_representation(d) for d in page.rows])


class WebhookReplayView(ApiView):
    tag = TAG
    path_schemas = DELIVERY_PATHS
    operations = {
        "POST": Operation(
            WRITE,
            "Send a failed (or succeeded) delivery again, with a fresh cycle of retries",
            request=NO_FIELDS,
            response=delivery_schema,
            status=202,
            errors=(errors.WebhookNotFound, errors.PayloadValidationError),
        )
    }

    def post(self, request, webhook_id, delivery_id):
        body(request, NO_FIELDS)
        again = services.replay_for(
            client_id=client_id_var.get(),
            subscription_id=int(webhook_id),
            delivery_id=int(delivery_id),
        )
        return ok(delivery_representation(again), "Delivery queued again", status=202)
