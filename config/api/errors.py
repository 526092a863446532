"""The error catalogue of SPEC §4: one exception class per error type, in one place.

Services raise these; the exception handler renders every one of them in the error envelope.
Codes are stable: never renumber, add new ones in the right family.
"""

from __future__ import annotations

from typing import ClassVar


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


def _error(
    name: str, code: int, status: int, description: str, default: str = ""
) -> type[ApiError]:
    return type(
        name,
        (ApiError,),
        {
            "code": code,
            "status": status,
            "description": description,
            "default_message": default or description,
            "__module__": __name__,
        },
    )


Unauthorized = _error(
    "Unauthorized",
    10001,
    401,
    "No, malformed, expired or revoked token.",
    "Authentication credentials were not provided or are invalid.",
)
InsufficientScope = _error("InsufficientScope", 10002, 403, "The token lacks a needed scope.")
MethodNotAllowed = _error("MethodNotAllowed", 10003, 405, "Method not offered on the route.")
UnsupportedMediaType = _error(
    "UnsupportedMediaType",
    10004,
    415,
    "The body is not JSON.",
    "The request body must be JSON (Content-Type: application/json).",
)
InvalidJSONPayload = _error("InvalidJSONPayload", 10005, 400, "The body does not parse as JSON.")
InvalidLookupKey = _error(
    "InvalidLookupKey", 10006, 400, "Lookup key not supported by the resource."
)
SchemaValidationException = _error(
    "SchemaValidationException",
    10007,
    400,
    "Body or query fails type or shape validation.",
    "The request is invalid; see fields.",
)
NotFound = _error("NotFound", 10008, 404, "The route does not exist.")
PreconditionFailed = _error(
    "PreconditionFailed", 10009, 412, "If-Match does not match the current version."
)
PayloadTooLarge = _error("PayloadTooLarge", 10011, 413, "The body is over the byte limit.")
TooManyRequests = _error("TooManyRequests", 10012, 429, "Rate limit hit.")
BulkLimitExceeded = _error(
    "BulkLimitExceeded", 10013, 413, "More items than the endpoint's maximum; nothing written."
)
VersionConflict = _error("VersionConflict", 10014, 409, "A bulk item's version is stale.")
PaginatedResponseException = _error(
    "PaginatedResponseException", 10015, 400, "Bad pageSize or cursor."
)
LookupKeyNotFound = _error(
    "LookupKeyNotFound", 10016, 400, "A bulk item lacks the lookup key of the URL."
)
PayloadValidationError = _error(
    "PayloadValidationError", 10017, 422, "A business rule is violated (the message says which)."
)
TranslationNotFound = _error(
    "TranslationNotFound", 10018, 404, "The record has no value in that language."
)
DefaultTranslationRequired = _error(
    "DefaultTranslationRequired",
    10019,
    422,
    "Would remove or omit the record's default-language name.",
)
DuplicateItemInRequest = _error(
    "DuplicateItemInRequest",
    10020,
    422,
    "A bulk item repeats a key used earlier in the same request.",
)
InternalError = _error(
    "InternalError",
    10021,
    500,
    "Unexpected failure.",
    "An unexpected error occurred. Quote the request id when reporting it.",
)
IdempotentRequestInProgress = _error(
    "IdempotentRequestInProgress",
    10022,
    409,
    "A request with the same Idempotency-Key is still running.",
)
IdempotencyKeyReused = _error(
    "IdempotencyKeyReused", 10023, 422, "Same Idempotency-Key with a different body."
)
ServiceUnavailable = _error(
    "ServiceUnavailable",
    10030,
    503,
    "The database is unreachable or busy for the moment; retry after Retry-After seconds.",
    "The service is busy or a dependency is unavailable; retry after the Retry-After seconds.",
)
ChangesCursorExpired = _error(
    "ChangesCursorExpired",
    10024,
    410,
    "The change-feed cursor is older than the feed's retention; resync with a full export.",
)
NotAcceptable = _error("NotAcceptable", 10025, 406, "The Accept header excludes JSON.")

ClusterExists = _error("ClusterExists", 20004, 409, "Cluster code or source pair already used.")
ClusterMultipleFound = _error(
    "ClusterMultipleFound", 20005, 400, "The lookup matches several clusters."
)
ClusterNotFound = _error("ClusterNotFound", 20006, 404, "Cluster not found.")
ParentClusterNotFound = _error(
    "ParentClusterNotFound", 20007, 404, "The cluster in the URL of a sub-resource does not exist."
)
ClusterProductExists = _error(
    "ClusterProductExists", 20009, 409, "The product is already in this cluster."
)
ClusterProductNotFound = _error(
    "ClusterProductNotFound", 20010, 404, "The product is not in this cluster."
)
ClusterAttributeNotFound = _error(
    "ClusterAttributeNotFound", 20011, 404, "The cluster has no attribute of that name."
)
ClusterConfigExists = _error("ClusterConfigExists", 21004, 409, "Config name taken.")
ClusterConfigNotFound = _error("ClusterConfigNotFound", 21005, 404, "Cluster config not found.")
ClusterConfigSettingExists = _error(
    "ClusterConfigSettingExists", 21006, 409, "attributeName already in the config."
)
ClusterConfigSettingNotFound = _error(
    "ClusterConfigSettingNotFound", 21007, 404, "Cluster config setting not found."
)
ClusterConfigInUse = _error(
    "ClusterConfigInUse", 21008, 409, "Delete refused while clusters use the config."
)
ClusterOptionExists = _error("ClusterOptionExists", 22004, 409, "Source pair already used.")
ClusterOptionMultipleFound = _error(
    "ClusterOptionMultipleFound", 22005, 400, "The lookup matches several cluster options."
)
ClusterOptionNotFound = _error("ClusterOptionNotFound", 22006, 404, "Cluster option not found.")
OptionProductExists = _error(
    "OptionProductExists", 22007, 409, "The product is already selectable in the option."
)
OptionProductNotFound = _error(
    "OptionProductNotFound", 22008, 404, "The product is not in the option."
)
CategoryExists = _error("CategoryExists", 30004, 409, "Source pair or slug already used.")
CategoryMultipleFound = _error(
    "CategoryMultipleFound", 30005, 400, "The lookup matches several categories."
)
CategoryNotFound = _error("CategoryNotFound", 30006, 404, "Category not found.")
ParentCategoryNotFound = _error(
    "ParentCategoryNotFound", 30007, 404, "Parent, target or URL category missing."
)
CategoryNotEmpty = _error(
    "CategoryNotEmpty", 30008, 409, "Delete refused: children, products or clusters remain."
)
CategoryCycle = _error("CategoryCycle", 30009, 422, "Move under itself or a descendant.")
CategoryRelationExists = _error(
    "CategoryRelationExists", 30010, 409, "The item is already linked to the category."
)
CategoryRelationNotFound = _error(
    "CategoryRelationNotFound", 30011, 404, "The item is not linked to the category."
)
PrimaryCategoryRelation = _error(
    "PrimaryCategoryRelation", 30012, 422, "Cannot unlink an item from its primary category."
)
ProductExists = _error("ProductExists", 80004, 409, "Source pair or slug already used.")
ProductMultipleFound = _error(
    "ProductMultipleFound", 80005, 400, "The lookup matches several products."
)
ProductNotFound = _error("ProductNotFound", 80006, 404, "Product not found.")
ProductAttributeNotFound = _error(
    "ProductAttributeNotFound", 80007, 404, "The product has no attribute of that name."
)


def catalogue() -> list[type[ApiError]]:
    """Every error type, ordered by code (the /docs/errors page and the OpenAPI document)."""
    found = [v for v in globals().values() if isinstance(v, type) and issubclass(v, ApiError)]
    return sorted((e for e in found if e is not ApiError), key=lambda e: e.code)
