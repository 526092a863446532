"""Public documentation: the OpenAPI document, Swagger UI (local assets) and the error catalogue."""

from __future__ import annotations

import orjson
from django.http import HttpResponse
from django.shortcuts import render
from django.views import View

from config.api import errors
from config.api.exceptions import error_response
from config.api.negotiation import accepts_json, not_acceptable, quality
from config.api.openapi import build_schema

OPENAPI_JSON = "application/vnd.oai.openapi+json"


class SchemaView(View):
    http_method_names = ["get", "head"]

    def get(self, request):
        accept = request.META.get("HTTP_ACCEPT")
        if not (accepts_json(accept) or quality(accept, OPENAPI_JSON)[0] > 0):
            return error_response(not_acceptable(), request)
        base = request.build_absolute_uri("/").rstrip("/")
        return HttpResponse(
            orjson.dumps(build_schema(base)),
            content_type=OPENAPI_JSON,
        )


def swagger_page(request):
    return render(request, "docs/swagger.html")


def errors_page(request):
    rows = [
        {"code": e.code, "type": e.type_name(), "status": e.status, "description": e.description}
        for e in errors.catalogue()
    ]
    return render(request, "docs/errors.html", {"errors": rows})
