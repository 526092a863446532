from catalogue.api import bulk_views, views
from config.api.routing import api_path

LOOKUP = r"(?P<lookup_key>[^/]+)/(?P<lookup_value>[^/]+)"

urlpatterns = [
    api_path("products", views.ProductCollectionView, "product-list"),
    # Before products/{lookupKey}/{lookupValue}, which would otherwise take "bulk" as a key.
    api_path("products/bulk/(?P<lookupKey>[^/]+)", bulk_views.ProductBulkView, "product-bulk"),
    api_path(f"products/{LOOKUP}", views.ProductDetailView, "product-detail"),
    api_path(
        f"products/{LOOKUP}/translation/(?P<language>[^/]+)",
        views.ProductTranslationView,
        "product-translation",
    ),
    api_path(f"products/{LOOKUP}/history", views.ProductHistoryView, "product-history"),
    api_path(f"products/{LOOKUP}/attributes", views.ProductAttributesView, "product-attributes"),
    api_path(
        f"products/{LOOKUP}/attributes/(?P<attribute_name>[^/]+)",
        views.ProductAttributeView,
        "product-attribute",
    ),
]
