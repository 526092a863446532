"""System check: every API view method declares its scopes (deny by default, made visible early)."""

from __future__ import annotations

from django.core.checks import Error, register


@register()
def api_operations_declared(app_configs, **kwargs):
    from config.api.routing import api_views

    problems = []
    for path, view in api_views():
        for method in ("get", "post", "patch", "delete"):
            if hasattr(view, method) and method.upper() not in view.operations:
                problems.append(
                    Error(
                        f"{view.__name__}.{method} on {path} declares no operation/scopes.",
                        id="api.E001",
                    )
                )
    return problems
