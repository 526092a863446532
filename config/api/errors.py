"""The error catalogue of SPEC §4: one exception class per error type, in one place.

Services raise these; the exception handler renders every one of them in the error envelope.
Codes are stable: never renumber, add new ones in the right family.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ApiError(Exception):
    """A client-visible error with a stable numeric code, a type name and an HTTP status."""

    code: ClassVar[int] = 10021
    status: ClassVar[int] = 500
    default_message: ClassVar[str] = "Unexpected error."
    description: ClassVar[str] = ""

    def __init__(
        self,
        message: str | None = None,
        *,
        fields: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.fields = fields
        self.headers = headers or {}
        super().__init__(self.message)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Each error declares its own code, status and description; the message defaults to it."""
        super().__init_subclass__(**kwargs)
        missing = [a for a in ("code", "status", "description") if a not in cls.__dict__]
        if missing:
            raise TypeError(f"{cls.__name__} must declare {', '.join(missing)}")
        if "default_message" not in cls.__dict__:
            cls.default_message = cls.description

    @classmethod
    def type_name(cls) -> str:
        return cls.__name__

    def as_dict(self) -> dict:
        """The error object without the request id (used in per-item outcomes)."""
        body: dict = {
            "status": self.status,
            "code": self.code,
            "type": self.type_name(),
            "messages": [self.message],
        }
        if self.fields:
            body["fields"] = self.fields
        return body


# Protocol and request errors (10xxx).
class Unauthorized(ApiError):
    code = 10001
    status = 401
    description = "No, malformed, expired or revoked token."
    default_message = "Authentication credentials were not provided or are invalid."


class InsufficientScope(ApiError):
    code = 10002
    status = 403
    description = "The token lacks a needed scope."


class MethodNotAllowed(ApiError):
    code = 10003
    status = 405
    description = "Method not offered on the route."


class UnsupportedMediaType(ApiError):
    code = 10004
    status = 415
    description = "The body is not JSON."
    default_message = "The request body must be JSON (Content-Type: application/json)."


class InvalidJSONPayload(ApiError):
    code = 10005
    status = 400
    description = "The body does not parse as JSON."


class InvalidLookupKey(ApiError):
    code = 10006
    status = 400
    description = "Lookup key not supported by the resource."


class SchemaValidationException(ApiError):
    code = 10007
    status = 400
    description = "Body or query fails type or shape validation."
    default_message = "The request is invalid; see fields."


class NotFound(ApiError):
    code = 10008
    status = 404
    description = "The route does not exist."


class PreconditionFailed(ApiError):
    code = 10009
    status = 412
    description = "If-Match does not match the current version."


class PayloadTooLarge(ApiError):
    code = 10011
    status = 413
    description = "The body is over the byte limit."


class TooManyRequests(ApiError):
    code = 10012
    status = 429
    description = "Rate limit hit."


class BulkLimitExceeded(ApiError):
    code = 10013
    status = 413
    description = "More items than the endpoint's maximum; nothing written."


class VersionConflict(ApiError):
    code = 10014
    status = 409
    description = "A bulk item's version is stale."


class PaginatedResponseException(ApiError):
    code = 10015
    status = 400
    description = "Bad pageSize or cursor."


class LookupKeyNotFound(ApiError):
    code = 10016
    status = 400
    description = "A bulk item lacks the lookup key of the URL."


class PayloadValidationError(ApiError):
    code = 10017
    status = 422
    description = "A business rule is violated (the message says which)."


class TranslationNotFound(ApiError):
    code = 10018
    status = 404
    description = "The record has no value in that language."


class DefaultTranslationRequired(ApiError):
    code = 10019
    status = 422
    description = "Would remove or omit the record's default-language name."


class DuplicateItemInRequest(ApiError):
    code = 10020
    status = 422
    description = "A bulk item repeats a key used earlier in the same request."


class InternalError(ApiError):
    code = 10021
    status = 500
    description = "Unexpected failure."
    default_message = "An unexpected error occurred. Quote the request id when reporting it."


class IdempotentRequestInProgress(ApiError):
    code = 10022
    status = 409
    description = "A request with the same Idempotency-Key is still running."


class IdempotencyKeyReused(ApiError):
    code = 10023
    status = 422
    description = "Same Idempotency-Key with a different body."


class ServiceUnavailable(ApiError):
    code = 10030
    status = 503
    description = (
        "The database is unreachable or busy for the moment; retry after Retry-After seconds."
    )
    default_message = (
        "The service is busy or a dependency is unavailable; retry after the Retry-After seconds."
    )


class ChangesCursorExpired(ApiError):
    code = 10024
    status = 410
    description = (
        "The change-feed cursor is older than the feed's retention; resync with a full export."
    )


class NotAcceptable(ApiError):
    code = 10025
    status = 406
    description = "The Accept header excludes JSON."


class WebhookNotFound(ApiError):
    code = 10028
    status = 404
    description = "No webhook subscription (or delivery) with that id for this client."


class WebhookUrlRefused(ApiError):
    code = 10029
    status = 422
    description = (
        "The webhook URL is not https, or resolves to a private, loopback or link-local address."
    )


class JobNotFound(ApiError):
    code = 10026
    status = 404
    description = "No job with that id for this client."


class JobNotCancellable(ApiError):
    code = 10027
    status = 409
    description = "The job already finished."


# Clusters (20xxx), their configs (21xxx) and options (22xxx).
class ClusterExists(ApiError):
    code = 20004
    status = 409
    description = "Cluster code or source pair already used."


class ClusterMultipleFound(ApiError):
    code = 20005
    status = 400
    description = "The lookup matches several clusters."


class ClusterNotFound(ApiError):
    code = 20006
    status = 404
    description = "Cluster not found."


class ParentClusterNotFound(ApiError):
    code = 20007
    status = 404
    description = "The cluster in the URL of a sub-resource does not exist."


class ClusterProductExists(ApiError):
    code = 20009
    status = 409
    description = "The product is already in this cluster."


class ClusterProductNotFound(ApiError):
    code = 20010
    status = 404
    description = "The product is not in this cluster."


class ClusterAttributeNotFound(ApiError):
    code = 20011
    status = 404
    description = "The cluster has no attribute of that name."


class ClusterConfigExists(ApiError):
    code = 21004
    status = 409
    description = "Config name taken."


class ClusterConfigNotFound(ApiError):
    code = 21005
    status = 404
    description = "Cluster config not found."


class ClusterConfigSettingExists(ApiError):
    code = 21006
    status = 409
    description = "attributeName already in the config."


class ClusterConfigSettingNotFound(ApiError):
    code = 21007
    status = 404
    description = "Cluster config setting not found."


class ClusterConfigInUse(ApiError):
    code = 21008
    status = 409
    description = "Delete refused while clusters use the config."


class ClusterOptionExists(ApiError):
    code = 22004
    status = 409
    description = "Source pair already used."


class ClusterOptionMultipleFound(ApiError):
    code = 22005
    status = 400
    description = "The lookup matches several cluster options."


class ClusterOptionNotFound(ApiError):
    code = 22006
    status = 404
    description = "Cluster option not found."


class OptionProductExists(ApiError):
    code = 22007
    status = 409
    description = "The product is already selectable in the option."


class OptionProductNotFound(ApiError):
    code = 22008
    status = 404
    description = "The product is not in the option."


# Categories (30xxx).
class CategoryExists(ApiError):
    code = 30004
    status = 409
    description = "Source pair or slug already used."


class CategoryMultipleFound(ApiError):
    code = 30005
    status = 400
    description = "The lookup matches several categories."


class CategoryNotFound(ApiError):
    code = 30006
    status = 404
    description = "Category not found."


class ParentCategoryNotFound(ApiError):
    code = 30007
    status = 404
    description = "Parent, target or URL category missing."


class CategoryNotEmpty(ApiError):
    code = 30008
    status = 409
    description = "Delete refused: children, products or clusters remain."


class CategoryCycle(ApiError):
    code = 30009
    status = 422
    description = "Move under itself or a descendant."


class CategoryRelationExists(ApiError):
    code = 30010
    status = 409
    description = "The item is already linked to the category."


class CategoryRelationNotFound(ApiError):
    code = 30011
    status = 404
    description = "The item is not linked to the category."


class PrimaryCategoryRelation(ApiError):
    code = 30012
    status = 422
    description = "Cannot unlink an item from its primary category."


# Products (80xxx).
class ProductExists(ApiError):
    code = 80004
    status = 409
    description = "Source pair or slug already used."


class ProductMultipleFound(ApiError):
    code = 80005
    status = 400
    description = "The lookup matches several products."


class ProductNotFound(ApiError):
    code = 80006
    status = 404
    description = "Product not found."


class ProductAttributeNotFound(ApiError):
    code = 80007
    status = 404
    description = "The product has no attribute of that name."


def catalogue() -> list[type[ApiError]]:
    """Every error type, ordered by code (the /docs/errors page and the OpenAPI document)."""
    found = [v for v in globals().values() if isinstance(v, type) and issubclass(v, ApiError)]
    return sorted((e for e in found if e is not ApiError), key=lambda e: e.code)
