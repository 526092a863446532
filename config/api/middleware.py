"""Request plumbing that runs before any view: request id, body-size limit, access log."""

from __future__ import annotations

import logging
import re
import time
import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from config.api.context import client_id_var, request_id_var
from config.api.errors import PayloadTooLarge

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
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BYTES:
            from config.api.exceptions import error_response

            return error_response(
                PayloadTooLarge(
                    f"The request body is {length} bytes; the limit is "
                    f"{settings.MAX_REQUEST_BYTES} bytes."
                ),
                request,
            )
        return None
