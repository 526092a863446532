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


@register(deploy=True)
def limits_are_shared(app_configs, **kwargs):
    """SPEC §18: limits hold for the whole deployment, so their counters need Redis."""
    from django.conf import settings

    on = [
        name
        for name in (
            "RATE_LIMIT_PER_MINUTE",
            "TOKEN_FAILURES_PER_MINUTE",
            "TOKEN_REQUESTS_PER_MINUTE",
        )
        if getattr(settings, name, 0) > 0
    ]
    if not on or settings.CACHE_URL:
        return []
    return [
        Error(
            f"{', '.join(on)} {'is' if len(on) == 1 else 'are'} on but REDIS_URL is not set: "
            "each worker process would count on its own, multiplying the limits.",
            hint="Set REDIS_URL (redis://host:6379/0), or set the limits to 0 to turn them off.",
            id="api.E002",
        )
    ]
