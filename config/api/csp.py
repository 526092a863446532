"""Content-Security-Policy for the HTML pages: the admin, ``/docs/`` and ``/docs/errors``.

A small middleware rather than django-csp: the service has one fixed policy for its few HTML pages
(no nonces, no per-view policies, no report endpoint), which is one header and not worth a
dependency; Django 6.0 brings its own CSP support, which this gives way to when we move. JSON
responses need no policy (browsers do not render them as documents).

Scripts come only from our own static files (Swagger UI, the admin and jQuery UI are served
locally, nothing inline). Styles allow ``'unsafe-inline'`` because the tree admin (django-mptt) and
the admin filter template indent and space with ``style`` attributes; ``data:`` images are Swagger
UI's icons.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            response.headers.setdefault("Content-Security-Policy", POLICY)
        return response
