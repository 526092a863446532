"""Route declarations: one table per view drives URL patterns, scope checks and OpenAPI."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.db import transaction
from django.urls import re_path
from rest_framework.views import APIView

from config.api import idempotency
from config.api.errors import ApiError, SchemaValidationException
from config.api.negotiation import JsonOnlyNegotiation
from config.api.ratelimit import request_budget
from records.context import client_id_var
from records.validation import NUL, NUL_MESSAGE, Obj


@dataclass(frozen=True)
class QueryParam:
    name: str
    schema: dict[str, Any]
    description: str = ""
    required: bool = False
    #: an ``enum`` documented in one spelling that the service takes in any letter case
    any_case: bool = False

    def accepts(self, value: str) -> bool:
        """Whether ``value`` is one of the ``enum`` (in any case when ``any_case``)."""
        choices = self.schema["enum"]
        return (value.lower() if self.any_case else value) in choices


@dataclass(frozen=True)
class Operation:
    """What one method of one route does: scopes, body, answer and the errors it can return."""

    scopes: tuple[str, ...]
    summary: str
    #: the scopes are alternatives: any one of them admits the token (the change feed: each
    #: entity's read scope, SPEC §3)
    any_scope: bool = False
    request: Obj | None = None
    response: Callable[[], dict[str, Any]] | None = None  # schema of ``data``; None: ``{}``
    many: bool = False  # ``data`` is a list with ``pagination``
    status: int = 200
    errors: tuple[type[ApiError], ...] = ()
    query: tuple[QueryParam, ...] = ()
    #: extra top-level keys of the answer: name → the function building its schema
    extra_response: dict[str, Callable[[], dict[str, Any]]] = field(default_factory=dict)
    # other statuses answered with the success shape: ``((422, "why"),)`` (bulk ``?atomic=true``)
    also: tuple[tuple[int, str], ...] = ()
    #: ``Prefer: respond-async`` is honoured: 202 with ``{"data": <this schema>}`` (a job, §21)
    job: Callable[[], dict[str, Any]] | None = None
    #: a body in these media types instead of JSON, read as a stream (imports)
    raw_request: tuple[str, ...] = ()
    #: the success answer is this media type, ``response`` the schema of one line (NDJSON)
    raw_response: str | None = None


#: methods that write: each runs in one transaction with its idempotency record
WRITE_METHODS = frozenset({"POST", "PATCH", "DELETE"})


class ApiView(APIView):
    """Base of every ``/v2/`` view: JSON only, GET/POST/PATCH/DELETE, scopes per method, the
    per-client rate limit and ``Idempotency-Key`` handling.

    A write request runs in one transaction (services' own blocks become savepoints): an answer
    of 5xx or an exception rolls all of it back, so a request that failed has written nothing,
    and the idempotency claim and stored answer commit with the write they guard.
    """

    http_method_names = ["get", "post", "patch", "delete", "head"]
    content_negotiation_class = JsonOnlyNegotiation
    operations: ClassVar[dict[str, Operation]] = {}
    tag: ClassVar[str] = ""
    #: JSON schemas of path parameters beyond a plain string (e.g. the lookup keys' enum)
    path_schemas: ClassVar[dict[str, dict[str, Any]]] = {}
    #: the view streams its body itself and claims the ``Idempotency-Key`` once it has read
    #: it (imports: the body is never held in memory); ``idempotency.claim`` is not run here
    streams_body: ClassVar[bool] = False

    @property
    def allowed_methods(self) -> list[str]:
        """The ``Allow`` header of every answer (a 405 to OPTIONS too, which CORS preflights
        turn into ``Access-Control-Allow-Methods``): the declared methods, HEAD with GET."""
        methods = list(self.operations)
        return [*methods, "HEAD"] if "GET" in methods else methods

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # content negotiation, authentication, scopes
        self.check_choice_params(request)
        self.check_no_nul(request, kwargs)
        client_id = client_id_var.get()
        request.rate_budget = request_budget(client_id)
        if not self.streams_body:
            self.idempotency_claim = idempotency.claim(request, client_id)

    def dispatch(self, request, *args, **kwargs):
        if request.method not in WRITE_METHODS:
            return super().dispatch(request, *args, **kwargs)
        self.idempotency_claim = None
        with transaction.atomic():
            response = super().dispatch(request, *args, **kwargs)
            if response.status_code >= 500 or transaction.get_rollback():
                transaction.set_rollback(True)
                return response
            if hasattr(response, "render"):
                response.render()  # a failure to render rolls the write back too
            if self.idempotency_claim is not None:
                idempotency.store(self.idempotency_claim, response)
        return response

    def check_no_nul(self, request, path_params: dict[str, Any]) -> None:
        """U+0000 in a path or query parameter is refused (PostgreSQL text cannot hold it)."""
        bad = {
            name: [NUL_MESSAGE]
            for name, value in [*path_params.items(), *request.query_params.items()]
            if NUL in str(value)
        }
        if bad:
            raise SchemaValidationException(fields=bad)

    def check_choice_params(self, request) -> None:
        """Refuse a declared query parameter outside its ``enum`` (``?language=xx``,
        ``?includeDescendants=yes``) before the view runs: some are only read when the answer
        is rendered, after a write, or not at all when no row needs them."""
        method = "GET" if request.method == "HEAD" else request.method
        operation = self.operations.get(method)
        if operation is None:
            return
        bad = {
            param.name: [f"Must be one of: {', '.join(param.schema['enum'])}."]
            for param in operation.query
            if "enum" in param.schema
            and param.name in request.query_params
            and not param.accepts(request.query_params[param.name])
        }
        if bad:
            raise SchemaValidationException(fields=bad)

    def handle_exception(self, exc):
        if isinstance(exc, idempotency.Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        budget = getattr(request, "rate_budget", None)
        if budget is not None:
            for name, value in budget.headers().items():
                response[name] = value
        return response


_ROUTES: list[tuple[str, type[ApiView]]] = []
_PARAM = re.compile(r"\(\?P<(\w+)>([^)]*)\)")
#: (route path, parameter) → its URL regex, for the OpenAPI parameter schemas
PATH_PATTERNS: dict[tuple[str, str], str] = {}


def api_path(route: str, view: type[ApiView], name: str):
    """``/v2/<route>`` answering with and without a trailing slash (no redirects)."""
    path = "/v2/" + _PARAM.sub(r"{\1}", route)
    _ROUTES.append((path, view))
    for name, pattern in _PARAM.findall(route):
        PATH_PATTERNS[(path, name)] = pattern
    return re_path(rf"^v2/{route}/?$", view.as_view(), name=name)


def api_views() -> list[tuple[str, type[ApiView]]]:
    """Every declared ``/v2/`` route with its view, in declaration order."""
    import config.urls  # noqa: F401  (declaring the URLconf fills the table)

    return list(_ROUTES)
