"""The category bulk route, kept apart from the other category routes (``taxonomy/api/urls.py``)
and included before them: ``categories/bulk/…`` must win over ``categories/{lookupKey}/…``."""

from config.api.routing import api_path
from taxonomy.api import bulk_views

urlpatterns = [
    api_path("categories/bulk/(?P<lookupKey>[^/]+)", bulk_views.CategoryBulkView, "category-bulk"),
]
