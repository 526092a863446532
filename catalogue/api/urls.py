from catalogue.api import views
from config.api.routing import api_path

LOOKUP = r"(?P<lookup_key>[^/]+)/(?P<lookup_value>[^/]+)"

urlpatterns = [
    api_path("products", views.ProductCollectionView, "product-list"),
    api_path(f"products/{LOOKUP}", views.ProductDetailView, "product-detail"),
    api_path(
        f"products/{LOOKUP}/translation/(?P<language>[^/]+)",
        views.ProductTranslationView,
        "product-translation",
    ),
]
