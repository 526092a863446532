"""Request plumbing that runs before any view: request id, body-size limit, access log."""

from __future__ import annotations

import logging
import re
import time
import uuid
from io import BytesIO

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from config.api.errors import PayloadTooLarge
from records.context import client_id_var, request_id_var

logger = logging.getLogger("catalogue.access")
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestContextMiddleware:
    """Sets ``X-Request-ID``, refuses oversized bodies before reading them, logs one JSON line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SANE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        rid_token = request_id_var.set(request_id)
        cid_token = client_id_var.set("")
        started = time.perf_counter()
        try:
            response = self._limited(request) or self.get_response(request)
            response["X-Request-ID"] = request_id
            logger.info(
                "request",
                extra={
                    "requestId": request_id,
                    "clientId": client_id_var.get() or None,
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "durationMs": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            return response
        finally:
            request_id_var.reset(rid_token)
            client_id_var.reset(cid_token)

    @staticmethod
    def _limited(request: HttpRequest) -> HttpResponse | None:
        # an import streams its body to storage itself, up to its own limit (SPEC §21)
        streamed = is_import(request)
        limit = settings.MAX_IMPORT_BYTES if streamed else settings.MAX_REQUEST_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if not length and _is_chunked(request) and not streamed:
            length = _buffer_chunked_body(request, limit)
        if length > limit:
            from config.api.exceptions import error_response

            size = "over the limit" if _is_chunked(request) else f"{length} bytes"
            return error_response(
                PayloadTooLarge(f"The request body is {size}; the limit is {limit} bytes."),
                request,
            )
        return None


#: request headers a browser may send cross-origin beyond the CORS-safelisted ones
CORS_REQUEST_HEADERS = (
    "Authorization",
    "Content-Type",
    "If-Match",
    "Idempotency-Key",
    "Prefer",
    "X-Request-ID",
)
#: response headers a browser script may read beyond the CORS-safelisted ones
CORS_EXPOSED_HEADERS = (
    "ETag",
    "Location",
    "Preference-Applied",
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "WWW-Authenticate",
    "X-Request-ID",
)


class CorsMiddleware:
    """CORS for ``/v2/`` when ``CORS_ALLOWED_ORIGINS`` lists origins (off by default: the API's
    clients are servers). A preflight (OPTIONS with ``Access-Control-Request-Method``) from a
    listed origin is answered 204 with the route's methods (the view's 405 says which in
    ``Allow``) and the headers it reads; from any other origin it stays the plain 405. Actual
    responses to a listed origin name it in ``Access-Control-Allow-Origin`` and expose the API's
    headers. Tokens travel in ``Authorization``, never cookies: no credentials mode."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        allowed = settings.CORS_ALLOWED_ORIGINS
        if not allowed or not request.path.startswith("/v2/"):
            return response
        origin = request.headers.get("Origin", "")
        listed = origin in allowed
        preflight = (
            request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers
        )
        if listed and preflight and response.status_code == 405 and response.has_header("Allow"):
            methods = response["Allow"]
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Methods"] = methods
            response["Access-Control-Allow-Headers"] = ", ".join(CORS_REQUEST_HEADERS)
            response["Access-Control-Max-Age"] = str(settings.CORS_MAX_AGE)
        elif listed:
            response["Access-Control-Expose-Headers"] = ", ".join(CORS_EXPOSED_HEADERS)
        if listed:
            response["Access-Control-Allow-Origin"] = origin
        patch_vary_headers(response, ("Origin",))
        return response


def is_import(request: HttpRequest) -> bool:
    """``POST /v2/imports``: a body the view streams to storage (never buffered here)."""
    return request.method == "POST" and request.path.rstrip("/") == "/v2/imports"


def _is_chunked(request: HttpRequest) -> bool:
    return "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()


def _buffer_chunked_body(request: HttpRequest, limit: int) -> int:
    """A ``Transfer-Encoding: chunked`` body has no Content-Length, and Django would read it as
    empty. When the server says the input ends by itself (gunicorn's ``wsgi.input_terminated``),
    read at most ``limit + 1`` bytes: more is refused with 413 without reading the rest; less
    becomes an ordinary body with its length, so chunked clients work like any other."""
    if not request.META.get("wsgi.input_terminated"):
        return 0
    stream = request.META["wsgi.input"]
    chunks: list[bytes] = []
    total = 0
    while total <= limit:
        chunk = stream.read(min(64 * 1024, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total <= limit:
        request.META["CONTENT_LENGTH"] = str(total)
        request._stream = LimitedStream(BytesIO(b"".join(chunks)), total)
    return total
