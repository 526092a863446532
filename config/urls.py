from django.contrib import admin
from django.urls import include, path, re_path

from config.api import docs, health, search_views
from config.api.exceptions import not_found_view
from integrations.views import ClientCredentialsTokenView, ClientRevokeTokenView, IntrospectView

handler400 = "config.api.exceptions.bad_request_view"
handler404 = "config.api.exceptions.not_found_view"
handler500 = "config.api.exceptions.server_error_view"

urlpatterns = [
    re_path(r"^oauth2/token/?$", ClientCredentialsTokenView.as_view(), name="oauth2-token"),
    re_path(r"^oauth2/revoke/?$", ClientRevokeTokenView.as_view(), name="oauth2-revoke"),
    re_path(r"^oauth2/introspect/?$", IntrospectView.as_view(), name="oauth2-introspect"),
    re_path(r"^healthz/?$", health.healthz, name="healthz"),
    re_path(r"^readyz/?$", health.readyz, name="readyz"),
    re_path(r"^v2/schema/?$", docs.SchemaView.as_view(), name="openapi-schema"),
    re_path(r"^docs/errors/?$", docs.errors_page, name="docs-errors"),
    re_path(r"^docs/?$", docs.swagger_page, name="docs"),
    path("admin/", admin.site.urls),
    path("", include("taxonomy.api.bulk_urls")),  # before any other categories/… route
    *search_views.urlpatterns(),
    path("", include("catalogue.api.urls")),
    path("", include("taxonomy.api.urls")),
    path("", include("clusters.api.urls")),
    path("", include("changes.api.urls")),
    path("", include("webhooks.api.urls")),
    path("", include("jobs.api.urls")),
    # Anything else answers the JSON 404 envelope, in DEBUG too (no HTML for API clients).
    re_path(r"^(?!admin/|static/)", not_found_view),
]
