"""The one place that turns exceptions into the error envelope of SPEC §4."""

from __future__ import annotations

import logging
import sys

import orjson
from django.conf import settings
from django.core.exceptions import (
    DisallowedHost,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
)
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf

from config.api import errors
from config.api.negotiation import JSON, PROBLEM_JSON, not_acceptable, wants_problem_details
from records.context import request_id_var

logger = logging.getLogger("catalogue.errors")


def more_info_url(request: HttpRequest | None, code: int) -> str:
    path = f"/docs/errors#{code}"
    if request is None:
        return path
    try:
        return request.build_absolute_uri(path)
    except DisallowedHost:  # the answer to that very Host header: no absolute URL to build
        return path


def error_body(exc: errors.ApiError, request: HttpRequest | None) -> dict:
    body = exc.as_dict()
    body["moreInfo"] = more_info_url(request, exc.code)
    body["requestId"] = getattr(request, "request_id", None) or request_id_var.get()
    return {"error": body}


def problem_details(exc: errors.ApiError, request: HttpRequest | None) -> dict:
    """The error as RFC 9457 problem details: ``type`` is the code's entry on /docs/errors,
    ``title`` the catalogue's description of the type (the same for every occurrence),
    ``detail`` this occurrence's message; ``code``, ``requestId`` and ``fields`` as in the
    envelope, as extension members."""
    body = error_body(exc, request)["error"]
    problem = {
        "type": body["moreInfo"],
        "title": exc.description or exc.type_name(),
        "status": exc.status,
        "detail": " ".join(body["messages"]),
        "code": exc.code,
        "requestId": body["requestId"],
    }
    if request is not None:
        problem["instance"] = request.path
    if "fields" in body:
        problem["fields"] = body["fields"]
    return problem


def error_response(exc: errors.ApiError, request: HttpRequest | None) -> HttpResponse:
    accept = request.META.get("HTTP_ACCEPT") if request is not None else None
    if wants_problem_details(accept):
        body, content_type = problem_details(exc, request), PROBLEM_JSON
    else:
        body, content_type = error_body(exc, request), JSON
    response = HttpResponse(orjson.dumps(body), status=exc.status, content_type=content_type)
    for name, value in exc.headers.items():
        response[name] = value
    return response


def bearer_challenge(error: str | None = None, scope: str | None = None) -> str:
    parts = ['Bearer realm="api"']
    if error:
        parts.append(f'error="{error}"')
    if scope:
        parts.append(f'scope="{scope}"')
    return ", ".join(parts)


#: SQLSTATE classes of a database that is away for the moment: connection exception (08), operator
#: intervention (57P: shutting down, starting up), insufficient resources (53).
_UNAVAILABLE_SQLSTATES = ("08", "57P", "53")
#: seconds a client is told to wait before retrying a request the database could not take
DATABASE_RETRY_AFTER_SECONDS = 1


def database_unavailable(exc: Exception) -> bool:
    """True for a database that is unreachable, restarting or (SQLite) still locked after the busy
    timeout: a moment's condition that a retry gets past, not a fault of the request or the code
    (a missing table or a syntax error stays a 500)."""
    if isinstance(exc, InterfaceError):  # the connection went away under us
        return True
    if not isinstance(exc, OperationalError):
        return False
    message = str(exc).lower()
    if "database is locked" in message or "database table is locked" in message:
        return True
    cause = exc.__cause__
    if cause is None or not type(cause).__module__.startswith("psycopg"):
        return False
    sqlstate = getattr(cause, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(_UNAVAILABLE_SQLSTATES)


def to_api_error(exc: Exception, request: HttpRequest | None = None) -> errors.ApiError:
    """Map framework exceptions onto the catalogue; anything unknown becomes a 500 (10021)."""
    if isinstance(exc, errors.ApiError):
        return exc
    if database_unavailable(exc):
        # one line, no traceback: an outage must not flood the log with one per request
        logger.warning("Database unavailable: %s", str(exc).strip().splitlines()[0][:200])
        return errors.ServiceUnavailable(headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        return errors.Unauthorized(headers={"WWW-Authenticate": bearer_challenge()})
    if isinstance(exc, drf.MethodNotAllowed):
        method = getattr(request, "method", "")
        return errors.MethodNotAllowed(f"Method {method} is not allowed on this route.")
    if isinstance(exc, drf.NotAcceptable):
        return not_acceptable()
    if isinstance(exc, drf.UnsupportedMediaType):
        return errors.UnsupportedMediaType()
    if isinstance(exc, drf.ParseError):
        return errors.InvalidJSONPayload(str(exc.detail))
    if isinstance(exc, Http404 | drf.NotFound):
        return errors.NotFound("The requested resource does not exist.")
    if isinstance(exc, RequestDataTooBig):
        return errors.PayloadTooLarge("The request body is over the byte limit.")
    if isinstance(exc, drf.Throttled):
        return errors.TooManyRequests(headers={"Retry-After": str(int(exc.wait or 1))})
    if isinstance(exc, drf.ValidationError):
        return errors.SchemaValidationException(fields={"": [str(exc.detail)]})
    if isinstance(exc, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return errors.SchemaValidationException(
            fields={"query": [f"At most {limit} query parameters."]}
        )
    if isinstance(exc, DisallowedHost):
        return errors.SchemaValidationException(fields={"Host": ["This host is not served."]})
    if isinstance(exc, SuspiciousOperation):
        return errors.SchemaValidationException("The request is malformed.")
    logger.exception("Unhandled error", exc_info=exc)
    return errors.InternalError()


def api_exception_handler(exc: Exception, context: dict) -> HttpResponse:
    request = context.get("request")
    return error_response(to_api_error(exc, request), request)


@csrf_exempt  # the catch-all route: a DELETE to no route is a JSON 404, not a CSRF page
def not_found_view(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(
        errors.NotFound(f"No route matches {request.method} {request.path}."), request
    )


def bad_request_view(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """What Django refuses before any view (a ``Host`` outside ``ALLOWED_HOSTS``): the envelope,
    not Django's HTML page."""
    return error_response(to_api_error(exception or SuspiciousOperation(), request), request)


def server_error_view(request: HttpRequest) -> HttpResponse:
    # Django calls this inside its ``except`` around the view: a database outage outside the API
    # views (token endpoint, admin) is a 503 too, never a 500.
    exc = sys.exc_info()[1]
    if isinstance(exc, Exception) and database_unavailable(exc):
        return error_response(to_api_error(exc, request), request)
    return error_response(errors.InternalError(), request)
