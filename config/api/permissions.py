"""Declarative scope enforcement: every route method declares its scopes; undeclared is denied."""

from __future__ import annotations

from rest_framework.exceptions import MethodNotAllowed
from rest_framework.permissions import BasePermission

from config.api.errors import InsufficientScope, Unauthorized
from config.api.exceptions import bearer_challenge


class DeclaredScopes(BasePermission):
    """Reads the scopes of the request's operation from the view's ``operations`` table."""

    def has_permission(self, request, view) -> bool:
        method = "GET" if request.method == "HEAD" else request.method
        operations = getattr(view, "operations", {})
        if method not in operations:
            # OPTIONS has a handler on every DRF view, but no route offers it: 405, not 403
            if method.lower() in view.http_method_names and hasattr(view, method.lower()):
                # A handler without a declaration is unreachable (deny by default).
                raise InsufficientScope("This route declares no scopes and is not reachable.")
            raise MethodNotAllowed(request.method)
        required = operations[method].scopes
        if not required:
            return True  # explicitly public
        if request.auth is None:
            raise Unauthorized(headers={"WWW-Authenticate": bearer_challenge()})
        granted = set(request.auth.scope.split())
        missing = [scope for scope in required if scope not in granted]
        if operations[method].any_scope and len(missing) < len(required):
            return True
        if missing:
            needed = " ".join(required)
            wanted = f"one of {needed}" if operations[method].any_scope else needed
            raise InsufficientScope(
                f"The token lacks the scope(s) {', '.join(missing)}; this route needs {wanted}.",
                headers={"WWW-Authenticate": bearer_challenge("insufficient_scope", scope=needed)},
            )
        return True


def has_scope(request, scope: str) -> bool:
    """Whether the request's token grants ``scope``: for rules finer than a route (SPEC §11,
    which items of a bulk a token may write). Views pass the answer to services as a plain
    capability; the domain layer never reads the request."""
    auth = request.auth
    return auth is not None and scope in auth.scope.split()
